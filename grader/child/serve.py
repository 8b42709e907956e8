"""The untrusted side: a submission's child process answers the parent's requests about student code.

It runs the program's statements one request at a time, keeps every object it makes (models, layers)
in a table of handles, and sends back only protocol data: values, tensors, handles and type names.
Whatever the student's code does here (patching torch, printing, exiting) can change only what this
process sends, and the parent trusts none of it. This module imports the protocol, the execution
helpers, the probes and our d2l module; never `reference`, the checks, or scoring.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import operator
import sys
import time
from collections.abc import Callable
from typing import Any

from grader.child import namespace_guard as dictversion
from grader.child import queries as probes
from grader.child.execution import (
    execute_statement,
    find_item,
    install_stand_ins,
    student_frames,
)
from grader.child.operations import OperationRecorder
from grader.child.seeding import seed_everything
from grader.protocol.channel import (
    MAX_CAPTURED_CHARS,
    Batch,
    Channel,
    ChannelClosed,
    Handle,
    Layer,
    ProtocolError,
    decode,
    encode,
)
from grader.protocol.program import Definition, Statement


class _CappedText(io.StringIO):
    """A stdout/stderr stand-in that keeps at most MAX_CAPTURED_CHARS characters."""

    def write(self, text: str) -> int:
        room = MAX_CAPTURED_CHARS - self.tell()
        if room > 0:
            super().write(text[:room])
        return len(text)


class ChildState:
    """The namespace student code runs in, and the objects the parent holds handles to."""

    def __init__(self) -> None:
        self.namespace: dict[str, Any] = {
            "__name__": "__submission__",
            "__builtins__": __builtins__,
        }
        self.objects: dict[int, Any] = {}
        self.ids: dict[int, int] = {}
        self.flags = 0

    def handle(self, obj: Any) -> Handle:
        key = id(obj)
        if key not in self.ids:
            self.ids[key] = len(self.objects) + 1
            self.objects[self.ids[key]] = obj
        return Handle(self.ids[key], type(obj).__qualname__)

    def lookup(self, handle: Handle) -> Any:
        try:
            return self.objects[handle.id]
        except KeyError:
            raise ProtocolError(f"unknown handle {handle.id}") from None

    def resolve(self, value: Any) -> Any:
        """Arguments from the parent: handles become their objects, layer specs become layers."""
        if isinstance(value, Handle):
            return self.lookup(value)
        if isinstance(value, Layer):
            return probes.build_layer(value)
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if isinstance(value, tuple):
            return tuple(self.resolve(v) for v in value)
        if isinstance(value, dict):
            return {k: self.resolve(v) for k, v in value.items()}
        return value


class Restorer:
    """Puts back what student code changed in the modules and classes the protocol relies on.

    A student may patch `torch.allclose`, `torch.Tensor.__eq__` or `builtins.isinstance`: that cannot
    fool the parent, which compares values itself, but it could break this process's own encoding of
    later answers and cost other items. So after each request the attributes of these namespaces are
    restored to what they were when the child started.
    """

    def __init__(self, *targets: Any) -> None:
        self.saved = [(target, dict(vars(target))) for target in targets]
        self._fast = [
            (vars(target), tuple(saved), tuple(saved.values()), len(saved))
            for target, saved in self.saved
        ]
        # Where dict versions can be read, a namespace whose version has not moved since the
        # last look needs no scan (see grader.child.namespace_guard).
        self._versions = dictversion.watch([vars(target) for target in targets])
        self._seen = [self._versions.read(i) for i in range(len(targets))] if self._versions else []

    def restore(self) -> None:
        versions = self._versions
        for index, ((target, saved), fast) in enumerate(zip(self.saved, self._fast, strict=True)):
            if versions is not None and versions.read(index) == self._seen[index]:
                continue
            if self._changed(target, *fast):
                self._put_back(target, saved)
            if versions is not None:
                self._seen[index] = versions.read(index)

    @staticmethod
    def _put_back(target: Any, saved: dict[str, Any]) -> None:
        current = vars(target)
        # Names added to a class may override inherited behaviour; names added to a module
        # (such as submodules imported lazily) are left alone.
        added = [n for n in current if n not in saved] if isinstance(target, type) else []
        for name in added:
            with contextlib.suppress(AttributeError, TypeError):
                delattr(target, name)
        for name, value in saved.items():
            if current.get(name, _MISSING) is not value:
                with contextlib.suppress(AttributeError, TypeError):
                    setattr(target, name, value)

    @staticmethod
    def _changed(
        target: Any, current: Any, names: tuple[str, ...], values: tuple[Any, ...], size: int
    ) -> bool:
        """Whether anything saved was replaced or removed (or, on a class, added): a C-speed scan."""
        if len(current) == size:
            # Nothing added or removed (the usual case): unchanged exactly when the same keys hold
            # the same values in the same order, which two passes over the dict tell without a
            # lookup per name (a removal and an addition would move or replace a key).
            return any(map(operator.is_not, values, current.values())) or any(
                map(operator.is_not, names, current)
            )
        if isinstance(target, type):
            return True
        now = map(current.get, names, itertools.repeat(_MISSING))
        return any(map(operator.is_not, values, now))


_MISSING = object()


def _protected_namespaces() -> list[Any]:
    import builtins
    import json
    import socket

    import numpy
    import torch
    import torch.nn.functional
    import torch.testing

    from grader.protocol import channel as protocol
    from grader.protocol import tensorfile

    return [
        builtins,
        json,
        socket,
        socket.socket,
        numpy,
        torch,
        torch.Tensor,
        torch.nn.Module,
        torch.nn.functional,
        torch.testing,
        protocol,
        tensorfile,
        probes,
        sys.modules[__name__],
    ]


_PREPARED: list[Restorer] = []


def prepare() -> Restorer:
    """Install our d2l, turn on deterministic algorithms and snapshot the protected namespaces.

    The warm template calls this once before it forks (it runs no student code, so the snapshot is
    the pristine state): each child then starts with it in hand instead of copying about 3,000
    attributes itself, once per child."""
    if not _PREPARED:
        import torch

        import d2lcompat

        d2lcompat.install()
        # This imports torch._inductor.config and with it dynamo (hundreds of modules). Keep
        # it here, before the fork: every child that trains needs dynamo anyway (building a torch
        # optimiser imports it), and would otherwise pay that import itself.
        torch.use_deterministic_algorithms(True, warn_only=True)
        _PREPARED.append(Restorer(*_protected_namespaces()))
    return _PREPARED[0]


def serve(channel: Channel) -> None:
    """Answer requests until the parent closes the channel."""
    state = ChildState()
    restorer = prepare()
    while True:
        try:
            request, tensors = channel.receive()
        except ChannelClosed:
            return
        if request.get("op") == "load":
            _load(state, request, channel, restorer)
            continue
        if request.get("op") == "calls":
            _calls(state, request, tensors, channel, restorer)
            continue
        response, out_tensors = _answer(state, request, tensors, restorer)
        channel.send(response, out_tensors)


def _load(state: ChildState, request: dict[str, Any], channel: Channel, restorer: Restorer) -> None:
    """Run the program's statements in order, answering each as its own `exec` request would be
    answered (same id): the parent times every statement without a round trip per statement.
    Then, as their own requests would be answered: the grader's stand-ins for the items given
    (`substitute`, if any), and the lookup of each item definition given (`item`), so that a
    child is ready in one round trip. With `"batch": true` the answers are held for a while
    (`grader.protocol.channel.Batch`). Args: `[statements, substitute or None, items]`."""
    args = request.get("args")
    if not (isinstance(args, list) and len(args) == 3):
        channel.send({"id": request.get("id"), "ok": False, "protocol_error": "load needs 3 args"})
        return
    statements, substitute, items = args
    if not (isinstance(statements, list) and isinstance(items, list)):
        channel.send({"id": request.get("id"), "ok": False, "protocol_error": "load needs lists"})
        return
    batch = Batch(channel, hold=bool(request.get("batch")))
    requests = [("exec", fields) for fields in statements]
    if substitute is not None:
        requests.append(("substitute", substitute))
    requests += [("item", definition) for definition in items]
    for op, fields in requests:
        one = {"id": request.get("id"), "op": op, "args": [fields], "seed": 0}
        _reply(batch, state, one, {}, restorer, None)
    batch.flush()


def _calls(
    state: ChildState,
    request: dict[str, Any],
    tensors: dict[str, Any],
    channel: Channel,
    restorer: Restorer,
) -> None:
    """Make several calls in order, answering each as its own `call` request would be answered
    (same id), and stop after the first that fails: the parent asked for them in one frame. Each
    call is `[[target, args, kwargs], seed, limit]`; the limit (seconds) is the parent's, which
    enforces it: here it only decides which answers may go in one batch."""
    calls = request.get("args", [[]])[0]
    if not isinstance(calls, list):
        channel.send({"id": request.get("id"), "ok": False, "protocol_error": "calls needs a list"})
        return
    batch = Batch(channel, hold=bool(request.get("batch")))
    for fields in calls:
        if not (isinstance(fields, list) and len(fields) == 3 and isinstance(fields[1], int)):
            batch.flush()
            channel.send({"id": request.get("id"), "ok": False, "protocol_error": "bad call"})
            return
        one = {"id": request.get("id"), "op": "call", "args": fields[0], "seed": fields[1]}
        if request.get("record"):
            one["record"] = True
        if not _reply(batch, state, one, tensors, restorer, fields[2]):
            break
    batch.flush()


def _reply(
    batch: Batch,
    state: ChildState,
    request: dict[str, Any],
    tensors: dict[str, Any],
    restorer: Restorer,
    limit: object,
) -> bool:
    """Answer `request` (whose time limit is `limit`) into `batch`; whether it succeeded."""
    batch.before(limit)
    started, before = time.perf_counter(), len(batch.tensors)
    response, _ = _answer(state, request, tensors, restorer, batch.tensors)
    batch.add(response, started, list(batch.tensors)[before:], limit)
    return bool(response.get("ok"))


def _answer(
    state: ChildState,
    request: dict[str, Any],
    tensors: dict[str, Any],
    restorer: Restorer,
    out: dict[str, Any] | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The response to one request, and its tensors (added to `out` when given)."""
    out = {} if out is None else out
    stdout, stderr = _CappedText(), _CappedText()
    response: dict[str, Any] = {"id": request.get("id")}
    try:
        op = request["op"]
        seed_everything(int(request.get("seed", 0)))  # before layers are built from their specs
        run = _prepare(state, op, decode(request.get("args", []), tensors))
    except (KeyError, TypeError, ValueError, ProtocolError) as error:
        # Only a request the parent got wrong lands here; whatever student code raises, even a
        # ProtocolError of its own, is an error of the submission's (below).
        response.update(ok=False, protocol_error=str(error))
        return response, out
    recorder = OperationRecorder() if request.get("record") else None
    try:
        started = time.perf_counter()
        try:
            with (
                contextlib.redirect_stdout(stdout),
                contextlib.redirect_stderr(stderr),
                recorder if recorder is not None else contextlib.nullcontext(),
            ):
                value = run()
        finally:
            response["seconds"] = time.perf_counter() - started
            restorer.restore()
            if recorder is not None:
                response["operations"] = recorder.recorded()
        response.update(ok=True, value=encode(value, out, state.handle))
    except BaseException as error:
        restorer.restore()
        response.update(ok=False, error=describe(error))
    response["stdout"] = stdout.getvalue()
    response["stderr"] = stderr.getvalue()
    return response, out


