"""Exceptions raised by the grader, in two families: the submission's fault and ours.

* GraderError                 base class; its text is never shown raw to students
  * SubmissionError           the submission is at fault: costs the checks it touches, shown to the student
    * UnreadableSubmission    the file is not a notebook or Python file we can read (bad JSON, binary, ...)
    * MissingDefinition       a homework item is not defined at the top level of a code cell
    * BrokenDefinition        the cell that defines an item has a syntax error
    * DefinitionFailed        the statement that defines an item raised, hung or ended the process
    * SubmissionCrashed       student code raised while being called
    * SubmissionTimedOut      student code ran past its time limit
      * OutOfTime             ... or past the submission's whole time budget
    * SubmissionExited        the process running student code ended (exit, crash, out of memory)
    * WrongReturnType         student code returned something other than what the check needs
    * UnreadableAnswer        student code returned a value the grader does not read (nested too deep)
  * HarnessError              our fault (bad fixture, broken reference): costs nothing; the check is
                              marked "not graded" and staff are told
  * ConfigurationError        the run cannot start as set up (a bad `HW2_GRADER_ISOLATION`, an
                              isolation this machine lacks, a missing package): `error: ...`, exit 2
    * RubricError             `rubric.toml` is invalid (in `grader.rubric`)

Internal exceptions, never shown to students nor raised out of the grader:

* `grader.protocol.channel.ProtocolError` (and `ChannelClosed`): a frame that breaks the channel's
  rules; the parent turns it into a `SubmissionExited` or a `HarnessError`. `grader.protocol` is a
  leaf that the child imports, so these do not derive from `GraderError`.
* `grader.protocol.tensorfile.TensorFileError`: tensor bytes that do not parse (a `ProtocolError`
  to the channel's readers).
* `grader.replay.cache`'s `ValueError` for a plan file that does not read back: the plan is drawn
  again.
* `grader.protocol.values.Unkeyable`: a value that cannot key the checks' memo; it is computed afresh.

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

    def __init__(self, item: str, cell: str, line: int, detail: str) -> None:
        self.item = item
        self.cell = cell
        """The cell as the student finds it (`In [12]`, or its first line)."""
        self.line = line
        super().__init__(
            f"`{item}` could not be read: {cell} has a syntax error at line {line} "
            f"({detail}). Fix the cell and run it once to check."
        )


class HarnessError(GraderError):
    """The grader itself failed; the check is not graded and staff see the details."""


class ConfigurationError(GraderError):
    """The run cannot start as configured; the message says which setting and what to do."""


class DefinitionFailed(SubmissionError):
    """An item whose defining statement raised, hung or ended the process when it ran."""

    def __init__(self, item: str, cell: str, line: int, how: str) -> None:
        self.item = item
        self.how = how
        super().__init__(f"`{item}` could not be defined: running {cell} (line {line}) {how}")


class SubmissionCrashed(SubmissionError):
    """Student code raised an exception while the grader called it."""

    def __init__(self, what: str, error_type: str, message: str, traceback: str = "") -> None:
        self.what = what
        self.error_type = error_type
        self.error_message = message
        self.traceback = traceback
        text = (
            f"{what} raised {error_type}: {message}" if message else f"{what} raised {error_type}"
        )
        if traceback:
            text += "\n" + traceback.rstrip()
        super().__init__(text)


class SubmissionTimedOut(SubmissionError):
    """Student code ran past its time limit and was stopped."""

    def __init__(self, what: str, seconds: float) -> None:
        self.what = what
        self.seconds = seconds
        super().__init__(
            f"{what} did not finish within {seconds:g} s and was stopped; look for a loop that never "
            "ends (a `while` whose condition never changes, or a counter that is never increased)."
        )


class OutOfTime(SubmissionTimedOut):
    """The submission's whole time budget is spent: what is left of it is not run."""

    def __init__(self, what: str, budget: float) -> None:
        self.what = what
        self.seconds = budget
        SubmissionError.__init__(
            self,
            f"{what} was stopped: your code has used up its {budget:g} s for the whole homework "
            "(other calls ran until their time limits first); look for loops that never end.",
        )


class SubmissionExited(SubmissionError):
    """The process running student code ended while the grader was waiting for an answer."""

    def __init__(self, what: str, how: str) -> None:
        self.what = what
        self.how = how
        super().__init__(f"the process running your code ended during {what}: {how}")


class UnreadableAnswer(SubmissionError):
    """Student code returned a value the channel refuses to carry (see `grader.protocol.channel`)."""

    def __init__(self, what: str, reason: str) -> None:
        self.what = what
        super().__init__(
            f"{what} returned {reason}, which the grader does not read: return a tensor "
            "(or the number, tuple or short list the homework asks for)."
        )


class WrongReturnType(SubmissionError):
    """Student code returned a value of a type the check cannot use."""

    def __init__(self, what: str, expected: str, got: str) -> None:
        self.what = what
        super().__init__(f"{what} returned {got}, not {expected}")
