"""The channel between the parent and a child: plain data only, tensors as safetensors, frames
refused before they are read."""

import json
import socket
import struct

import pytest
import torch

from grader.intake.submission import parse_submission
from grader.protocol.channel import (
    Channel,
    ChannelClosed,
    Layer,
    Opaque,
    ProtocolError,
    decode,
    encode,
)


def submission(source: str):
    return parse_submission(source.encode(), "s.py")


# The channel


def roundtrip(value):
    tensors: dict = {}
    return decode(json.loads(json.dumps(encode(value, tensors))), tensors)


def test_values_roundtrip_as_plain_data() -> None:
    value = [1, 2.5, "x", None, True, (1, (2, 3)), {"a": torch.Size([2, 3])}, torch.float64]

    assert roundtrip(value) == value


def test_tensors_roundtrip_through_safetensors_detached_and_contiguous() -> None:
    t = torch.arange(12.0, requires_grad=True).reshape(3, 4).t()

    back = roundtrip(t)

    assert torch.equal(back, t.detach())
    assert not back.requires_grad


def test_a_tensor_subclass_is_described_never_sent() -> None:
    class Sneaky(torch.Tensor):
        pass

    value = roundtrip(torch.zeros(2).as_subclass(Sneaky))

    assert value == Opaque(f"{__name__}.{Sneaky.__qualname__}", tensor_subclass=True)


@pytest.mark.parametrize(
    "data",
    [
        {"$pickle": "gASV"},
        {"$tensor": 3},
        {"a": 1, "b": 2, "c": 3},
        {"$dtype": "Tensor"},
        {"$tuple": 5},
    ],
)
def test_decode_refuses_anything_but_the_documented_forms(data) -> None:
    with pytest.raises(ProtocolError):
        decode(data, {})


def test_oversized_frames_are_refused_before_they_are_read() -> None:
    a, b = socket.socketpair()
    a.sendall(struct.pack(">QQ", 10, 2**40))

    with pytest.raises(ProtocolError, match="frame too large"):
        Channel(b).receive()
    a.close()
    b.close()


def test_a_closed_channel_is_reported() -> None:
    a, b = socket.socketpair()
    a.close()

    with pytest.raises(ChannelClosed):
        Channel(b).receive()


def test_blobs_that_are_not_safetensors_are_refused() -> None:
    a, b = socket.socketpair()
    header = b'{"id": 1}'
    a.sendall(struct.pack(">QQ", len(header), 8) + header + b"\x80\x04K\x01.\x00\x00\x00")

    with pytest.raises(ProtocolError, match="malformed tensors"):
        Channel(b).receive()


def test_layer_specs_roundtrip() -> None:
    spec = Layer("LazyConv2d", (1,), (("kernel_size", 3), ("padding", (1, 2))))

    assert roundtrip(spec) == spec
