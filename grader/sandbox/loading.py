"""Loading a submission's program into a fresh child, and what earlier loads of it learned.

One `load` request carries the program's statements, the stand-ins (for a child that grades items
with them) and the lookups of the items this child grades; the child answers once per statement,
so each statement keeps its own time limit and its own error without a round trip each, then once
for the stand-ins and once per item.

A load can end the child: a statement that hangs or ends the process, or a lookup that does (a
decorator's class). Then the load raises `Restart` and the next child is loaded knowing more: the
statement is skipped from then on (it costs only what it defines), a batched load that broke off
is answered one statement at a time (to know which statement it was), and items are looked up one
request each when first used (so that only their checks fail).
"""

from __future__ import annotations

import re
from dataclasses import asdict
from typing import Any, Protocol

from grader.errors import (
    HarnessError,
    OutOfTime,
    SubmissionCrashed,
    SubmissionExited,
    SubmissionTimedOut,
)
from grader.intake.submission import Submission
from grader.protocol.channel import BATCH_SECONDS, Handle
from grader.protocol.program import Definition

BATCH_WAIT = BATCH_SECONDS + 0.05
"""Extra wait for an answer that comes in a batch (`grader.protocol.channel.Batch`)."""


class Restart(Exception):
    """The load stopped the child's usefulness: end it and load the program into a fresh one."""


class Exchange(Protocol):
    """What a load needs of the child's connection (`grader.sandbox.process.SubmissionProcess`)."""

    def _send(
        self, op: str, args: list[Any], *, what: str, seed: int, batch: bool = False
    ) -> int: ...

    def _answer(self, op: str, request_id: int, *, what: str, timeout: float) -> Any: ...


class ProgramLoad:
    """How one submission's program goes into each of its children (see the module's docstring)."""

    def __init__(self, submission: Submission, stand_ins_for: tuple[str, ...] | None) -> None:
        self.submission = submission
        self.stand_ins_for = stand_ins_for
        self.statement_errors: dict[int, str] = {}
        """By statement index: why it defines nothing (it raised, hung or ended the process)."""
        self._skip: set[int] = set()
        self._batched = True
        self._lookup_items = True

    def into(
        self, child: Exchange, statement_seconds: float
    ) -> dict[str, Handle | SubmissionCrashed]:
        """Load the program into `child` (fresh); returns the items it looked up, each one's
        handle or why it has none. Raises `Restart` when the child must be replaced first."""
        pending = [
            (index, statement)
            for index, statement in enumerate(self.submission.program.statements)
            if index not in self._skip
        ]
        fields = [
            {**asdict(s), "names": list(s.names), "decorators": list(s.decorators)}
            for _, s in pending
        ]
        stand_ins = None
        if self.stand_ins_for is not None:
            from grader.checking import standins

            source, targets = standins.source_for(list(self.stand_ins_for))
            stand_ins = {"source": source, "targets": targets}
        defined = self.submission.definitions
        graded_here = self.stand_ins_for or tuple(defined)
        lookups = [name for name in graded_here if name in defined] if self._lookup_items else []
        definitions = [definition_fields(defined[name]) for name in lookups]
        batched = self._batched
        request_id = child._send(
            "load",
            [fields, stand_ins, definitions],
            what="loading the program",
            seed=0,
            batch=batched,
        )
        timeout = statement_seconds + (BATCH_WAIT if batched else 0.0)
        for index, statement in pending:
            try:
                child._answer(
                    "load", request_id, what=self.submission.cell(statement.cell), timeout=timeout
                )
            except SubmissionCrashed as error:
                self.statement_errors[index] = f"raised {error.error_type}: {error.error_message}"
            except OutOfTime:  # the submission's, not this statement's
                raise
            except (SubmissionTimedOut, SubmissionExited) as error:
                if batched:
                    self._batched = False
                    raise Restart from None
                if isinstance(error, SubmissionTimedOut):
                    self.statement_errors[index] = f"did not finish within {error.seconds:g} s"
                else:
                    self.statement_errors[index] = f"ended the process: {error.how}"
                self._skip.add(index)
                raise Restart from None
        if stand_ins is not None:
            what = "setting up the grader's stand-ins"
            try:
                child._answer("substitute", request_id, what=what, timeout=timeout)
            except SubmissionCrashed as error:
                raise HarnessError(f"{what} failed: {error}") from None
        items: dict[str, Handle | SubmissionCrashed] = {}
        for name in lookups:
            try:
                found = child._answer(
                    "item", request_id, what=f"looking up {name}", timeout=timeout
                )
            except SubmissionCrashed as error:
                items[name] = error
                continue
            except OutOfTime:
                raise
            except (SubmissionTimedOut, SubmissionExited):
                self._lookup_items = False
                raise Restart from None
            if not isinstance(found, Handle):
                raise HarnessError(f"looking up {name} gave {type(found).__name__}, not an object")
            items[name] = found
        return items

    def explain_missing_name(self, message: str) -> str:
        """A `NameError`'s message, with where the program assigned the missing name and why that
        assignment did not run (intake dropped it, or it failed here), when it did assign it."""
        found = _MISSING_NAME.match(message)
        if found is None:
            return message
        name = found.group(1)
        program = self.submission.program
        for index, statement in reversed(list(enumerate(program.statements))):
            if name in statement.names and index in self.statement_errors:
                return (
                    f"{message}: `{name}` is assigned in {self.submission.cell(statement.cell)}, "
                    f"line {statement.line}, but that statement {self.statement_errors[index]} when "
                    "the grader ran it; fix that statement."
                )
        for dropped in reversed(program.dropped):
            if name in dropped.names:
                return (
                    f"{message}: `{name}` is assigned in {self.submission.cell(dropped.cell)}, "
                    f"line {dropped.line} "
                    f"(`{dropped.excerpt}`), which the grader does not run ({dropped.reason}). "
                    f"Assign `{name}` with a plain `{name} = ...` at the top level of a cell, "
                    "outside loops, `if` and `with` blocks, or create it inside the function or "
                    "class that uses it."
                )
        return message


_MISSING_NAME = re.compile(r"name '([A-Za-z_]\w*)' is not defined")


def definition_fields(definition: Definition) -> dict[str, Any]:
    """An item's definition as the child's `item` request takes it."""
    return {**asdict(definition), "decorators": list(definition.decorators)}
