"""The report folder of a class over many runs: every row kept when one student is regraded, a
changed notebook regraded on resume and an unchanged one not, and why each regrade happens.
Sandbox and grading session are the stand-ins of test_worker (every check list is empty)."""

import csv
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from grader.batch import output, provenance
from grader.batch.run import grade_class
from grader.errors import GraderError
from grader.policy.late import LatePolicy
from grader.scoring import CheckResult
from tests.batch.test_worker import World
from tests.intake.test_answers import notebook


def _class(folder: Path, *names: str) -> Path:
    folder.mkdir(exist_ok=True)
    for name in names:
        (folder / f"{name}.ipynb").write_text(json.dumps({"student": name}))
    return folder


def _rows(out: Path) -> dict[str, dict[str, str]]:
    with (out / "gradebook.csv").open() as f:
        return {row["student"]: row for row in csv.DictReader(f)}


def _graded(world: World) -> list[str]:
    return [event.removeprefix("grade ") for event in world.events if event.startswith("grade ")]


def test_regrading_one_student_keeps_every_other_row(tmp_path: Path, monkeypatch, capsys) -> None:
    world = World(monkeypatch)
    submissions = _class(tmp_path / "class", "alice", "bob", "carol")
    out = tmp_path / "out"
    grade_class([submissions], out)

    world.events.clear()
    grade_class([submissions / "bob.ipynb"], out, force=True)  # the way it was done before

    assert _graded(world) == ["bob.ipynb"]
    assert sorted(_rows(out)) == ["alice", "bob", "carol"]
    assert all(row["status"] == "graded" for row in _rows(out).values())
    assert (out / "junit.xml").read_text().count("<testsuite ") == 3

    world.events.clear()
    grade_class([submissions], out, students=("carol",))

    assert _graded(world) == ["carol.ipynb"]
    assert sorted(_rows(out)) == ["alice", "bob", "carol"]


