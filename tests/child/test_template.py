"""The template: its rehearsal starts no thread, and children forked ahead wait as root until handed out."""

import os
import signal
import time

import pytest

from grader.child.template import NOBODY
from grader.intake.submission import parse_submission
from grader.sandbox.isolation import Isolation
from grader.sandbox.launcher import Sandbox
from grader.sandbox.process import SubmissionProcess
from tests.conftest import TEST_LIMITS


def submission(source: str):
    return parse_submission(source.encode(), "s.py")


def test_the_templates_rehearsal_starts_no_thread() -> None:
    """The template rehearses the channel before it forks; a thread started there (OpenMP's pool,
    say) would make every fork unsafe."""
    import subprocess
    import sys

    script = (
        "import os, torch, grader.child.serve\n"
        "from grader.child.template import _rehearse_the_channel\n"
        "before = len(os.listdir('/proc/self/task'))\n"
        "_rehearse_the_channel()\n"
        "print(before, len(os.listdir('/proc/self/task')))\n"
    )
    env = {**os.environ, "OMP_NUM_THREADS": "4"}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env)

    before, after = map(int, out.stdout.split())
    assert after == before


# Children forked ahead


def _children_of(pid: int) -> dict[int, int]:
    """{child pid: its real uid} for the live children of `pid` (same PID namespace only)."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{entry}/status") as status:
                uid = next(int(line.split()[1]) for line in status if line.startswith("Uid:"))
        except (OSError, StopIteration):
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found[int(entry)] = uid
    return found


def _wait_for(condition, seconds=10.0):
    deadline = time.monotonic() + seconds
    while not (value := condition()) and time.monotonic() < deadline:
        time.sleep(0.02)
    return value


@pytest.mark.skipif(os.geteuid() != 0, reason="leaving root for nobody needs root")
def test_a_child_forked_ahead_waits_as_root_and_becomes_nobody_when_handed_out() -> None:
    isolation = Isolation("rlimits", drop_to_nobody=True, own_pid_namespace=False)
    program = submission("def corr2d(X, K):\n    return X + K")
    with Sandbox(TEST_LIMITS, isolation) as box:
        template = box.versions["pid"]
        waiting = _wait_for(lambda: _children_of(template))
        assert list(waiting.values()) == [0]  # forked ahead, not yet anyone's

        with SubmissionProcess(box, program) as process:
            assert process.call(process.item("corr2d"), 1, 2) == 3
            children = _wait_for(
                lambda: len(_children_of(template)) == 2 and _children_of(template)
            )
            assert children[next(iter(waiting))] == NOBODY  # the one handed out
            (spare,) = (pid for pid, uid in children.items() if pid not in waiting)
            assert children[spare] == 0  # the next one, waiting

        os.kill(spare, signal.SIGKILL)  # a child that died while waiting is never handed out
        _wait_for(lambda: spare not in _children_of(template))
        with SubmissionProcess(box, program) as process:
            assert process.call(process.item("corr2d"), 2, 3) == 5
            assert process.statement_errors == {}
