"""The data-only channel between the trusted parent and a submission's child process.

A frame is a JSON header and an optional safetensors blob: `>QQ` (header length, blob length), the
header (UTF-8 JSON), then the blob. Values are JSON scalars, lists, and single-key tagged objects:
`{"$tuple": [...]}`, `{"$dict": [[key, value], ...]}`, `{"$tensor": "t0"}` (an entry of the blob),
`{"$size": [...]}`, `{"$dtype": "float32"}`, `{"$handle": 3, "type": "LeNet"}` (an object that stays in
the child), `{"$layer": {...}}` (a torch layer for the child to build) and `{"$object": {"type": ...}}`
(anything else, described by its type only). Nothing is ever pickled: the blob is in the safetensors
format, read by `grader.tensorfile`, which builds plain tensors from raw bytes.

Both sides use this module, and the parent treats every frame as hostile: sizes are capped before
anything is read, and `decode` accepts only the forms above. Torch is imported lazily.
"""

from __future__ import annotations

import json
import socket
import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

HEADER = struct.Struct(">QQ")
MAX_HEADER_BYTES = 64 * 2**20
MAX_BLOB_BYTES = 2 * 2**30


class ProtocolError(Exception):
    """A frame that breaks the protocol: too large, cut short, malformed, or of the wrong form."""


class ChannelClosed(ProtocolError):
    """The other side closed the channel (for the parent: the child exited or was killed)."""


@dataclass(frozen=True)
class Handle:
    """An object that lives in the child, named by its id and described by its type's name."""

    id: int
    type: str


@dataclass(frozen=True)
class Layer:
    """A torch layer for the child to build: `torch.nn.<type>(*args, **kwargs)`, then load `state`."""

    type: str
    args: tuple[Any, ...] = ()
    kwargs: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class Opaque:
    """A value the child could not send as data: only its type is known (e.g. a tensor subclass)."""

    type: str
    tensor_subclass: bool = False


def encode(value: Any, tensors: dict[str, torch.Tensor], handles: Any = None) -> Any:
    """`value` as JSON-ready data; tensors go to `tensors`. `handles(obj) -> Handle` keeps objects."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list):
        return [encode(v, tensors, handles) for v in value]
    if isinstance(value, Handle):
        return {"$handle": value.id, "type": value.type}
    if isinstance(value, Layer):
        return {
            "$layer": {
                "type": value.type,
                "args": encode(list(value.args), tensors),
                "kwargs": [[k, encode(v, tensors)] for k, v in value.kwargs],
            }
        }
    import torch

    if isinstance(value, torch.Size):
        return {"$size": [int(n) for n in value]}
    if isinstance(value, tuple):
        return {"$tuple": [encode(v, tensors, handles) for v in value]}
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {"$dict": [[k, encode(v, tensors, handles)] for k, v in value.items()]}
    if isinstance(value, torch.dtype):
        return {"$dtype": str(value).removeprefix("torch.")}
    if type(value) in (torch.Tensor, torch.nn.Parameter) and value.layout == torch.strided:
        from grader.tensorfile import packable

        if not packable(value):
            return {"$object": {"type": f"torch.Tensor of {value.dtype}", "tensor_subclass": False}}
        key = f"t{len(tensors)}"
        # No copy: the frame's bytes are taken when it is sent, before anything else runs.
        tensors[key] = value.detach().cpu()
        return {"$tensor": key}
    if isinstance(value, torch.Tensor):  # a subclass or a sparse tensor: described, never sent
        return {"$object": {"type": _type_name(value), "tensor_subclass": True}}
    if handles is not None:
        handle = handles(value)
        if handle is not None:
            return {"$handle": handle.id, "type": handle.type}
    return {"$object": {"type": _type_name(value), "tensor_subclass": False}}


def decode(data: Any, tensors: dict[str, torch.Tensor]) -> Any:
    """The value `encode` made; raises ProtocolError for anything else."""
    if data is None or isinstance(data, bool | int | float | str):
        return data
    if isinstance(data, list):
        return [decode(v, tensors) for v in data]
    if not (isinstance(data, dict) and len(data) in (1, 2)):
        raise ProtocolError(f"unexpected value of type {type(data).__name__}")
    tag = next(iter(data))
    body = data[tag]
    try:
        if tag == "$tuple":
            return tuple(decode(v, tensors) for v in _list(body))
        if tag == "$dict":
            return {_str(k): decode(v, tensors) for k, v in _list(body)}
        if tag == "$tensor":
            return tensors[_str(body)]
        if tag == "$size":
            import torch

            return torch.Size([_int(n) for n in _list(body)])
        if tag == "$dtype":
            import torch

            dtype = getattr(torch, _str(body))
            if not isinstance(dtype, torch.dtype):
                raise ProtocolError(f"unknown dtype {body!r}")
            return dtype
        if tag == "$handle":
            return Handle(_int(body), _str(data["type"]))
        if tag == "$layer":
            return Layer(
                _str(body["type"]),
                tuple(decode(_list(body["args"]), tensors)),
                tuple((_str(k), decode(v, tensors)) for k, v in _list(body["kwargs"])),
            )
        if tag == "$object":
            return Opaque(_str(body["type"]), bool(body.get("tensor_subclass", False)))
    except (KeyError, TypeError, ValueError) as error:
        raise ProtocolError(f"malformed {tag} value: {error}") from None
    raise ProtocolError(f"unknown tag {tag!r}")


def _list(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise ProtocolError(f"expected a list, got {type(value).__name__}")
    return value


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise ProtocolError(f"expected a string, got {type(value).__name__}")
    return value


def _int(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ProtocolError(f"expected an integer, got {type(value).__name__}")
    return value


def _type_name(value: Any) -> str:
    cls = type(value)
    module = getattr(cls, "__module__", "") or ""
    name = getattr(cls, "__qualname__", "?")
    return name if module in ("builtins", "__submission__", "") else f"{module}.{name}"


class Channel:
    """Frames over a connected stream socket. `receive` enforces the size caps before reading."""

    def __init__(self, sock: socket.socket, *, max_blob: int = MAX_BLOB_BYTES) -> None:
        self.sock = sock
        self.max_blob = max_blob

    def send(self, header: dict[str, Any], tensors: dict[str, torch.Tensor] | None = None) -> None:
        blob = b""
        if tensors:
            from grader.tensorfile import pack

            blob = pack(tensors)
        text = json.dumps(header, allow_nan=True).encode()
        self.sock.sendall(HEADER.pack(len(text), len(blob)) + text + blob)

    def receive(self) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
        header_len, blob_len = HEADER.unpack(self._read(HEADER.size))
        if header_len > MAX_HEADER_BYTES or blob_len > self.max_blob:
            raise ProtocolError(f"frame too large ({header_len} + {blob_len} bytes)")
        try:
            header = json.loads(self._read(header_len))
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
            raise ProtocolError(f"malformed header: {error}") from None
        if not isinstance(header, dict):
            raise ProtocolError("header is not an object")
        tensors: dict[str, torch.Tensor] = {}
        if blob_len:
            from grader.tensorfile import TensorFileError, unpack

            try:
                tensors = unpack(self._read(blob_len))
            except (TensorFileError, RuntimeError) as error:
                raise ProtocolError(f"malformed tensors: {error}") from None
        return header, tensors

    def _read(self, n: int) -> bytearray:
        buffer = bytearray(n)
        view = memoryview(buffer)
        done = 0
        while done < n:
            got = self.sock.recv_into(view[done:], min(n - done, 2**20))
            if not got:
                raise ChannelClosed("the channel was closed")
            done += got
        return buffer
