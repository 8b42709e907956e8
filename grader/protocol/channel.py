"""The data-only channel between the trusted parent and a submission's child process.

A frame is a JSON header and an optional safetensors blob: `>QQ` (header length, blob length), the
header (UTF-8 JSON), then the blob. Values are JSON scalars, lists, and single-key tagged objects:
`{"$tuple": [...]}`, `{"$dict": [[key, value], ...]}`, `{"$tensor": "t0"}` (an entry of the blob),
`{"$size": [...]}`, `{"$dtype": "float32"}`, `{"$handle": 3, "type": "LeNet"}` (an object that stays in
the child), `{"$layer": {...}}` (a torch layer for the child to build) and `{"$object": {"type": ...}}`
(anything else, described by its type only). Nothing is ever pickled: the blob is in the safetensors
format, read by `grader.protocol.tensorfile`, which builds plain tensors from raw bytes.

A child sends the answers of a `load` or `calls` request (one per statement or call) in frames of
`{"batch": [answer, ...]}` with one blob for all of them (`Batch`); `Channel.answer` hands them out
one at a time. Both sides use this module, and the parent treats every frame as hostile: a frame's
sizes, and the number of values its header can hold, are capped before anything is parsed (so what
the parent holds stays bounded however the child writes its socket); `decode` accepts only the forms
above, nested at most `MAX_DEPTH` deep (`TooDeep` otherwise), and gives valid Unicode; and
`Channel.answer` waits for a whole answer until one deadline, not for each read in turn (a child
that drips a byte at a time cannot stretch a call's time limit). Torch is imported lazily.
"""

from __future__ import annotations

import json
import socket
import struct
import time
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from grader.protocol.text import clean

if TYPE_CHECKING:
    import torch

HEADER = struct.Struct(">QQ")
MAX_HEADER_BYTES = 16 * 2**20
MAX_HEADER_VALUES = 2_000_000
"""At most this many `[`, `{` and `,` in a header: an upper bound of the values it holds, counted
before parsing. Parsed, such a header takes at most a few hundred megabytes; tensors travel in the
blob, so honest answers (numbers, short lists, type names) stay far below."""
MAX_DEPTH = 32
"""Values nest at most this deep; a deeper one is described by its type (`encode`), refused (`decode`)."""
MAX_CAPTURED_CHARS = 64 * 1024
"""A child sends at most this much of a call's stdout (and of its stderr); the parent holds no more."""
MAX_BLOB_BYTES = 2 * 2**30
BATCH_SECONDS = 0.01
"""How long a child holds answers of a `load` or `calls` request before it sends them (`Batch`)."""
BATCH_BYTES = 2**20
MAX_BATCH = 10_000


class ProtocolError(Exception):
    """A frame that breaks the protocol: too large, cut short, malformed, or of the wrong form."""


def frame(header: Any, tensors: dict[str, torch.Tensor] | None = None) -> bytes:
    """One frame as `Channel` sends it: the lengths (`HEADER`), the JSON header, the tensors'
    safetensors blob (none when there are no tensors)."""
    blob = b""
    if tensors:
        from grader.protocol.tensorfile import pack

        blob = pack(tensors)
    text = json.dumps(header, allow_nan=True).encode()
    return HEADER.pack(len(text), len(blob)) + text + blob


class ChannelClosed(ProtocolError):
    """The other side closed the channel (for the parent: the child exited or was killed)."""


class TooDeep(ProtocolError):
    """A value nested deeper than `MAX_DEPTH`: the answer is refused, the channel stays usable."""


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


