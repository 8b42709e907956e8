"""A grading process ends without the interpreter's teardown, after its exit handlers and a flush
(grader.shutdown), and the command line and batch workers end that way (grader.cli)."""

import subprocess
import sys
import textwrap
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import pytest

from grader import cli
from grader.batch import local
from grader.batch.worker import Worker

ROOT = Path(__file__).resolve().parent.parent

# A module-level object whose destructor runs only in the interpreter's teardown, and an exit
# handler, each leaving a line in the log; stdout is written without a newline (so it is buffered).
PROGRAM = """
import atexit, sys, threading, time
from pathlib import Path
LOG = Path(sys.argv[1])

def note(line):
    with LOG.open("a") as log:
        log.write(line + "\\n")

class Teardown:
    def __del__(self):
        note("teardown")

KEPT = Teardown()
atexit.register(note, "exit handler")
sys.stdout.write("score 100/100")
{ending}
"""


def _run(tmp_path: Path, ending: str) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    log = tmp_path / "log.txt"
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM.format(ending=textwrap.dedent(ending)), str(log)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    return done, log.read_text().splitlines() if log.exists() else []


def test_an_ordinary_exit_runs_the_teardown(tmp_path: Path) -> None:
    """The control: the destructor shows when the interpreter tears down."""
    done, log = _run(tmp_path, "sys.exit(3)")
    assert (done.returncode, done.stdout) == (3, "score 100/100")
    assert log == ["exit handler", "teardown"]


def test_leave_runs_the_exit_handlers_flushes_and_skips_the_teardown(tmp_path: Path) -> None:
    done, log = _run(tmp_path, "from grader.shutdown import leave\nleave(3)")
    assert (done.returncode, done.stdout, done.stderr) == (3, "score 100/100", "")
    assert log == ["exit handler"]


def test_leave_exits_the_ordinary_way_while_another_thread_works(tmp_path: Path) -> None:
    ending = """
        from grader.shutdown import leave
        writer = threading.Thread(target=lambda: (time.sleep(0.5), note("written")))
        writer.start()
        leave(4)
    """
    done, log = _run(tmp_path, ending)
    assert done.returncode == 4
    assert log == ["written", "exit handler", "teardown"]


def test_leave_at_exit_closes_first_then_skips_the_teardown(tmp_path: Path) -> None:
    ending = """
        from grader.shutdown import leave_at_exit
        leave_at_exit(lambda: note("closed"))
        atexit.register(note, "later handler")
        sys.exit(0)
    """
    done, log = _run(tmp_path, ending)
    assert (done.returncode, done.stdout) == (0, "score 100/100")
    assert log == ["later handler", "closed"]


def test_run_closes_the_sessions_then_leaves_with_mains_code(monkeypatch) -> None:
    events: list[str] = []

    class Session:
        def __init__(self, sandbox: object) -> None:
            self.sandbox = sandbox

        def close(self) -> None:
            events.append("session closed")

    class Box:
        def close(self) -> None:
            events.append("sandbox closed")

    box = Box()
    worker = Worker(pin=False)
    worker._sandbox = box
    worker._sessions = {(): Session(box), ("-k", "lenet"): Session(box)}
    monkeypatch.setattr(local, "_WORKERS", [worker])
    monkeypatch.setattr(cli, "main", lambda: 1)

    def leave(code: int) -> None:
        events.append(f"left with {code}")
        raise SystemExit(code)

    monkeypatch.setattr(cli, "leave", leave)
    with pytest.raises(SystemExit):
        cli.run()
    assert events == ["session closed", "session closed", "sandbox closed", "left with 1"]
    assert local._WORKERS == []


def _in_worker(log: str) -> int:
    """Runs in a batch worker: an object that notes the teardown, and a session to close."""
    import os

    def note(line: str) -> None:
        with open(log, "a") as out:
            out.write(line + "\n")

    # Bound now: in the teardown, module globals (and so `open`) may be gone already.
    fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT)

    class Teardown:
        def __del__(self, write=os.write, fd=fd) -> None:  # type: ignore[no-untyped-def]
            write(fd, b"teardown\n")

    class Box:
        def close(self) -> None:
            note("sandbox closed")

    class Session:
        sandbox = Box()

        def close(self) -> None:
            note("session closed")

    sys.modules[__name__].KEPT = Teardown()  # type: ignore[attr-defined]
    [worker] = local._WORKERS
    worker.close()  # the real sandbox it launched; the stand-ins below note their closing
    worker._sandbox = Box()
    worker._sessions[()] = Session()
    return os.getpid()


def test_a_batch_worker_closes_its_sessions_and_skips_the_teardown(tmp_path: Path) -> None:
    log = tmp_path / "log.txt"
    with ProcessPoolExecutor(
        max_workers=1, mp_context=get_context("spawn"), initializer=local.start_worker
    ) as pool:
        pool.submit(_in_worker, str(log)).result(timeout=120)
    assert log.read_text().splitlines() == ["session closed", "sandbox closed"]
