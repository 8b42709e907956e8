"""One pytest session for many submissions (`GradingSession`) grades each exactly as a session of
its own (`grade`) does: same checks, verdicts, messages, points and recorded data, with nothing
carried from one submission to the next."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from grader import grading
from grader.errors import HarnessError
from grader.grading import GradingSession, grade
from grader.plugin import SANDBOX
from grader.sandbox.launcher import Sandbox
from grader.scoring import total

ROOT = Path(__file__).resolve().parent.parent
SOLVED = ROOT / "submissions" / "solved.ipynb"
STUDENTS = ROOT / "submissions" / "students"
HOSTILE = ROOT / "tests" / "fixtures" / "notebooks" / "hostile"


def verdicts(book):
    return [(r.check_id, r.item, r.outcome, r.points, r.message, r.data) for r in book.results]


def test_a_session_grades_each_submission_as_grade_does(sandbox, tmp_path) -> None:
    paths = [
        STUDENTS / "carol_average_as_sum.ipynb",
        HOSTILE / "exits.ipynb",
        SOLVED,
        STUDENTS / "dave_missing_dropout.ipynb",
    ]
    alone = [
        grade(path, sandbox=sandbox, report_dir=tmp_path / f"alone{i}")
        for i, path in enumerate(paths)
    ]

    with GradingSession(sandbox) as session:
        together = [
            session.grade(path, report_dir=tmp_path / f"session{i}") for i, path in enumerate(paths)
        ]

    for path, one, other in zip(paths, alone, together, strict=True):
        assert verdicts(other) == verdicts(one), path.name
        assert other.submission == str(path)
        assert other.isolation == one.isolation
    assert total(together[2].results).points == 100
    assert len(together[2].results) == 64
    for i in range(len(paths)):
        mine = json.loads((tmp_path / f"session{i}" / "results.json").read_text())
        theirs = json.loads((tmp_path / f"alone{i}" / "results.json").read_text())
        assert [(t["name"], t["score"], t["output"]) for t in mine["tests"]] == [
            (t["name"], t["score"], t["output"]) for t in theirs["tests"]
        ]


def test_a_session_keeps_its_check_selection(sandbox) -> None:
    with GradingSession(sandbox, extra_args=("-k", "pool2d")) as session:
        books = [session.grade(SOLVED), session.grade(STUDENTS / "carol_average_as_sum.ipynb")]

    assert {r.item for r in books[0].results} == {"pool2d"}
    assert [r.check_id for r in books[1].results] == [r.check_id for r in books[0].results]
    assert total(books[0].results).points == total(books[0].results).max_points
    assert any(r.outcome == "failed" for r in books[1].results)


def test_a_session_that_selects_no_check_says_so_for_each_submission(sandbox) -> None:
    with GradingSession(sandbox, extra_args=("-k", "no_such_check")) as session:
        for _ in range(2):
            with pytest.raises(HarnessError, match="no checks were collected"):
                session.grade(SOLVED)


def test_a_session_with_a_bad_option_does_not_start(sandbox) -> None:
    session = GradingSession(sandbox, extra_args=("--no-such-option",))

    with pytest.raises(HarnessError, match="did not start"):
        session.grade(SOLVED)
    session.close()


def test_a_grading_run_leaves_hypothesis_unrewritten_where_bytecode_is_not_written() -> None:
    """pytest would compile Hypothesis's 95 modules from source on every run (2.5 s) where it
    cannot cache its rewritten bytecode; the engine imports Hypothesis first, and says nothing."""
    code = (
        "import contextlib, io, sys, pytest\n"
        "from grader.grading import _arguments\n"
        "args = _arguments('all', (), quiet=False)\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out):\n"
        "    code = pytest.main([*args, '--collect-only', '-q', '--submission=x.ipynb'])\n"
        "import hypothesis\n"
        "print(int(code), type(hypothesis.__loader__).__name__, 'cannot be rewritten' in out.getvalue())\n"
    )
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )

    assert done.stdout.split()[-3:] == ["0", "SourceFileLoader", "False"], done.stderr[-2000:]


def test_a_grading_run_freezes_what_it_imported_once_the_checks_are_collected() -> None:
    """Full garbage collections while grading then skip torch's and pytest's objects: the frozen
    count is zero before the run, large after collection, and a second run freezes nothing more
    (frozen objects may still be freed)."""
    code = (
        "import contextlib, gc, io, pytest\n"
        "from grader.grading import _arguments, _Context\n"
        "args = [*_arguments('all', (), quiet=False), '--collect-only', '-q', '--submission=x.ipynb']\n"
        "counts = [gc.get_freeze_count()]\n"
        "for _ in range(2):\n"
        "    with contextlib.redirect_stdout(io.StringIO()):\n"
        "        pytest.main(args, plugins=[_Context(None)])\n"
        "    counts.append(gc.get_freeze_count())\n"
        "print(*counts)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300
    )

    before, first, second = map(int, done.stdout.split()[-3:])
    assert before == 0, done.stderr[-2000:]
    assert first > 100_000  # torch, pytest, Hypothesis and the checks: about 200,000
    assert second <= first


ONE_CHECK = ("-k", "test_corr2d_reproduces_the_book_example")


def record_launches(monkeypatch) -> list[tuple[str, int]]:
    """(event, id of the sandbox) for every launch and close, and ("pytest", 0) as pytest starts."""
    events: list[tuple[str, int]] = []
    launch, close, main = Sandbox.launch, Sandbox.close, pytest.main

    def launching(self):
        events.append(("launch", id(self)))
        launch(self)

    def closing(self):
        events.append(("close", id(self)))
        close(self)

    def starting(*args, **kwargs):
        events.append(("pytest", 0))
        return main(*args, **kwargs)

    monkeypatch.setattr(Sandbox, "launch", launching)
    monkeypatch.setattr(Sandbox, "close", closing)
    monkeypatch.setattr(grading.pytest, "main", starting)
    return events


def test_grading_without_a_sandbox_launches_one_before_pytest_starts(monkeypatch) -> None:
    """Its template imports torch while pytest starts and collects; it is closed at the end."""
    events = record_launches(monkeypatch)

    book = grade(SOLVED, extra_args=ONE_CHECK)

    assert [r.outcome for r in book.results] == ["passed"]
    assert events[0][0] == "launch"
    assert events[1] == ("pytest", 0)
    assert {box for event, box in events if event == "launch"} == {events[0][1]}  # only one
    assert events[-1] == ("close", events[0][1])


class SeesTheSandbox:
    def __init__(self) -> None:
        self.at_collection: Sandbox | None = None
        self.running = False

    def pytest_collection_modifyitems(self, config) -> None:
        self.at_collection = config.stash.get(SANDBOX, None)
        process = getattr(self.at_collection, "_process", None)
        self.running = process is not None and process.poll() is None


def test_pytest_grader_launches_its_sandbox_before_collecting_and_closes_it() -> None:
    seen = SeesTheSandbox()
    args = [*grading._arguments("all", ONE_CHECK, quiet=True), f"--submission={SOLVED}"]

    code = pytest.main(args, plugins=[seen])

    assert code == pytest.ExitCode.OK
    assert seen.at_collection is not None
    assert seen.running
    assert seen.at_collection.versions == {}  # closed when the run ended
