"""The rlimits a child sets on itself right after the fork, before any student code runs.

The limits arrive as plain numbers (`grader.sandbox.limits.Limits`, sent as JSON when the
template starts): the child imports nothing of the parent's side.
"""

from __future__ import annotations

import resource
from collections.abc import Mapping


def apply(limits: Mapping[str, float]) -> None:
    """Set this process's rlimits from a `Limits` as a dict: memory on top of what the template
    already maps, processes, file size and CPU time, and no core files."""
    current_vm = _virtual_memory_bytes()
    _lower(resource.RLIMIT_AS, current_vm + int(limits["memory_bytes"]))
    _lower(resource.RLIMIT_NPROC, int(limits["processes"]))
    _lower(resource.RLIMIT_FSIZE, int(limits["file_bytes"]))
    _lower(resource.RLIMIT_CPU, int(limits["cpu_seconds"]))
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
