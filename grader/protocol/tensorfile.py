"""Tensors as safetensors bytes, written and read with torch alone, for the parent-child channel.

The format is safetensors' own: an 8-byte little-endian header length, a JSON header naming each
tensor's dtype, shape and byte range, then the raw little-endian bytes with no gaps. The
`safetensors` package runs Python-side checks on every `save` and every `load` before any
byte moves; a submission exchanges hundreds of small frames, so this module packs with one join and
unpacks with `torch.frombuffer` views of the received buffer. Reading is the parent's defence: it
accepts only the dtypes below, integer shapes and ranges that tile the data exactly, and never
builds anything but plain tensors from raw bytes (there is no pickle anywhere in the format).
"""

from __future__ import annotations

import json
import math
import struct
import sys
from typing import Any

import torch

LENGTH = struct.Struct("<Q")
MAX_HEADER_BYTES = 100 * 2**20

DTYPES: dict[str, torch.dtype] = {
    "BOOL": torch.bool,
    "U8": torch.uint8,
    "I8": torch.int8,
    "I16": torch.int16,
    "U16": torch.uint16,
    "I32": torch.int32,
    "U32": torch.uint32,
    "I64": torch.int64,
    "U64": torch.uint64,
    "F16": torch.float16,
    "BF16": torch.bfloat16,
    "F32": torch.float32,
    "F64": torch.float64,
}
CODES = {dtype: code for code, dtype in DTYPES.items()}


class TensorFileError(ValueError):
    """Bytes that are not a safetensors blob of the accepted dtypes."""


def packable(tensor: torch.Tensor) -> bool:
    """Whether `pack` can write `tensor`'s dtype."""
    return tensor.dtype in CODES


def pack(tensors: dict[str, torch.Tensor]) -> bytes:
    """The safetensors bytes of `tensors` (CPU, any strides); largest elements first, so that every
    tensor starts at a multiple of its element size, as the safetensors package writes them."""
    entries = sorted(tensors.items(), key=lambda kv: (-kv[1].element_size(), kv[0]))
    header: dict[str, Any] = {}
    parts: list[Any] = []
    offset = 0
    for name, tensor in entries:
        flat = tensor.detach().resolve_conj().resolve_neg().contiguous().reshape(-1)
        data = flat.view(torch.uint8).numpy()
        header[name] = {
            "dtype": CODES[tensor.dtype],
            "shape": list(tensor.shape),
            "data_offsets": [offset, offset + data.nbytes],
        }
        parts.append(data)
        offset += data.nbytes
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return b"".join([LENGTH.pack(len(text)), text, *parts])


def unpack(blob: bytes | bytearray) -> dict[str, torch.Tensor]:
    """The tensors in a safetensors blob; raises TensorFileError for anything malformed.

    The tensors share the memory of a writable `blob` (a `bytearray`), each its own disjoint range;
    a tensor whose range is not aligned to its element size is copied out instead."""
    if len(blob) < LENGTH.size:
        raise TensorFileError("shorter than its header length")
    (length,) = LENGTH.unpack_from(blob)
    if length > min(MAX_HEADER_BYTES, len(blob) - LENGTH.size):
        raise TensorFileError(f"header length {length} does not fit in {len(blob)} bytes")
    try:
        header = json.loads(bytes(blob[LENGTH.size : LENGTH.size + length]))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise TensorFileError(f"malformed header: {error}") from None
    if not isinstance(header, dict):
        raise TensorFileError("the header is not an object")
    start = LENGTH.size + length
    size = len(blob) - start
    entries = sorted(
        (_entry(name, fields) for name, fields in header.items() if name != "__metadata__"),
        key=lambda entry: entry[0],
    )
    expected = 0
    for begin, end, name, _, _ in entries:
        if begin != expected:
            raise TensorFileError(f"tensor {name!r} leaves a gap or overlaps another")
        expected = end
    if expected != size:
        raise TensorFileError(f"the tensors cover {expected} of {size} data bytes")
    buffer = blob if isinstance(blob, bytearray) else bytearray(blob)
    return {
        name: _view(buffer, start + begin, end - begin, dtype, shape)
        for begin, end, name, dtype, shape in entries
    }


def _entry(name: str, fields: Any) -> tuple[int, int, str, torch.dtype, list[int]]:
    if not isinstance(fields, dict):
        raise TensorFileError(f"tensor {name!r} is not described by an object")
    dtype = DTYPES.get(fields.get("dtype"))  # type: ignore[arg-type]
    shape = fields.get("shape")
    offsets = fields.get("data_offsets")
    if dtype is None:
        raise TensorFileError(f"tensor {name!r} has an unsupported dtype {fields.get('dtype')!r}")
    if not (isinstance(shape, list) and all(_natural(n) for n in shape)):
        raise TensorFileError(f"tensor {name!r} has a malformed shape")
    if not (isinstance(offsets, list) and len(offsets) == 2 and all(map(_natural, offsets))):
        raise TensorFileError(f"tensor {name!r} has malformed data offsets")
    begin, end = offsets
    itemsize = dtype.itemsize
    if end - begin != math.prod(shape) * itemsize:
        raise TensorFileError(f"tensor {name!r}: {end - begin} bytes for shape {shape}")
    return begin, end, name, dtype, shape


def _natural(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _view(
    buffer: bytearray, offset: int, nbytes: int, dtype: torch.dtype, shape: list[int]
) -> torch.Tensor:
    if nbytes == 0:
        return torch.empty(shape, dtype=dtype)
    itemsize = dtype.itemsize
    if offset % itemsize:  # written by someone else's packer: copy to an aligned buffer
        buffer, offset = bytearray(buffer[offset : offset + nbytes]), 0
    flat = torch.frombuffer(buffer, dtype=dtype, count=nbytes // itemsize, offset=offset)
    return flat.reshape(shape)


if sys.byteorder != "little":  # pragma: no cover - the format is little-endian; so are our machines
    raise ImportError("grader.protocol.tensorfile assumes a little-endian machine")

__all__ = ["CODES", "DTYPES", "TensorFileError", "pack", "packable", "unpack"]
