"""Each batch worker on a core of its own, with its submission's child on the same core.

Grading is a conversation: the trusted parent sends a request, the child answers, hundreds of times
per submission. When two workers run unpinned on two cores, the scheduler keeps moving the four
processes between the cores and every answer waits for a wake-up on the other core, so each
submission takes longer with two workers than with one and a batch falls well short of twice as
fast. Pinned, a worker and its children hand the core to each other and the steady rate grows with
the cores (see "Scaling with workers" in benchmarks/README.md).

`claim_core` takes the first core of this process's allowed set that no other worker on this machine
holds (a lock file per core, released when the process ends, so worker pools, Ray actors and separate
grading runs share out the cores between them) and pins this process to it; the sandbox's template,
started afterwards, and every child it forks inherit the pin. With every core taken it pins nothing.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
from pathlib import Path
from typing import IO

_HELD: list[IO[bytes]] = []
_ORIGINAL: list[set[int]] = []


def claim_core(lock_dir: Path | None = None) -> int | None:
    """Pin this process to a free core and return it; None when every allowed core is taken."""
    if _HELD:  # claimed already
        return min(os.sched_getaffinity(0))
    folder = lock_dir or Path(tempfile.gettempdir())
    for core in sorted(os.sched_getaffinity(0)):
        path = folder / f"hw2-grader-core-{core}.lock"
        try:
            handle = path.open("ab")
        except OSError:
            continue  # another user's lock: treat the core as taken
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            continue
        try:
            _ORIGINAL.append(os.sched_getaffinity(0))
            os.sched_setaffinity(0, {core})
        except OSError:
            handle.close()
            return None
        _HELD.append(handle)
        return core
    return None


def release_core() -> None:
    """Give the claimed core back (unpinning this process); for tests and long-lived drivers."""
    allowed = _ORIGINAL[0] if _ORIGINAL else os.sched_getaffinity(0)
    _ORIGINAL.clear()
    while _HELD:
        handle = _HELD.pop()
        with contextlib.suppress(OSError):
            handle.close()
    with contextlib.suppress(OSError):
        os.sched_setaffinity(0, allowed)


__all__ = ["claim_core", "release_core"]
