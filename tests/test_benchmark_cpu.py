"""The benchmarks' CPU accounting (benchmarks/cpu.py): a child's work is counted whether it is still
running, exited and unreaped, or reaped, and work of other processes is not."""

import os
import time

import pytest

from benchmarks.cpu import descendants_seconds, own_seconds

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="reads /proc")


def _busy(seconds: float) -> None:
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass


def _fork_busy(seconds: float, *, grandchild: bool) -> int:
    """A child that burns `seconds` of CPU (in a grandchild it reaps, when asked) and exits."""
    pid = os.fork()
    if pid == 0:
        try:
            if grandchild:
                inner = os.fork()
                if inner == 0:
                    _busy(seconds)
                    os._exit(0)
                os.waitpid(inner, 0)
            else:
                _busy(seconds)
        finally:
            os._exit(0)
    return pid


@pytest.mark.parametrize("grandchild", [False, True], ids=["child", "grandchild"])
def test_the_work_of_descendants_counts_before_and_after_they_are_reaped(grandchild):
    before = descendants_seconds()
    assert before is not None
    pid = _fork_busy(0.3, grandchild=grandchild)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # exited, not yet reaped: a zombie still holds its time
        with open(f"/proc/{pid}/stat") as stat:
            if stat.read().rsplit(")", 1)[1].split()[0] == "Z":
                break
        time.sleep(0.01)
    unreaped = descendants_seconds()
    os.waitpid(pid, 0)
    reaped = descendants_seconds()

    assert unreaped - before == pytest.approx(0.3, abs=0.1)
    assert reaped - before == pytest.approx(0.3, abs=0.1)


def test_own_work_is_not_a_descendants_work():
    before_own, before_children = own_seconds(), descendants_seconds()
    _busy(0.2)
    assert own_seconds() - before_own >= 0.19
    assert descendants_seconds() - before_children < 0.05
