"""The tensor blob of the channel: safetensors' format, written and read without the package."""

import json
import struct

import pytest
import torch
from safetensors.torch import load as safetensors_load
from safetensors.torch import save as safetensors_save

from grader.protocol.tensorfile import TensorFileError, pack, unpack

TENSORS = {
    "image": torch.arange(12.0).reshape(3, 4).t(),  # not contiguous
    "scalar": torch.tensor(2.5, dtype=torch.float64),
    "empty": torch.zeros(0, 3),
    "mask": torch.tensor([True, False, True]),
    "half": torch.arange(5, dtype=torch.bfloat16),
    "index": torch.tensor([[1, -2]], dtype=torch.int64),
    "byte": torch.tensor([7], dtype=torch.uint8),
}


def assert_same(got: dict, expected: dict) -> None:
    assert sorted(got) == sorted(expected)
    for name, tensor in expected.items():
        assert got[name].dtype == tensor.dtype, name
        assert got[name].shape == tensor.shape, name
        assert torch.equal(got[name], tensor), name


def test_tensors_roundtrip_with_dtype_shape_and_values() -> None:
    assert_same(unpack(bytearray(pack(TENSORS))), TENSORS)


def test_the_bytes_are_safetensors_both_ways() -> None:
    assert_same(safetensors_load(pack(TENSORS)), TENSORS)
    theirs = {k: v.contiguous() for k, v in TENSORS.items()}
    assert_same(unpack(safetensors_save(theirs)), theirs)


def test_unpacked_tensors_do_not_share_values() -> None:
    tensors = unpack(bytearray(pack({"a": torch.zeros(3), "b": torch.ones(3)})))
    tensors["a"].add_(5)

    assert tensors["b"].tolist() == [1.0, 1.0, 1.0]


def test_a_range_not_aligned_to_its_element_size_is_copied_out() -> None:
    header = {
        "flag": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]},
        "value": {"dtype": "F32", "shape": [1], "data_offsets": [1, 5]},
    }

    tensors = unpack(blob(header, b"\x01" + struct.pack("<f", 1.5)))

    assert tensors["value"].tolist() == [1.5]
    assert tensors["flag"].tolist() == [1]


def blob(header: dict, data: bytes) -> bytes:
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + data


F32 = {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (b"\x01", "shorter than its header length"),
        (struct.pack("<Q", 2**40) + b"{}", "does not fit"),
        (blob([1, 2], b""), "not an object"),
        (struct.pack("<Q", 3) + b"{x}", "malformed header"),
        (blob({"t": {**F32, "dtype": "PICKLE"}}, bytes(8)), "unsupported dtype"),
        (blob({"t": {**F32, "shape": [-2]}}, bytes(8)), "malformed shape"),
        (blob({"t": {**F32, "shape": [True, 2]}}, bytes(8)), "malformed shape"),
        (blob({"t": {**F32, "data_offsets": [0]}}, bytes(8)), "malformed data offsets"),
        (blob({"t": {**F32, "shape": [3]}}, bytes(8)), "8 bytes for shape"),
        (blob({"t": {**F32, "data_offsets": [4, 12]}}, bytes(12)), "leaves a gap"),
        (blob({"a": F32, "b": F32}, bytes(8)), "overlaps"),
        (blob({"t": F32}, bytes(12)), "cover 8 of 12"),
        (blob({"t": "F32"}, bytes(8)), "not described by an object"),
    ],
)
def test_malformed_blobs_are_refused(raw: bytes, problem: str) -> None:
    with pytest.raises(TensorFileError, match=problem):
        unpack(raw)