def encode(
    value: Any, tensors: dict[str, torch.Tensor], handles: Any = None, depth: int = 0
) -> Any:
    """`value` as JSON-ready data; tensors go to `tensors`. `handles(obj) -> Handle` keeps objects.
    A container nested deeper than `MAX_DEPTH` is described by its type only."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if depth >= MAX_DEPTH and isinstance(value, list | tuple | dict):
        deep = f"{type(value).__name__} nested more than {MAX_DEPTH} levels deep"
        return {"$object": {"type": deep, "tensor_subclass": False}}
    depth += 1
    if isinstance(value, list):
        return [encode(v, tensors, handles, depth) for v in value]
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
        return {"$tuple": [encode(v, tensors, handles, depth) for v in value]}
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {"$dict": [[k, encode(v, tensors, handles, depth)] for k, v in value.items()]}
    if isinstance(value, torch.dtype):
        return {"$dtype": str(value).removeprefix("torch.")}
    if type(value) in (torch.Tensor, torch.nn.Parameter) and value.layout == torch.strided:
        from grader.protocol.tensorfile import packable

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


def decode(data: Any, tensors: dict[str, torch.Tensor], depth: int = 0) -> Any:
    """The value `encode` made, its strings valid Unicode; raises ProtocolError for anything else,
    TooDeep for a value nested deeper than `MAX_DEPTH`."""
    if isinstance(data, str):
        return clean(data)
    if data is None or isinstance(data, bool | int | float):
        return data
    if depth >= MAX_DEPTH and (
        isinstance(data, list) or (isinstance(data, dict) and not _CONTAINERS.isdisjoint(data))
    ):
        raise TooDeep(f"a value nested more than {MAX_DEPTH} levels deep")
    depth += 1
    if isinstance(data, list):
        return [decode(v, tensors, depth) for v in data]
    if not (isinstance(data, dict) and len(data) in (1, 2)):
        raise ProtocolError(f"unexpected value of type {type(data).__name__}")
    tag = next(iter(data))
    body = data[tag]
    try:
        if tag == "$tuple":
            return tuple(decode(v, tensors, depth) for v in _list(body))
        if tag == "$dict":
            return {_str(k): decode(v, tensors, depth) for k, v in _list(body)}
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
                tuple(decode(_list(body["args"]), tensors, depth)),
                tuple((_str(k), decode(v, tensors, depth)) for k, v in _list(body["kwargs"])),
            )
        if tag == "$object":
            return Opaque(_str(body["type"]), bool(body.get("tensor_subclass", False)))
    except (KeyError, TypeError, ValueError) as error:
        raise ProtocolError(f"malformed {tag} value: {error}") from None
    raise ProtocolError(f"unknown tag {tag!r}")


_CONTAINERS = frozenset({"$tuple", "$dict", "$layer"})


def _list(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise ProtocolError(f"expected a list, got {type(value).__name__}")
    return value


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise ProtocolError(f"expected a string, got {type(value).__name__}")
    return clean(value, 1000)


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
        self._held: deque[tuple[dict[str, Any], dict[str, torch.Tensor]]] = deque()

    def answer(
        self, deadline: float | None = None
    ) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
        """The next answer: from the batch last received while it lasts, else the next frame, read
        whole before `deadline` (`time.monotonic()`; TimeoutError after it)."""
        if self._held:
            return self._held.popleft()
        header, tensors = self.receive(deadline)
        if "batch" not in header:
            return header, tensors
        answers = header["batch"]
        if not (
            isinstance(answers, list)
            and 0 < len(answers) <= MAX_BATCH
            and all(isinstance(a, dict) for a in answers)
        ):
            raise ProtocolError("malformed batch of answers")
        self._held.extend((a, tensors) for a in answers)
        return self._held.popleft()

    def send(self, header: dict[str, Any], tensors: dict[str, torch.Tensor] | None = None) -> None:
        self.sock.sendall(frame(header, tensors))

    def receive(
        self, deadline: float | None = None
    ) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
        """One frame, read whole before `deadline` (none: as long as it takes)."""
        header_len, blob_len = HEADER.unpack(self._read(HEADER.size, deadline))
        if header_len > MAX_HEADER_BYTES or blob_len > self.max_blob:
            raise ProtocolError(f"frame too large ({header_len} + {blob_len} bytes)")
        text = self._read(header_len, deadline)
        if text.count(b"[") + text.count(b"{") + text.count(b",") > MAX_HEADER_VALUES:
            raise ProtocolError(f"an answer of more than {MAX_HEADER_VALUES:,} values")
        try:
            header = json.loads(text)
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
            raise ProtocolError(f"malformed header: {error}") from None
        if not isinstance(header, dict):
            raise ProtocolError("header is not an object")
        tensors: dict[str, torch.Tensor] = {}
        if blob_len:
            from grader.protocol.tensorfile import TensorFileError, unpack

            try:
                tensors = unpack(self._read(blob_len, deadline))
            except (TensorFileError, RuntimeError) as error:
                raise ProtocolError(f"malformed tensors: {error}") from None
        return header, tensors

    def _read(self, n: int, deadline: float | None = None) -> bytearray:
        buffer = bytearray(n)
        view = memoryview(buffer)
        done = 0
        while done < n:
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError("the deadline passed")
                self.sock.settimeout(left)
            got = self.sock.recv_into(view[done:], min(n - done, 2**20))
            if not got:
                raise ChannelClosed("the channel was closed")
            done += got
        return buffer


class Batch:
    """The answers of one `load` or `calls` request, sent together: whenever the oldest has waited
    `BATCH_SECONDS` (checked as each is added) or they hold `BATCH_BYTES` of tensors, and at the end.

    The parent waits for each answer as long as its request's time limit allows, plus
    `BATCH_SECONDS` and a margin; so a request is only held back behind answers of requests with
    the same limit (`before`): one that runs to its limit then ends the parent's wait neither
    before nor much after the limit. Each answer's tensors are copied as it is added (the next
    call may change them in place) into one dict under keys unique to the batch, so that
    `encode(value, batch.tensors, ...)` can write there. With `hold=False` every answer goes at
    once, in a frame of its own (the parent then knows which request was running when the child
    hung or ended).
    """

    def __init__(self, channel: Channel, *, hold: bool = True) -> None:
        self.channel = channel
        self.hold = hold
        self.answers: list[dict[str, Any]] = []
        self.tensors: dict[str, torch.Tensor] = {}
        self._since = 0.0
        self._limit: object = None
        self._bytes = 0

    def before(self, limit: object) -> None:
        """Call before starting a request with time limit `limit`."""
        if self.answers and limit != self._limit:
            self.flush()

    def add(self, answer: dict[str, Any], started: float, added: list[str], limit: object) -> None:
        """Hold `answer` to a request started at `started` (`time.perf_counter()`) with time limit
        `limit`; `added` names the tensors its value put in `self.tensors`."""
        if not self.hold:
            self.answers.append(answer)
            self.flush()
            return
        for key in added:
            tensor = self.tensors[key] = self.tensors[key].clone()
            self._bytes += tensor.numel() * tensor.element_size()
        if not self.answers:
            self._since, self._limit = started, limit
        self.answers.append(answer)
        if time.perf_counter() - self._since >= BATCH_SECONDS or self._bytes >= BATCH_BYTES:
            self.flush()

    def flush(self) -> None:
        if self.answers:
            self.channel.send({"batch": self.answers}, self.tensors)
        self.answers, self.tensors, self._bytes = [], {}, 0
