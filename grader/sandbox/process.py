"""A submission's code as the parent reaches it: a child process, and proxies for the objects in it.

`SubmissionProcess` forks a child from the sandbox, runs the submission's program in it one statement
at a time (a statement that raises, hangs or ends the process costs only what it defines), and turns
every request into plain data. Objects stay in the child; the parent holds `Remote` proxies that
remember how each object was made, so that after the child is restarted (because a call timed out or
ended the process) the next use remakes it in the fresh child. Every failure of student code becomes
one of the `SubmissionError`s in `errors`; a failure of ours becomes a `HarnessError`.
"""

from __future__ import annotations

import contextlib
import itertools
import threading
from dataclasses import asdict, dataclass
from typing import Any, NoReturn

from grader.errors import (
    DefinitionFailed,
    HarnessError,
    SubmissionCrashed,
    SubmissionError,
    SubmissionExited,
    SubmissionTimedOut,
    WrongReturnType,
)
from grader.intake.submission import Submission
from grader.protocol.channel import (
    BATCH_SECONDS,
    Channel,
    Handle,
    Layer,
    Opaque,
    ProtocolError,
    decode,
    encode,
)
from grader.protocol.program import Definition
from grader.sandbox.launcher import ExitStatus, Sandbox
from grader.sandbox.limits import Limits

Recipe = tuple[Any, ...]

BATCH_WAIT = BATCH_SECONDS + 0.05
"""Extra wait for an answer that comes in a batch (`grader.protocol.channel.Batch`)."""


@dataclass(frozen=True)
class PlannedCall:
    """One call of an item as `SubmissionProcess.call` takes it (see `call_many`)."""

    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    seed: int
    what: str
    timeout: float | None


@dataclass(eq=False)
class Remote:
    """An object in the child (a function, class, model, ...), known to the parent by its type name."""

    process: SubmissionProcess
    recipe: Recipe
    type: str
    key: int

    @property
    def label(self) -> str:
        """The item's name for an item, else the object's type name: used in messages."""
        return str(self.recipe[1]) if self.recipe[0] == "item" else self.type

    def __repr__(self) -> str:
        return f"<remote {self.label}>"


