"""CPU time spent by this process and by every process below it, read from `/proc`: what grading
costs in CPU, whichever core it ran on and however the waits of the grading process and its
children overlapped. Wall-clock time less the student code's time (the "harness" of the wall clock)
shrinks when the two processes work side by side on two cores and grows with every wake-up; CPU
time counts each piece of work once, as a batch whose workers keep every core busy pays for it.

Linux only: elsewhere `descendants_seconds` is None. Times come in clock ticks (10 ms), so measure
over many notebooks, not one.
"""

from __future__ import annotations

import os
import resource
from pathlib import Path

PROC = Path("/proc")


def own_seconds() -> float:
    """User and system CPU seconds of this process (all its threads)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def descendants_seconds() -> float | None:
    """User and system CPU seconds of every process below this one: of each one still in /proc (a
    zombie included) its own time and the time of the children it reaped, plus the children this
    process reaped itself. None where /proc cannot be read."""
    try:
        names = [name for name in os.listdir(PROC) if name.isdigit()]
    except OSError:
        return None
    tick = os.sysconf("SC_CLK_TCK")
    below: dict[int, list[tuple[int, float]]] = {}
    for name in names:
        try:
            text = (PROC / name / "stat").read_text()
        except OSError:  # ended while we looked
            continue
        fields = text.rsplit(")", 1)[1].split()
        parent = int(fields[1])
        seconds = sum(int(value) for value in fields[11:15]) / tick  # utime stime cutime cstime
        below.setdefault(parent, []).append((int(name), seconds))
    reaped = resource.getrusage(resource.RUSAGE_CHILDREN)
    total = reaped.ru_utime + reaped.ru_stime
    pending = [os.getpid()]
    while pending:
        for pid, seconds in below.get(pending.pop(), []):
            total += seconds
            pending.append(pid)
    return total
