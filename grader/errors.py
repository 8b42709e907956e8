"""Exceptions raised by the grader, in two families: the submission's fault and ours.

* GraderError                 base class; its text is never shown raw to students
  * SubmissionError           the submission is at fault: costs the checks it touches, shown to the student
    * UnreadableSubmission    the file is not a notebook or Python file we can read (bad JSON, binary, ...)
    * MissingDefinition       a homework item is not defined at the top level of a code cell
    * BrokenDefinition        the cell that defines an item has a syntax error
  * HarnessError              our fault (bad fixture, broken reference): costs nothing; the check is
                              marked "not graded" and staff are told

Messages are written for students: plain sentences, second person, what happened and what to do.
"""

from __future__ import annotations


class GraderError(Exception):
    """Base class of every error the grader raises on purpose."""


class SubmissionError(GraderError):
    """The submission is at fault; the message is shown to the student."""


class UnreadableSubmission(SubmissionError):
    """A file that cannot be read as a notebook or Python source."""

    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        self.reason = reason
        super().__init__(f"{name} could not be read: {reason}")


class MissingDefinition(SubmissionError):
    """A homework item that the submission does not define."""

    def __init__(self, item: str) -> None:
        self.item = item
        super().__init__(
            f"`{item}` was not found in your notebook: define it at the top level of a code cell "
            f"(not inside another function or an `if`), with the name exactly `{item}`."
        )


class BrokenDefinition(SubmissionError):
    """A homework item whose cell could not be parsed."""

    def __init__(self, item: str, cell: int, line: int, detail: str) -> None:
        self.item = item
        self.cell = cell
        self.line = line
        super().__init__(
            f"`{item}` could not be read: code cell {cell} has a syntax error at line {line} "
            f"({detail}). Fix the cell and run it once to check."
        )


class HarnessError(GraderError):
    """The grader itself failed; the check is not graded and staff see the details."""