def _prepare(state: ChildState, op: str, args: list[Any]) -> Callable[[], Any]:
    """What request `op` asks for, as a call that runs student code; everything before that call
    (reading fields, finding handles) is checked here, so that an error here is the parent's."""
    if op == "exec":
        fields = {
            **args[0],
            "names": tuple(args[0]["names"]),
            "decorators": tuple(args[0]["decorators"]),
        }
        statement = Statement(**fields)

        def run() -> None:
            state.flags = execute_statement(statement, state.namespace, state.flags)

        return run
    if op == "item":
        definition = Definition(**{**args[0], "decorators": tuple(args[0]["decorators"])})
        return lambda: state.handle(find_item(state.namespace, definition))
    if op in ("call", "method"):
        target, *name, call_args, kwargs = args
        obj = state.lookup(target)
        resolved, resolved_kwargs = state.resolve(call_args), state.resolve(kwargs)
        if op == "call":
            return lambda: obj(*resolved, **resolved_kwargs)
        return lambda: getattr(obj, name[0])(*resolved, **resolved_kwargs)
    if op == "getattr":
        target, attribute = args
        obj = state.lookup(target)
        return lambda: getattr(obj, attribute)
    if op == "probe":
        probe, target, options = args
        obj, resolved_options = state.lookup(target), state.resolve(options)
        return lambda: probes.run(probe, obj, resolved_options)
    if op == "substitute":
        source, targets = str(args[0]["source"]), dict(args[0]["targets"])
        return lambda: install_stand_ins(state.namespace, source, targets)
    if op == "ping":
        return lambda: sys.version_info[:2]
    raise ProtocolError(f"unknown op {op!r}")


def describe(error: BaseException) -> dict[str, str]:
    """The error's type, message and the student's frames of its traceback (ours are left out)."""
    text = student_frames(error, last=8)
    try:
        message = str(error)
    except BaseException:
        message = "<the error's message could not be shown>"
    return {"type": type(error).__name__, "message": message[:2000], "traceback": text[-4000:]}
