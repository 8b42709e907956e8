"""Resource limits for a submission's child process, and where each setting came from.

Time limits are enforced by the parent (it kills the child's whole process group); memory, process
count, file size and CPU time are rlimits the child sets on itself right after the fork, before any
student code runs.
"""

from __future__ import annotations

import resource
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

    def describe(self) -> str:
        return (
            f"{self.call_seconds:g} s per call, {self.memory_bytes / 2**30:g} GiB memory, "
            f"{self.processes} processes"
        )


def apply_rlimits(limits: Limits) -> None:
    """Set this process's rlimits (called in the child, before student code runs)."""
    current_vm = _virtual_memory_bytes()
    _lower(resource.RLIMIT_AS, current_vm + limits.memory_bytes)
    _lower(resource.RLIMIT_NPROC, limits.processes)
    _lower(resource.RLIMIT_FSIZE, limits.file_bytes)
    _lower(resource.RLIMIT_CPU, limits.cpu_seconds)
    _lower(resource.RLIMIT_CORE, 0)


def _lower(which: int, value: int) -> None:
    _soft, hard = resource.getrlimit(which)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    resource.setrlimit(which, (value, value if hard == resource.RLIM_INFINITY else hard))


def _virtual_memory_bytes() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0