class SubmissionProcess:
    """One submission, running in a sandboxed child that is restarted whenever it has to be."""

    def __init__(
        self,
        sandbox: Sandbox,
        submission: Submission,
        limits: Limits | None = None,
        *,
        substitute_for: tuple[str, ...] | None = None,
    ) -> None:
        """`substitute_for=items` gives the child of these items the known-good versions of the items
        they build on (see `grader.checking.standins`), so that their mistakes do not cost `items` too."""
        self.sandbox = sandbox
        self.submission = submission
        self.limits = limits or sandbox.limits
        self.substitute_for = substitute_for
        self.generation = 0
        self.restarts = 0
        self.last_stdout = ""
        self.student_seconds = 0.0
        """Time the child reported spending inside requests (student code and probes): for benchmarks."""
        self.statement_errors: dict[int, str] = {}
        self._skip: set[int] = set()
        self._batch_loads = True
        """False once a batched load broke off: from then on every statement is answered alone."""
        self._pid: int | None = None
        self._channel: Channel | None = None
        self._handles: dict[int, Handle] = {}
        self._items: dict[str, Handle | SubmissionCrashed] = {}
        """The items the current child looked up as it loaded: each one's handle, or why it has none."""
        self._lookup_items = True
        """False once a lookup during a load hung or ended the child: items are then looked up
        one request each, when first used."""
        self._keys = itertools.count(1)
        self._ids = itertools.count(1)
        self._lock = threading.RLock()

    def __enter__(self) -> SubmissionProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            self._end(grace=0.0, wait=False)

    # What the checks use

    def item(self, name: str) -> Remote:
        """The homework item `name`; raises MissingDefinition, BrokenDefinition or DefinitionFailed."""
        definition = self.submission.require(name)
        with self._lock:
            self._ensure_started()
            for index, statement in enumerate(self.submission.program.statements):
                here = (statement.cell, statement.line) == (definition.cell, definition.line)
                if here and index in self.statement_errors:
                    raise DefinitionFailed(
                        name, statement.cell, statement.line, self.statement_errors[index]
                    )
            remote = Remote(self, ("item", name), "?", next(self._keys))
            try:
                handle = self._materialize(remote)
            except SubmissionCrashed as error:
                raise DefinitionFailed(
                    name,
                    definition.cell,
                    definition.line,
                    f"left no `{name}`: {error.error_message}",
                ) from None
            remote.type = handle.type
            return remote

    def call(
        self,
        target: Remote,
        *args: Any,
        what: str | None = None,
        timeout: float | None = None,
        seed: int = 0,
        **kwargs: Any,
    ) -> Any:
        """`target(*args, **kwargs)` in the child; objects that are not data come back as Remotes."""
        if target.process is not self:
            return target.process.call(
                target, *args, what=what, timeout=timeout, seed=seed, **kwargs
            )
        return self._new_value(
            ("call", target, args, kwargs, seed), what or f"{target.label}(...)", timeout
        )

    def call_many(self, target: Remote, calls: list[PlannedCall]) -> list[Any]:
        """Make `calls` of `target` in order, with one request: each call's outcome, in order, as
        `call` would return it, or the `SubmissionError` it raises. That error is the last outcome:
        the child makes no call after one that fails. Each call keeps its own time limit (give or
        take `BATCH_WAIT`). The answers come in batches, so a timeout or an exit may be given to a
        call made just before the one that hung or ended the process (within `BATCH_SECONDS`, with
        the same limit): a caller that needs to know which one makes that call alone (as a
        property check that fails on its script is run again by Hypothesis)."""
        if target.process is not self:
            return target.process.call_many(target, calls)
        outcomes: list[Any] = []
        if not calls:
            return outcomes
        with self._lock:
            try:
                self._ensure_started()
                handle = self._materialize(target)
                limits = [c.timeout or self.limits.call_seconds for c in calls]
                specs = [
                    [[handle, c.args, c.kwargs], c.seed, limit]
                    for c, limit in zip(calls, limits, strict=True)
                ]
                request_id = self._send("calls", [specs], what=calls[0].what, seed=0, batch=True)
                for call, limit in zip(calls, limits, strict=True):
                    value = self._answer(
                        "call", request_id, what=call.what, timeout=limit + BATCH_WAIT
                    )
                    if isinstance(value, Handle):
                        recipe = ("call", target, call.args, call.kwargs, call.seed)
                        remote = Remote(self, recipe, value.type, next(self._keys))
                        self._handles[remote.key] = value
                        value = remote
                    outcomes.append(value)
            except SubmissionError as error:
                outcomes.append(error)
            except BaseException:
                self._end(grace=0.0)  # answers may be left unread: never reuse this channel
                raise
        return outcomes

    def method(
        self,
        target: Remote,
        name: str,
        *args: Any,
        what: str | None = None,
        timeout: float | None = None,
        seed: int = 0,
        **kwargs: Any,
    ) -> Any:
        """`target.name(*args, **kwargs)` in the child."""
        if target.process is not self:
            return target.process.method(
                target, name, *args, what=what, timeout=timeout, seed=seed, **kwargs
            )
        recipe = ("method", target, name, args, kwargs, seed)
        return self._new_value(recipe, what or f"{target.label}.{name}(...)", timeout)

    def attribute(self, target: Remote, name: str, *, what: str | None = None) -> Any:
        """`target.name` in the child."""
        if target.process is not self:
            return target.process.attribute(target, name, what=what)
        return self._new_value(("getattr", target, name), what or f"{target.label}.{name}", None)

    def probe(
        self,
        name: str,
        target: Remote,
        *,
        what: str,
        timeout: float | None = None,
        seed: int = 0,
        **options: Any,
    ) -> Any:
        """Run the probe `name` (see `grader.child.queries`) on `target` with `options`, in `target`'s child."""
        if target.process is not self:
            return target.process.probe(
                name, target, what=what, timeout=timeout, seed=seed, **options
            )
        args = [name, target, options]
        return self._request("probe", args, what=what, timeout=timeout, seed=seed)

    # Requests

    def _request_for(self, recipe: Recipe) -> tuple[str, list[Any], int]:
        """The request (op, args, seed) that makes the object a recipe describes."""
        op, *rest = recipe
        if op == "item":
            return op, [_definition_fields(self.submission.require(rest[0]))], 0
        if op in ("call", "method"):
            return op, list(rest[:-1]), rest[-1]
        return op, list(rest), 0

    def _new_value(self, recipe: Recipe, what: str, timeout: float | None) -> Any:
        op, args, seed = self._request_for(recipe)
        value = self._request(op, args, what=what, timeout=timeout, seed=seed)
        if isinstance(value, Handle):
            remote = Remote(self, recipe, value.type, next(self._keys))
            self._handles[remote.key] = value
            return remote
        return value

    def _materialize(self, remote: Remote) -> Handle:
        """The handle of `remote` in the current child, remade from its recipe if need be."""
        if remote.key in self._handles:
            return self._handles[remote.key]
        if remote.recipe[0] == "item" and remote.recipe[1] in self._items:
            found = self._items[remote.recipe[1]]
            if isinstance(found, SubmissionCrashed):
                raise found
            self._handles[remote.key] = found
            return found
        op, args, seed = self._request_for(remote.recipe)
        value = self._request(op, args, what=f"remaking {remote.type}", timeout=None, seed=seed)
        if not isinstance(value, Handle):
            raise HarnessError(f"remaking {remote.type} gave {type(value).__name__}, not an object")
        self._handles[remote.key] = value
        return value

    def _request(
        self, op: str, args: list[Any], *, what: str, timeout: float | None, seed: int
    ) -> Any:
        with self._lock:
            self._ensure_started()
            resolved = self._resolve(args)
            return self._exchange(
                op, resolved, what=what, timeout=timeout or self.limits.call_seconds, seed=seed
            )

    def _resolve(self, value: Any) -> Any:
        if isinstance(value, Remote):
            if value.process is not self:
                raise HarnessError("a remote object was passed to another submission's process")
            return self._materialize(value)
        if isinstance(value, list):
            return [self._resolve(v) for v in value]
        if isinstance(value, tuple):
            return tuple(self._resolve(v) for v in value)
        if isinstance(value, dict):
            return {k: self._resolve(v) for k, v in value.items()}
        return value

    def _exchange(self, op: str, args: list[Any], *, what: str, timeout: float, seed: int) -> Any:
        request_id = self._send(op, args, what=what, seed=seed)
        return self._answer(op, request_id, what=what, timeout=timeout)

    def _send(self, op: str, args: list[Any], *, what: str, seed: int, batch: bool = False) -> int:
        assert self._channel is not None
        request_id = next(self._ids)
        tensors: dict[str, Any] = {}
        header = {"id": request_id, "op": op, "args": encode(args, tensors), "seed": seed}
        if batch:
            header["batch"] = True
        try:
            self._channel.send(header, tensors)
        except OSError as error:
            self._broken(what, error)
        return request_id

    def _answer(self, op: str, request_id: int, *, what: str, timeout: float) -> Any:
        """The child's next answer (to request `request_id`), within `timeout` seconds."""
        assert self._channel is not None
        try:
            self._channel.sock.settimeout(timeout)
            response, blob = self._channel.answer()
        except TimeoutError:
            self._end(grace=0.0)
            raise SubmissionTimedOut(what, timeout) from None
        except (ProtocolError, OSError) as error:
            self._broken(what, error)
        if response.get("id") != request_id:
            self._end(grace=0.0)
            raise SubmissionExited(what, "it sent an answer to a question the grader did not ask")
        self.last_stdout = str(response.get("stdout", ""))
        seconds = response.get("seconds")
        if isinstance(seconds, int | float) and 0 <= seconds <= timeout:  # as reported by the child
            self.student_seconds += seconds
        if not response.get("ok"):
            if "protocol_error" in response:
                raise HarnessError(f"the child refused {op}: {response['protocol_error']}")
            failure = response.get("error") or {}
            raise SubmissionCrashed(
                what,
                str(failure.get("type", "an error")),
                str(failure.get("message", "")),
                str(failure.get("traceback", "")),
            )
        try:
            return decode(response.get("value"), blob)
        except ProtocolError as error:
            self._end(grace=0.0)
            raise SubmissionExited(
                what, f"it sent an answer the grader cannot read ({error})"
            ) from None

    def _broken(self, what: str, error: Exception) -> NoReturn:
        status = self._end(grace=0.5)
        how = status.describe() if status else f"the channel broke ({error})"
        raise SubmissionExited(what, how) from None

    # The child's life

    def _ensure_started(self) -> None:
        if self._channel is not None:
            return
        while True:
            pid, sock = self.sandbox.spawn()
            self._pid, self._channel = pid, Channel(sock)
            self._handles.clear()
            self._items.clear()
            self.generation += 1
            if self._load():
                return

    def _load(self) -> bool:
        """Run the program's statements, set up the stand-ins and look up the items; False when the
        child had to be restarted (start over).

        One `load` request carries it all; the child answers once per statement, so each
        statement still has its own time limit and its own error, without a round trip each; then
        once for the stand-ins, and once per item this child grades (each of the submission's
        items, or the ones it stands in for), looked up as `item` would: `_materialize` takes them
        from `_items`."""
        pending = [
            (index, statement)
            for index, statement in enumerate(self.submission.program.statements)
            if index not in self._skip
        ]
        fields = [
            {**asdict(s), "names": list(s.names), "decorators": list(s.decorators)}
            for _, s in pending
        ]
        substitute = None
        if self.substitute_for is not None:
            from grader.checking import (
                standins,  # not in the student kit, which makes no such child
            )

            source, targets = standins.source_for(list(self.substitute_for))
            substitute = {"source": source, "targets": targets}
        defined = self.submission.definitions
        graded_here = self.substitute_for or tuple(defined)
        lookups = [name for name in graded_here if name in defined] if self._lookup_items else []
        definitions = [_definition_fields(defined[name]) for name in lookups]
        batched = self._batch_loads
        request_id = self._send(
            "load",
            [fields, substitute, definitions],
            what="loading the program",
            seed=0,
            batch=batched,
        )
        timeout = self.limits.statement_seconds + (BATCH_WAIT if batched else 0.0)
        for index, statement in pending:
            try:
                self._answer("load", request_id, what=f"cell {statement.cell}", timeout=timeout)
            except SubmissionCrashed as error:
                self.statement_errors[index] = f"raised {error.error_type}: {error.error_message}"
            except (SubmissionTimedOut, SubmissionExited) as error:
                if batched:
                    # A batch may hold the answers of statements that ended before the one that
                    # hung or ended the process: start over, one answer per statement, to know which.
                    self._batch_loads = False
                    self._end(grace=0.0)
                    return False
                if isinstance(error, SubmissionTimedOut):
                    self.statement_errors[index] = f"did not finish within {error.seconds:g} s"
                else:
                    self.statement_errors[index] = f"ended the process: {error.how}"
                self._skip.add(index)
                return False
        if substitute is not None:
            what = "setting up the grader's stand-ins"
            try:
                self._answer("substitute", request_id, what=what, timeout=timeout)
            except SubmissionCrashed as error:
                raise HarnessError(f"{what} failed: {error}") from None
        for name in lookups:
            try:
                found = self._answer("item", request_id, what=f"looking up {name}", timeout=timeout)
            except SubmissionCrashed as error:
                self._items[name] = error
                continue
            except (SubmissionTimedOut, SubmissionExited):
                # Student code (a decorator's class) hung or ended the child: start over, and look
                # each item up when it is used, as its own request, so that only its checks fail.
                self._lookup_items = False
                self._end(grace=0.0)
                return False
            if not isinstance(found, Handle):
                raise HarnessError(f"looking up {name} gave {type(found).__name__}, not an object")
            self._items[name] = found
        return True

    def _end(self, grace: float, *, wait: bool = True) -> ExitStatus | None:
        """Stop the child (if any); the next request starts a fresh one."""
        status = None
        if self._channel is not None:
            with contextlib.suppress(OSError):
                self._channel.sock.close()
            self._channel = None
        if self._pid is not None:
            status = self.sandbox.stop(self._pid, grace=grace, wait=wait)
            self._pid = None
            self.restarts += 1
        self._handles.clear()
        return status


