"""What the checks hold of a student's item: a callable proxy (`StudentItem`), and the check that a
value that came back is what the check needs, named in a student's words when it is not."""

from __future__ import annotations

from typing import Any

from grader.errors import SubmissionError, SubmissionExited, SubmissionTimedOut, WrongReturnType
from grader.protocol.channel import Handle, Layer, Opaque
from grader.sandbox.process import PlannedCall, Remote, SubmissionProcess


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
