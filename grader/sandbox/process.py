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
import re
import threading
import time
from dataclasses import dataclass
from typing import Any, NoReturn

from grader.errors import (
    DefinitionFailed,
    HarnessError,
    OutOfTime,
    SubmissionCrashed,
    SubmissionError,
    SubmissionExited,
    SubmissionTimedOut,
    UnreadableAnswer,
)
from grader.intake.submission import Submission
from grader.protocol.channel import (
    MAX_CAPTURED_CHARS,
    Channel,
    ChannelClosed,
    Handle,
    ProtocolError,
    TooDeep,
    decode,
    encode,
)
from grader.protocol.text import clean
from grader.sandbox import answers
from grader.sandbox.launcher import ExitStatus, Sandbox
from grader.sandbox.limits import Budget, Limits
from grader.sandbox.loading import BATCH_WAIT, ProgramLoad, Restart, definition_fields

MAX_OPERATIONS = 256
"""The most operation names kept per recorded item (a child reports them; it cannot flood us)."""
_CELL_FILE = re.compile(r'File "<cell (\d+)>"')
"""A frame's file in the child's tracebacks (`grader.child.execution`), cited as the student finds
the cell (`Submission.cell`)."""

Recipe = tuple[Any, ...]


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
        budget: Budget | None = None,
        record: frozenset[str] = frozenset(),
    ) -> None:
        """`substitute_for=items` gives the child of these items the known-good versions of the items
        they build on (see `grader.checking.standins`), so that their mistakes do not cost `items` too."""
        self.sandbox = sandbox
        self.submission = submission
        self.limits = limits or sandbox.limits
        self.substitute_for = substitute_for
        self.budget = budget or Budget(self.limits.submission_seconds)
        """The submission's time, shared with its other children (pass the same one to each)."""
        self.record = record
        """The items whose calls the child records the torch operations of (`grader.policy.integrity`)."""
        self.operations: dict[str, set[str]] = {}
        """Per item in `record`, every torch operation its calls ran, as the child reported them."""
        self._recording: dict[int, str] = {}
        self.generation = 0
        self.restarts = 0
        self.last_stdout = ""
        self.student_seconds = 0.0
        """Time the child reported spending inside requests (student code and probes): for benchmarks."""
        self._program = ProgramLoad(submission, substitute_for)
        self._pid: int | None = None
        self._channel: Channel | None = None
        self._handles: dict[int, Handle] = {}
        self._items: dict[str, Handle | SubmissionCrashed] = {}
        """The items the current child looked up as it loaded: each one's handle, or why it has none."""
        self._keys = itertools.count(1)
        self._ids = itertools.count(1)
        self._lock = threading.RLock()

    def __enter__(self) -> SubmissionProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def statement_errors(self) -> dict[int, str]:
        """By statement index: why a statement defines nothing (it raised, hung or ended the process)."""
        return self._program.statement_errors

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
                        name,
                        self.submission.cell(statement.cell),
                        statement.line,
                        self.statement_errors[index],
                    )
            remote = Remote(self, ("item", name), "?", next(self._keys))
            try:
                handle = self._materialize(remote)
            except SubmissionCrashed as error:
                raise DefinitionFailed(
                    name,
                    self.submission.cell(definition.cell),
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
            ("call", target, args, kwargs, seed),
            what or f"{target.label}(...)",
            timeout,
            record=self._recorded_item(target),
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
                request_id = self._send(
                    "calls",
                    [specs],
                    what=calls[0].what,
                    seed=0,
                    batch=True,
                    record=self._recorded_item(target),
                )
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
        answer = self._request("probe", args, what=what, timeout=timeout, seed=seed)
        return answers.checked(name, answer, what)

    # Requests

    def _request_for(self, recipe: Recipe) -> tuple[str, list[Any], int]:
        """The request (op, args, seed) that makes the object a recipe describes."""
        op, *rest = recipe
        if op == "item":
            return op, [definition_fields(self.submission.require(rest[0]))], 0
        if op in ("call", "method"):
            return op, list(rest[:-1]), rest[-1]
        return op, list(rest), 0

    def _recorded_item(self, target: Remote) -> str | None:
        """The item `target` is, when its calls' operations are recorded."""
        if target.recipe[0] == "item" and target.recipe[1] in self.record:
            return str(target.recipe[1])
        return None

    def _new_value(
        self, recipe: Recipe, what: str, timeout: float | None, *, record: str | None = None
    ) -> Any:
        op, args, seed = self._request_for(recipe)
        value = self._request(op, args, what=what, timeout=timeout, seed=seed, record=record)
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
        self,
        op: str,
        args: list[Any],
        *,
        what: str,
        timeout: float | None,
        seed: int,
        record: str | None = None,
    ) -> Any:
        with self._lock:
            if self.budget.left() <= 0:  # no child is started for a submission out of time
                raise OutOfTime(what, self.budget.seconds)
            self._ensure_started()
            resolved = self._resolve(args)
            request_id = self._send(op, resolved, what=what, seed=seed, record=record)
            return self._answer(
                op, request_id, what=what, timeout=timeout or self.limits.call_seconds
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

    def _send(
        self,
        op: str,
        args: list[Any],
        *,
        what: str,
        seed: int,
        batch: bool = False,
        record: str | None = None,
    ) -> int:
        assert self._channel is not None
        request_id = next(self._ids)
        tensors: dict[str, Any] = {}
        header = {"id": request_id, "op": op, "args": encode(args, tensors), "seed": seed}
        if batch:
            header["batch"] = True
        if record is not None:
            header["record"] = True
            self._recording[request_id] = record
        try:
            self._channel.send(header, tensors)
        except OSError as error:
            self._broken(what, error)
        return request_id

    def _answer(self, op: str, request_id: int, *, what: str, timeout: float) -> Any:
        """The child's next answer (to request `request_id`), whole within `timeout` seconds."""
        assert self._channel is not None
        left = self.budget.left()
        started = time.monotonic()
        try:
            response, blob = self._channel.answer(deadline=started + min(timeout, left))
        except TimeoutError:
            self._end(grace=0.0)
            if left < timeout:
                raise OutOfTime(what, self.budget.seconds) from None
            raise SubmissionTimedOut(what, timeout) from None
        except (ProtocolError, OSError) as error:
            self._broken(what, error)
        finally:
            self.budget.charge(time.monotonic() - started)
        if response.get("id") != request_id:
            self._end(grace=0.0)
            raise SubmissionExited(what, "it sent an answer to a question the grader did not ask")
        self.last_stdout = clean(str(response.get("stdout", "")), MAX_CAPTURED_CHARS)
        self._note_operations(request_id, response.get("operations"))
        seconds = response.get("seconds")
        if isinstance(seconds, int | float) and 0 <= seconds <= timeout:  # as reported by the child
            self.student_seconds += seconds
        if not response.get("ok"):
            if "protocol_error" in response:
                raise HarnessError(f"the child refused {op}: {response['protocol_error']}")
            failure = response.get("error")
            if not isinstance(failure, dict):
                failure = {}
            error_type = clean(str(failure.get("type", "an error")), 200)
            message = clean(str(failure.get("message", "")), 2000)
            if error_type == "NameError":
                message = self._program.explain_missing_name(message)
            trace = _CELL_FILE.sub(
                lambda m: f'File "{self.submission.cell(int(m.group(1)))}"',
                clean(str(failure.get("traceback", "")), 4000),
            )
            raise SubmissionCrashed(what, error_type, message, trace)
        try:
            return decode(response.get("value"), blob)
        except TooDeep as error:  # the whole answer was read: the child can go on
            raise UnreadableAnswer(what, str(error)) from None
        except ProtocolError as error:
            self._unreadable(what, error)

    def _note_operations(self, request_id: int, names: object) -> None:
        """Keep the operations the child recorded for a call of a recorded item (plain strings,
        capped: the child's word, which can only lower what the rules find)."""
        item = self._recording.get(request_id)
        if item is None or not isinstance(names, list):
            return
        found = self.operations.setdefault(item, set())
        for name in names[:MAX_OPERATIONS]:
            if isinstance(name, str) and len(found) < MAX_OPERATIONS:
                found.add(clean(name, 200))

    def _unreadable(self, what: str, error: ProtocolError) -> NoReturn:
        """End the child for an answer the channel refused (whatever it wrote after that went
        nowhere); what it sent is the reason."""
        self._end(grace=0.0)
        raise SubmissionExited(
            what, f"it sent an answer the grader cannot read ({error})"
        ) from None

    def _broken(self, what: str, error: Exception) -> NoReturn:
        if isinstance(error, ProtocolError) and not isinstance(error, ChannelClosed):
            self._unreadable(what, error)  # refused before it was read whole
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
            try:
                self._items = self._program.into(self, self.limits.statement_seconds)
                return
            except Restart:
                self._end(grace=0.0)

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


__all__ = ["PlannedCall", "Remote", "SubmissionProcess"]