def _definition_fields(definition: Definition) -> dict[str, Any]:
    """An item's definition as the child's `item` request takes it."""
    return {**asdict(definition), "decorators": list(definition.decorators)}


class StudentItem:
    """A homework item as a check uses it: call it like the student's function or class.

    After a call times out or ends the process, later calls of the same item fail at once with the
    same error instead of waiting out the limit again (Hypothesis would otherwise retry it while
    shrinking).
    """

    def __init__(self, process: SubmissionProcess, name: str) -> None:
        self.process = process
        self.name = name
        self.script: Any = None
        """While a property check replays: its `grader.replay.scripts.Script`, which sees every call."""
        self._remote: Remote | None = None
        self._poison: SubmissionError | None = None

    @property
    def remote(self) -> Remote:
        if self._remote is None:
            self._remote = self.process.item(self.name)
        return self._remote

    def __call__(
        self, *args: Any, what: str | None = None, timeout: float | None = None, **kwargs: Any
    ) -> Any:
        if self._poison is not None:
            raise self._poison
        seed = int(kwargs.pop("seed", 0))
        call = PlannedCall(args, kwargs, seed, what or f"{self.name}(...)", timeout)
        try:
            if self.script is not None:
                found, outcome = self.script.take(call)
                if found and isinstance(outcome, SubmissionError):
                    raise outcome
                if found:
                    return outcome
            return self.process.call(
                self.remote, *args, what=call.what, timeout=timeout, seed=seed, **kwargs
            )
        except (SubmissionTimedOut, SubmissionExited) as error:
            self._poison = error
            raise

    @property
    def poisoned(self) -> bool:
        """Whether a call timed out or ended the process (later calls fail at once)."""
        return self._poison is not None


def expect_tensor(value: Any, what: str) -> Any:
    """`value` when it is a plain torch.Tensor; raises WrongReturnType naming what it is instead."""
    import torch

    if isinstance(value, torch.Tensor):
        return value
    raise WrongReturnType(what, "a torch.Tensor", describe_value(value))


def describe_value(value: Any) -> str:
    """A student-readable description of a value's type ("a list", "None", "a numpy.ndarray")."""
    if value is None:
        return "None (is a `return` missing?)"
    if isinstance(value, Opaque):
        if value.tensor_subclass:
            return f"a tensor of type {value.type} (a subclass of torch.Tensor, not a plain tensor)"
        return f"a value of type {value.type}"
    if isinstance(value, Remote):
        return f"a {value.type} object"
    if isinstance(value, Layer | Handle):
        return "an object"
    article = "an" if type(value).__name__[0] in "aeiou" else "a"
    return f"{article} {type(value).__name__}"


__all__ = [
    "PlannedCall",
    "Remote",
    "StudentItem",
    "SubmissionProcess",
    "describe_value",
    "expect_tensor",
]
