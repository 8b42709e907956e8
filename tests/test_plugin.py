"""The plugin's verdicts: how each way a check can end becomes an outcome, and what the report says."""

import json
from pathlib import Path

import pytest

from grader.errors import HarnessError, MissingDefinition, SubmissionCrashed, SubmissionTimedOut
from grader.grading import grade
from grader.plugin import NOT_GRADED_MESSAGE, classify
from grader.reports.class_files import gradebook_csv
from grader.sandbox.process import SubmissionProcess
from grader.scoring import CheckResult, total

ROOT = Path(__file__).resolve().parent.parent
SOLVED = ROOT / "submissions" / "solved.ipynb"


class FakeInfo:
    def __init__(self, error):
        self.value = error


class FakeCall:
    def __init__(self, error):
        self.excinfo = FakeInfo(error) if error is not None else None


class FakeReport:
    def __init__(self, passed=False, skipped=False):
        self.passed, self.skipped, self.longrepr = passed, skipped, "skipped: no GPU"


@pytest.mark.parametrize(
    ("error", "outcome"),
    [
        (AssertionError("corr2d: wrong values"), "failed"),
        (SubmissionCrashed("corr2d(X, K)", "IndexError", "index 3 is out of bounds"), "failed"),
        (SubmissionTimedOut("pool2d(...)", 3), "timeout"),
        (MissingDefinition("pool2d"), "missing"),
        (HarnessError("the sandbox did not answer"), "not_graded"),
        (KeyError("a bug of ours"), "not_graded"),
    ],
)
def test_each_way_a_check_ends_has_one_outcome(error, outcome) -> None:
    got, message, details = classify(FakeCall(error), FakeReport())

    assert got == outcome
    if outcome == "not_graded":
        assert message == NOT_GRADED_MESSAGE
        assert type(error).__name__ in details
    else:
        assert message == str(error)
        assert details == ""


def test_a_skipped_check_is_not_graded() -> None:
    assert classify(FakeCall(None), FakeReport(skipped=True))[0] == "not_graded"


def test_not_graded_checks_stay_in_the_maximum_and_flag_a_regrade() -> None:
    results = [
        CheckResult("a", "corr2d", "a", "passed", 2.0),
        CheckResult("b", "corr2d", "b", "failed", 3.0, message="x"),
        CheckResult("c", "pool2d", "c", "not_graded", 5.0),
    ]

    summary = total(results)
    assert (summary.points, summary.max_points, summary.not_graded) == (2.0, 10.0, 1)
    assert summary.needs_regrade
    assert not total(results[:2]).needs_regrade


def test_a_fault_of_ours_is_flagged_for_regrade_in_every_report(
    sandbox, monkeypatch, tmp_path
) -> None:
    original = SubmissionProcess.probe

    def broken(self, name, target, **kwargs):
        if name == "layers":
            raise RuntimeError("a bug in the grader")
        return original(self, name, target, **kwargs)

    monkeypatch.setattr(SubmissionProcess, "probe", broken)

    book = grade(SOLVED, sandbox=sandbox, report_dir=tmp_path)

    summary = total(book.results)
    assert summary.not_graded > 0
    assert summary.points < summary.max_points == 100  # the maximum is the homework's
    staff = next(r.staff_details for r in book.results if r.outcome == "not_graded")
    assert "a bug in the grader" in staff
    results = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    assert f"{summary.not_graded} check(s) could not be graded" in results["output"]
    assert "regrade" in results["output"]
    row = gradebook_csv([("s1", "s1", book)], ["corr2d"]).splitlines()[1]
    assert row.endswith(f"regrade: {summary.not_graded} not graded")


def test_results_json_is_gradescopes_format(sandbox, tmp_path: Path) -> None:
    grade(SOLVED, sandbox=sandbox, report_dir=tmp_path, visibility="public")

    data = json.loads((tmp_path / "results.json").read_text())

    assert data["score"] == data["max_score"]
    assert data["output"].startswith("Isolation: ")
    test = data["tests"][0]
    assert set(test) >= {"name", "score", "max_score", "status", "output", "visibility", "tags"}
    assert test["tags"] == ["corr2d"]
    assert test["visibility"] == "visible"
    assert {t["status"] for t in data["tests"]} == {"passed"}
    assert not (tmp_path / "results.json.tmp").exists()


def test_pytest_grader_without_a_submission_says_how_to_use_it(pytester_runs) -> None:
    result = pytester_runs("grader/checks/test_pooling.py", "-q")

    assert result.returncode != 0
    assert (
        "pass the notebook to grade: pytest grader --submission NOTEBOOK"
        in result.stdout + result.stderr
    )


@pytest.fixture
def pytester_runs():
    import subprocess
    import sys

    def run(*args):
        return subprocess.run(
            [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
        )

    return run


def test_the_report_header_names_the_submission_and_the_isolation(pytester_runs) -> None:
    result = pytester_runs(
        "grader/checks/test_pooling.py",
        "--submission",
        "submissions/solved.ipynb",
        "-k",
        "defaults",
    )

    assert result.returncode == 0, result.stdout[-2000:]
    assert "grader: submission submissions/solved.ipynb" in result.stdout
    assert "grader: isolation " in result.stdout
