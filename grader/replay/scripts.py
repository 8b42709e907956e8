"""Call scripts: the calls a passing property check makes, made ahead with one request per check.

A property check replayed on its planned examples (`grader.replay.plans`) calls the student's item with
arguments that depend on the examples alone, as long as the results are right. So the first time a
check passes in this process, the calls it made are kept as its script; for each later submission,
the script goes to the child in one `calls` request, and each call the check then makes takes the
next answer without a round trip, provided it is the call the script expects (same arguments and
keywords, compared by value, same seed, description and time limit). The child makes the calls in
the same order, with the same seeds and the same restoring between them, as one request each: a
passing submission is treated exactly as without a script (about 260 round trips fewer). When a
result is wrong the check fails there, while the child has gone on through the script (stopping at
the first call that raises); the check is then run through Hypothesis as before. A call that is not
the next one in the script goes to the child as usual, and so does every call of a check that
takes other fixtures of the submission, or arguments that are not plain data.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

from grader.checking.items import StudentItem
from grader.errors import SubmissionError
from grader.protocol import values
from grader.sandbox.process import PlannedCall, SubmissionProcess

_SCRIPTS: dict[int, tuple[Callable[..., Any], str, list[PlannedCall]]] = {}


class Script:
    """What a check's item calls see while the check replays: a recording, or answers made ahead."""

    def __init__(self, item: StudentItem, calls: list[PlannedCall] | None) -> None:
        self.item = item
        self.recorded: list[PlannedCall] | None = [] if calls is None else None
        self.plain = True
        self._ahead: deque[tuple[PlannedCall, Any]] = deque()
        if calls:
            outcomes = item.process.call_many(item.remote, calls)
            self._ahead.extend(zip(calls, outcomes, strict=False))

    def take(self, call: PlannedCall) -> tuple[bool, Any]:
        """(True, outcome) when `call` is the next one made ahead; else (False, None): make it."""
        if self.recorded is not None:
            self.plain = self.plain and values.is_plain(call.args) and values.is_plain(call.kwargs)
            if self.plain:
                self.recorded.append(_copy(call))
            return False, None
        if self._ahead:
            expected, outcome = self._ahead[0]
            if same_call(expected, call):
                self._ahead.popleft()
                return True, outcome
            self._ahead.clear()  # the check went its own way: the rest is not what it asks
        return False, None


def start(test: Callable[..., Any], fixtures: dict[str, Any]) -> Script | None:
    """The script for replaying `test` with these fixtures: made ahead when this process has one
    for it, else recording; None when the check uses more of the submission than one item."""
    items = [value for value in fixtures.values() if isinstance(value, StudentItem)]
    others = [v for v in fixtures.values() if isinstance(v, SubmissionProcess)]
    if len(items) != 1 or others or items[0].script is not None or items[0].poisoned:
        return None
    item = items[0]
    known = _SCRIPTS.get(id(test))
    calls = known[2] if known is not None and known[0] is test and known[1] == item.name else None
    try:
        script = Script(item, calls)
    except SubmissionError:  # the item cannot be had: the check's first call says so, as ever
        return None
    item.script = script
    return script


def finish(test: Callable[..., Any], script: Script, *, passed: bool) -> None:
    """Detach the script; keep what it recorded when the check passed."""
    script.item.script = None
    if passed and script.recorded and script.plain:
        _SCRIPTS[id(test)] = (test, script.item.name, script.recorded)


def same_call(a: PlannedCall, b: PlannedCall) -> bool:
    return (
        a.seed == b.seed
        and a.what == b.what
        and a.timeout == b.timeout
        and values.equal(a.args, b.args)
        and values.equal(a.kwargs, b.kwargs)
    )


def _copy(call: PlannedCall) -> PlannedCall:
    """The call with its tensors copied: the check may change them after the call."""
    return PlannedCall(
        values.fresh(call.args), values.fresh(call.kwargs), call.seed, call.what, call.timeout
    )


__all__ = ["Script", "finish", "same_call", "start"]
