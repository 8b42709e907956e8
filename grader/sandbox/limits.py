"""Resource limits for a submission's child process, and where each setting came from.

Time limits are enforced by the parent (it kills the child's whole process group); memory, process
count, file size and CPU time are rlimits the child sets on itself right after the fork, before any
student code runs (`grader.child.rlimits`, which gets these numbers as JSON).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """The limits one submission's child runs under."""

    call_seconds: float = 20.0
    """Wall-clock limit for one call into student code (a check may ask for more, e.g. training)."""
    statement_seconds: float = 10.0
    """Wall-clock limit for running one top-level statement (a def, class or import)."""
    memory_bytes: int = 3 * 2**30
    """Address space the child may add to what the warm template already maps."""
    processes: int = 64
    """Processes the child's user may run at once (enforced when the child runs as its own user)."""
    file_bytes: int = 64 * 2**20
    """Largest file the child may write (its working directory is private and temporary)."""
    cpu_seconds: int = 900
    """CPU time over the child's whole life: a backstop behind the wall-clock limits."""
    submission_seconds: float = 1800.0
    """Wall-clock time for everything one submission's children are asked, all checks together: a
    backstop, so that however many of its calls run to their limits, a submission holds a batch
    worker for at most this long (the homework's checks take seconds on a correct notebook)."""

    def describe(self) -> str:
        return (
            f"{self.call_seconds:g} s per call, {self.memory_bytes / 2**30:g} GiB memory, "
            f"{self.processes} processes"
        )


class Budget:
    """What is left of one submission's `submission_seconds`, shared by all of its children."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.spent = 0.0

    def left(self) -> float:
        return self.seconds - self.spent

    def charge(self, seconds: float) -> None:
        self.spent += seconds