def test_a_rerun_regrades_a_changed_notebook_alone_and_says_why(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    world = World(monkeypatch)
    submissions = _class(tmp_path / "class", "alice", "bob")
    out = tmp_path / "out"
    grade_class([submissions], out)
    (submissions / "bob.ipynb").write_text(json.dumps({"student": "bob", "resubmitted": True}))
    world.events.clear()
    capsys.readouterr()

    grade_class([submissions], out)

    printed = capsys.readouterr().out
    assert _graded(world) == ["bob.ipynb"]
    assert "2 submissions: 1 already graded, 1 to grade" in printed
    assert "bob: notebook changed since it was graded, regraded" in printed
    recorded = json.loads((out / "bob" / "results.json").read_text())["extra_data"]["provenance"]
    assert recorded["file"].endswith("bob.ipynb")
    assert recorded["student"] == "bob"

    world.events.clear()
    grade_class([submissions], out)
    assert _graded(world) == []


def test_a_changed_rubric_or_check_regrades_everyone(tmp_path: Path, monkeypatch, capsys) -> None:
    world = World(monkeypatch)
    submissions = _class(tmp_path / "class", "alice", "bob")
    out = tmp_path / "out"
    grade_class([submissions], out)
    world.events.clear()
    monkeypatch.setattr(provenance, "rubric_digest", lambda: "another rubric")

    grade_class([submissions], out)

    assert _graded(world) == ["alice.ipynb", "bob.ipynb"]
    assert "alice: the rubric or a check changed since it was graded" in capsys.readouterr().out


def test_results_of_another_selection_or_without_provenance_are_regraded(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    world = World(monkeypatch)
    submissions = _class(tmp_path / "class", "alice", "bob")
    out = tmp_path / "out"
    grade_class([submissions], out, select=("-k", "pool2d"))
    old = json.loads((out / "alice" / "results.json").read_text())
    del old["extra_data"]["provenance"]
    (out / "alice" / "results.json").write_text(json.dumps(old))
    world.events.clear()

    grade_class([submissions], out)

    printed = capsys.readouterr().out
    assert _graded(world) == ["alice.ipynb", "bob.ipynb"]
    assert "alice: graded before the grader kept what it graded, regraded" in printed
    assert "bob: graded with other checks (-k pool2d), regraded" in printed


def test_a_report_folder_inside_the_class_folder_is_not_read_as_submissions(
    tmp_path: Path, monkeypatch
) -> None:
    world = World(monkeypatch)
    submissions = _class(tmp_path / "class", "alice")
    out = submissions / "grades"
    grade_class([submissions], out)
    world.events.clear()

    grade_class([submissions], out)

    assert (out / "problems.txt").read_text() == ""
    assert sorted(_rows(out)) == ["alice"]


def test_a_student_not_in_the_class_is_an_error_naming_who_is(tmp_path: Path, monkeypatch) -> None:
    World(monkeypatch)
    submissions = _class(tmp_path / "class", "alice", "bob")

    with pytest.raises(
        GraderError, match=r"no submission of zoe in .*: the students found are alice, bob"
    ):
        grade_class([submissions], tmp_path / "out", students=("zoe",))


CHECKS = (
    CheckResult("test_corr2d_a", "corr2d", "corr2d a.", "passed", 10.0),
    CheckResult("test_pool2d_b", "pool2d", "pool2d b.", "failed", 5.0, message="wrong"),
)
DUE = datetime(2026, 12, 10, 23, 59, tzinfo=timezone(timedelta(hours=-5)))


def test_late_work_and_manual_points_change_every_report_and_survive_a_regrade(
    tmp_path: Path, monkeypatch
) -> None:
    World(monkeypatch, results=CHECKS)
    monkeypatch.setattr(output, "load_late_policy", lambda: LatePolicy(due=DUE, per_day=10))
    submissions = tmp_path / "canvas"
    submissions.mkdir()
    for name in ("doejohn_late_12345_678_hw2", "kimminji_23456_789_hw2", "leejun_34567_790_hw2"):
        (submissions / f"{name}.ipynb").write_text("{}")
    out = tmp_path / "out"
    out.mkdir()
    (out / "submission_times.csv").write_text(
        "student,submitted_at\n23456,2026-12-12T10:00:00-05:00\n"
    )
    (out / "adjustments.csv").write_text(
        "student,item,points,comment,by\n"
        "doejohn,total,2,presented in class,TA Kim\n"
        "34567,pool2d,5,mode handled in a helper,TA Kim\n"
        "zoe,total,1,who?,TA Kim\n"
    )

    grade_class([submissions], out)

    rows = _rows(out)
    assert {s: (r["late"], r["late_deduction"], r["adjustments"], r["pool2d"], r["total"])
            for s, r in rows.items()} == {
        "12345": ("1", "1.5", "2", "0", "10.5"),  # marked late by Canvas: 1 day; +2
        "23456": ("2", "3", "", "0", "7"),  # 2026-12-12 10:00 is 2 started days late
        "34567": ("", "", "", "5", "15"),  # +5 to pool2d
    }  # fmt: skip
    results = json.loads((out / "12345" / "results.json").read_text())
    assert results["score"] == 10.5
    assert "Late: -1.5 (marked late by Canvas, counted as 1 day)" in results["output"]
    feedback = (out / "12345" / "feedback.md").read_text()
    assert "**Total: 10.5 / 15**" in feedback
    assert "- total: +2 (presented in class)" in feedback
    assert "2 days after the due date" in (out / "23456" / "feedback.html").read_text()
    assert (out / "problems.txt").read_text() == (
        "adjustments.csv line 4: unknown student 'zoe'; not applied\n"
    )

    (out / "adjustments.csv").write_text("student,item,points,comment,by\n")
    grade_class([submissions], out, students=("kimminji",))

    rows = _rows(out)
    assert [rows[s]["total"] for s in ("12345", "23456", "34567")] == ["8.5", "7", "10"]
    assert "presented in class" not in (out / "12345" / "feedback.md").read_text()


def test_a_re_export_that_marks_a_submission_late_applies_without_a_regrade(
    tmp_path: Path, monkeypatch
) -> None:
    world = World(monkeypatch, results=CHECKS)
    monkeypatch.setattr(output, "load_late_policy", lambda: LatePolicy(due=DUE, per_day=10))
    submissions = tmp_path / "canvas"
    submissions.mkdir()
    (submissions / "doejohn_12345_678_hw2.ipynb").write_text("{}")
    out = tmp_path / "out"
    grade_class([submissions], out)
    assert _rows(out)["12345"]["total"] == "10"
    (submissions / "doejohn_12345_678_hw2.ipynb").rename(
        submissions / "doejohn_late_12345_678_hw2.ipynb"
    )
    world.events.clear()

    grade_class([submissions], out)

    assert _graded(world) == []
    assert (_rows(out)["12345"]["late"], _rows(out)["12345"]["total"]) == ("1", "8.5")
    assert "marked late by Canvas" in (out / "12345" / "feedback.md").read_text()


def test_written_answers_are_collected_and_the_points_given_there_count(
    tmp_path: Path, monkeypatch
) -> None:
    World(monkeypatch, results=CHECKS)
    submissions = tmp_path / "class"
    submissions.mkdir()
    (submissions / "alice.ipynb").write_bytes(
        notebook(("markdown", "### 7.2.5 Cross-Correlation and Convolution\n\nFlip it."))
    )
    (submissions / "bob.ipynb").write_bytes(notebook(("markdown", "# nothing written")))
    out = tmp_path / "out"
    grade_class([submissions], out)

    page = (out / "written.html").read_text()
    assert "7.2.5 Cross-Correlation and Convolution" in page
    assert "Flip it." in page
    assert "(1 of 2 answered)" in page

    (out / "adjustments_written.csv").write_text(
        'student,item,points,comment,by\nalice,total,2,"written answer 7.2.5: right",written.html\n'
    )
    grade_class([submissions], out)

    assert _rows(out)["alice"]["total"] == "12"
    assert (
        "- total: +2 (written answer 7.2.5: right)" in (out / "alice" / "feedback.md").read_text()
    )


def test_a_changed_integrity_policy_applies_to_the_class_without_a_regrade(
    tmp_path: Path, monkeypatch
) -> None:
    from grader.policy.integrity import IntegrityPolicy

    world = World(monkeypatch, results=CHECKS)
    submissions = _class(tmp_path / "class", "alice", "bob")
    out = tmp_path / "out"
    grade_class([submissions], out)
    # bob's corr2d called F.conv2d while the checks ran (as the child records it)
    results = json.loads((out / "bob" / "results.json").read_text())
    results["extra_data"]["operations"] = {"corr2d": ["torch.nn.functional.conv2d"]}
    (out / "bob" / "results.json").write_text(json.dumps(results))
    world.events.clear()

    monkeypatch.setattr(output, "load_integrity", lambda: IntegrityPolicy(action="zero"))
    grade_class([submissions], out)

    assert _graded(world) == []
    rows = _rows(out)
    assert (rows["alice"]["total"], rows["bob"]["total"]) == ("10", "0")
    assert rows["bob"]["status"] == "graded; not from scratch: corr2d uses conv2d"
    assert (
        "corr2d: -10 (corr2d uses `torch.nn.functional.conv2d`"
        in (out / "bob" / "feedback.md").read_text()
    )

    monkeypatch.setattr(output, "load_integrity", lambda: IntegrityPolicy(action="flag"))
    grade_class([submissions], out)

    rows = _rows(out)
    assert rows["bob"]["total"] == "10"
    assert rows["bob"]["status"] == "graded; not from scratch: corr2d uses conv2d"
    assert "conv2d" not in (out / "bob" / "feedback.md").read_text()
