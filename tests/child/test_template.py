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


# What one child leaves behind


def test_a_module_a_child_writes_beside_its_folder_is_not_imported_by_the_next(sandbox) -> None:
    """Children share the folder above their working directories; the template's working
    directory is not on their `sys.path`, so a planted module is not the next student's import."""
    if sandbox.isolation.mode != "bubblewrap":
        pytest.skip("writes beside its folder: only inside bubblewrap's private /tmp")
    plant = submission(
        "import os\n\ndef corr2d(X, K):\n"
        "    path = os.path.join(os.path.dirname(os.getcwd()), 'planted_by_a_student.py')\n"
        "    try:\n"
        "        with open(path, 'w') as f:\n"
        "            f.write('VALUE = 666')\n"
        "    except PermissionError:\n"  # as nobody (a root grader), /tmp is not writable
        "        return 0\n"
        "    return 1\n"
    )
    use = submission(
        "def corr2d(X, K):\n    try:\n        import planted_by_a_student\n"
        "    except ImportError:\n        return 0\n    return planted_by_a_student.VALUE\n"
    )
    with SubmissionProcess(sandbox, plant) as process:
        process.call(process.item("corr2d"), 1, 2)
    with SubmissionProcess(sandbox, use) as process:
        assert process.call(process.item("corr2d"), 1, 2) == 0


def test_a_file_a_child_leaves_beside_its_folder_is_gone_for_the_next(sandbox) -> None:
    """Inside bubblewrap, /tmp is the sandbox's own: what a child left there beside its working
    directory (say, a fake dataset where `../data` points) is removed when it stops."""
    if sandbox.isolation.mode != "bubblewrap":
        pytest.skip("the template clears only bubblewrap's private /tmp")
    leave = submission(
        "import os\n\ndef corr2d(X, K):\n"
        "    path = os.path.join(os.path.dirname(os.getcwd()), 'data', 'left.txt')\n"
        "    try:\n"
        "        os.makedirs(os.path.dirname(path), exist_ok=True)\n"
        "        with open(path, 'w') as f:\n"
        "            f.write('x')\n"
        "    except PermissionError:\n"  # as nobody (a root grader), /tmp is not writable
        "        return None\n"
        "    return path\n"
    )
    look = submission("import os\n\ndef corr2d(X, K):\n    return os.path.exists(X)\n")
    with SubmissionProcess(sandbox, leave) as process:
        left = process.call(process.item("corr2d"), 1, 2)
    if left is None:
        assert os.geteuid() == 0
        return
    with SubmissionProcess(sandbox, look) as process:
        assert process.call(process.item("corr2d"), left, 0) is False


def test_a_child_cannot_read_the_memory_of_its_template_or_of_the_next_child(sandbox) -> None:
    """Children of a grader without root share its user: were the template traceable, one could
    rewrite it (or the child forked ahead for the next student) through /proc/PID/mem."""
    peek = submission(
        "import os\n\ndef corr2d(X, K):\n"
        "    readable = []\n"
        "    for pid in [os.getppid()] + [int(p) for p in os.listdir('/proc') if p.isdigit()]:\n"
        "        if pid == os.getpid():\n"
        "            continue\n"
        "        try:\n"
        "            with open(f'/proc/{pid}/environ', 'rb') as f:\n"
        "                f.read(1)\n"
        "            readable.append(pid)\n"
        "        except OSError:\n"
        "            pass\n"
        "    return readable\n"
    )
    if sandbox.isolation.mode != "bubblewrap":
        pytest.skip("the weak levels share the host's processes: any of the grader's user")
    with SubmissionProcess(sandbox, peek) as process:
        readable = process.call(process.item("corr2d"), 1, 2)
    # PID 1 is bubblewrap's own init, which holds nothing of another student's.
    assert set(readable) <= {1}, readable


def test_a_childs_working_directory_goes_with_it(sandbox) -> None:
    leave = submission(
        "import os\n\ndef corr2d(X, K):\n"
        "    with open('left.txt', 'w') as f:\n        f.write('x')\n"
        "    return os.path.abspath('left.txt')\n"
    )
    look = submission("import os\n\ndef corr2d(X, K):\n    return os.path.exists(X)\n")
    with SubmissionProcess(sandbox, leave) as process:
        left = process.call(process.item("corr2d"), 1, 2)
    with SubmissionProcess(sandbox, look) as process:
        assert process.call(process.item("corr2d"), left, 0) is False


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_what_a_child_left_running_detached_is_killed_without_a_pid_namespace() -> None:
    """At the rlimits level there is no PID namespace to sweep: a process the child detached (a
    double fork and `setsid`) is re-parented to the template, which kills it with the child."""
    detach = submission(
        "import os, time\n\ndef corr2d(X, K):\n"
        "    r, w = os.pipe()\n"
        "    middle = os.fork()\n"
        "    if middle == 0:\n"
        "        os.setsid()\n"
        "        if os.fork() == 0:\n"
        "            os.write(w, str(os.getpid()).encode())\n"
        "            time.sleep(60)\n"  # bounded: it exits on its own after a minute
        "        os._exit(0)\n"
        "    os.waitpid(middle, 0)\n"
        "    return int(os.read(r, 32))\n"
    )
    isolation = Isolation("rlimits", drop_to_nobody=False, own_pid_namespace=False)
    with Sandbox(TEST_LIMITS, isolation) as box:
        with SubmissionProcess(box, detach) as process:
            stray = process.call(process.item("corr2d"), 1, 2)
            assert _alive(stray)

        assert _wait_for(lambda: not _alive(stray))


def test_the_template_survives_stopping_a_child_it_reaped_already(monkeypatch) -> None:
    """A child that ended by itself may be reaped at the next spawn, before the parent asks to
    stop it: the template answers with how it ended instead of failing."""
    from grader.child import template

    monkeypatch.setattr(template, "_sweep_or_kill_strays", lambda spare, sweep: None)
    monkeypatch.setattr(template, "_kill_group", lambda pid: None)
    import subprocess
    import sys

    pid = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"]).pid
    _, raw = os.waitpid(pid, 0)  # as `_reap` would at a spawn
    monkeypatch.setitem(template._REAPED, pid, raw)

    assert template._stop(pid, 0.0, {}, sweep=False) == {"exitcode": 3, "by_grader": False}


def test_a_template_that_stopped_answering_is_replaced_at_the_next_spawn(monkeypatch) -> None:
    """A child that shares the template's user can stop it (SIGSTOP); the next student's child
    comes from a fresh template rather than from a wait that ends in "not graded"."""
    from grader.sandbox import launcher

    monkeypatch.setattr(launcher, "SPAWN_SECONDS", 2.0)
    program = submission("def corr2d(X, K):\n    return X + K")
    isolation = Isolation("rlimits", drop_to_nobody=False, own_pid_namespace=False)
    with Sandbox(TEST_LIMITS, isolation) as box:
        with SubmissionProcess(box, program) as process:
            assert process.call(process.item("corr2d"), 1, 2) == 3
        stopped = box.versions["pid"]
        os.kill(stopped, signal.SIGSTOP)

        with SubmissionProcess(box, program) as process:
            assert process.call(process.item("corr2d"), 2, 3) == 5

        assert box.versions["pid"] != stopped
        assert _wait_for(lambda: not _alive(stopped))
