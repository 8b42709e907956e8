"""The command line, end to end: self-check, batch grading into reports, resuming an interrupted batch."""

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest

from grader.cli import build_parser, main
from tests.support.mutations import MUTATIONS, mutated_notebook

ROOT = Path(__file__).resolve().parent.parent
SOLVED = ROOT / "submissions" / "solved.ipynb"
ONE_CHECK = "test_corr2d_reproduces_the_book_example or test_pool2d_defaults_to_maximum_pooling"


def run_cli(*args: str, timeout: int = 600, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "grader", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_help_explains_each_command_and_the_exit_codes(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])

    text = capsys.readouterr().out
    assert "check" in text
    assert "grade" in text
    assert "0  check: every public check passed" in text
    sub = build_parser().format_help()
    assert "COMMAND" in sub


def test_check_passes_a_correct_notebook_and_fails_a_wrong_one(tmp_path: Path) -> None:
    wrong = tmp_path / "wrong.ipynb"
    wrong.write_text(mutated_notebook(MUTATIONS["pool2d_average_as_sum"]))

    good = run_cli("check", str(SOLVED), "-k", ONE_CHECK)
    bad = run_cli("check", str(wrong), "-k", ONE_CHECK)

    assert good.returncode == 0, good.stdout + good.stderr
    assert "ok   corr2d" in good.stdout
    assert bad.returncode == 0  # the selected pool2d check (defaults to max) still passes
    full = run_cli("check", str(wrong), "-k", "pool2d")
    assert full.returncode == 1
    assert "FAIL pool2d" in full.stdout
    assert "average computed as a sum" in full.stdout


def test_check_refuses_a_missing_file() -> None:
    result = run_cli("check", "no/such/notebook.ipynb")

    assert result.returncode == 2
    assert result.stderr.startswith("error: no/such/notebook.ipynb is not a file")


def test_a_bad_isolation_setting_is_an_error_not_a_traceback(monkeypatch) -> None:
    monkeypatch.setenv("HW2_GRADER_ISOLATION", "docker")

    result = run_cli("check", "submissions/solved.ipynb")

    assert result.returncode == 2
    assert result.stderr.startswith("error: invalid HW2_GRADER_ISOLATION 'docker'")
    assert "Traceback" not in result.stderr


def make_class_zip(path: Path, count: int, extra: dict[str, bytes] | None = None) -> Path:
    solved = SOLVED.read_bytes()
    with zipfile.ZipFile(path, "w") as archive:
        for i in range(count):
            archive.writestr(f"student{i:02d}_{1000 + i}_{5000 + i}_hw2.ipynb", solved)
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return path


def test_grade_writes_every_report(tmp_path: Path) -> None:
    wrong = mutated_notebook(MUTATIONS["pool2d_mode_ignored"]).encode()
    archive = make_class_zip(
        tmp_path / "canvas.zip",
        2,
        {
            "kimminji_2000_6000_hw2.ipynb": wrong,
            "leejun_3000_7000_hw2.ipynb": b"{broken",
            "notes_4000_8000_a.pdf": b"%PDF",
            "mallory_5000_9000_hw2.ipynb": (
                ROOT / "tests/fixtures/notebooks/hostile/exits.ipynb"
            ).read_bytes(),
        },
    )
    out = tmp_path / "out"

    result = run_cli("grade", str(archive), "--out", str(out), "-k", "pool2d or corr2d_reproduces")

    assert result.returncode == 0, result.stderr[-3000:]
    assert "5 submissions: 0 already graded, 5 to grade" in result.stdout
    assert "isolation: " in result.stdout.splitlines()[0]
    results = json.loads((out / "2000" / "results.json").read_text())
    assert results["score"] < results["max_score"]
    assert {tuple(t["tags"]) for t in results["tests"]} == {("corr2d",), ("pool2d",)}
    assert "`mode` ignored" in (out / "2000" / "feedback.md").read_text()
    assert "`mode` ignored" in (out / "2000" / "feedback.html").read_text()
    assert "graded submissions" in (out / "summary.html").read_text()
    broken = json.loads((out / "3000" / "results.json").read_text())
    assert broken["score"] == 0
    assert broken["tests"] == []  # one reason, not a failure per check
    assert "it is not valid JSON" in broken["output"]
    rows = list(csv.DictReader((out / "gradebook.csv").open()))
    assert [r["student"] for r in rows] == ["1000", "1001", "2000", "3000", "5000"]
    assert rows[0]["total"] == rows[0]["max"]
    assert rows[3]["status"] == "unreadable"
    assert float(rows[2]["pool2d"]) < 10
    canvas = list(csv.reader((out / "canvas.csv").open()))
    assert canvas[0][:5] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
    assert [row[1] for row in canvas[2:]] == ["1000", "1001", "2000", "3000", "5000"]
    assert not (out / "moodle.csv").exists()
    suites = ET.parse(out / "junit.xml").getroot().findall("testsuite")
    assert len(suites) == 5
    hostile = json.loads((out / "5000" / "results.json").read_text())
    assert {t["tags"][0] for t in hostile["tests"] if t["status"] == "failed"} == {"pool2d"}
    assert "raised SystemExit" in (out / "5000" / "feedback.md").read_text()
    assert "unknown: canvas.zip:notes_4000_8000_a.pdf" in (out / "problems.txt").read_text()

    killed_mid_write = [out / "2000" / ".feedback.html.4242.tmp", out / ".summary.html.4242.tmp"]
    for path in killed_mid_write:
        path.write_text("<html>half of a pa")
    again = run_cli("grade", str(archive), "--out", str(out), "-k", "pool2d or corr2d_reproduces")

    assert "5 submissions: 5 already graded, 0 to grade" in again.stdout
    assert not [path for path in killed_mid_write if path.exists()]


def test_an_interrupted_batch_resumes_without_losing_or_repeating_a_submission(
    tmp_path: Path,
) -> None:
    """50 notebooks with --jobs 2: stopped part-way, then run again to the end."""
    archive = make_class_zip(tmp_path / "class.zip", 50)
    out = tmp_path / "out"
    command = [
        sys.executable,
        "-m",
        "grader",
        "grade",
        str(archive),
        "--out",
        str(out),
        "--jobs",
        "2",
        "-k",
        ONE_CHECK,
    ]
    first = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
    )
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and len(list(out.glob("*/results.json"))) < 10:
        time.sleep(0.2)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    finished = {p.parent.name: p.stat().st_mtime_ns for p in out.glob("*/results.json")}
    assert 10 <= len(finished) < 50

    second = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)

    assert second.returncode == 0, second.stdout[-2000:] + second.stderr[-2000:]
    assert (
        f"50 submissions: {len(finished)} already graded, {50 - len(finished)} to grade"
        in second.stdout
    )
    graded = sorted(p.parent.name for p in out.glob("*/results.json"))
    assert graded == [str(1000 + i) for i in range(50)]
    assert {name: (out / name / "results.json").stat().st_mtime_ns for name in finished} == finished
    assert not list(out.glob("*/.*.tmp"))
    rows = list(csv.DictReader((out / "gradebook.csv").open()))
    assert len(rows) == 50
    assert all(r["total"] == r["max"] for r in rows)


def test_pytest_grader_and_the_cli_give_the_same_scores(tmp_path: Path) -> None:
    notebook = tmp_path / "carol.ipynb"
    notebook.write_text(mutated_notebook(MUTATIONS["pool2d_average_as_sum"]))
    select = "pool2d or corr2d_reproduces"
    direct = tmp_path / "direct"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "grader",
            "--submission",
            str(notebook),
            "--grade-report",
            str(direct),
            "-k",
            select,
            "-p",
            "no:randomly",
            "-q",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    out = tmp_path / "cli"

    run_cli("grade", str(notebook), "--out", str(out), "-k", select)

    by_pytest = json.loads((direct / "results.json").read_text())
    by_cli = json.loads((out / "carol" / "results.json").read_text())
    assert (by_pytest["score"], by_pytest["max_score"]) == (by_cli["score"], by_cli["max_score"])
    assert [(t["number"], t["score"]) for t in by_pytest["tests"]] == [
        (t["number"], t["score"]) for t in by_cli["tests"]
    ]
    assert by_cli["score"] < by_cli["max_score"]


def test_grade_and_gradescope_run_refuse_a_machine_without_bubblewrap(tmp_path: Path) -> None:
    """Without bwrap (nor unshare) on the PATH, staff grading stops before any student code runs."""
    env = {k: v for k, v in os.environ.items() if k != "HW2_GRADER_ISOLATION"}
    env["PATH"] = str(tmp_path)  # no bwrap, no unshare
    for args in (
        ["grade", str(SOLVED), "--out", str(tmp_path / "out")],
        ["gradescope-run", str(tmp_path), "--results", str(tmp_path / "results.json")],
    ):
        done = subprocess.run(
            [sys.executable, "-m", "grader", *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=600,
            env=env,
        )

        assert done.returncode == 2, done.stderr
        assert "grades with bubblewrap, which does not work on this machine" in done.stderr
        assert not (tmp_path / "out").exists()


def test_a_relative_report_folder_gets_every_report_from_any_working_directory(
    tmp_path: Path,
) -> None:
    # pytest returns to the repository root when its session ends: the class files went there.
    (tmp_path / "class").mkdir()
    for name in ("alice_solved", "bob_kernel_flipped"):
        shutil.copy(ROOT / "submissions/students" / f"{name}.ipynb", tmp_path / "class")

    result = run_cli(
        "grade", "class", "--out", "grades", "-k", ONE_CHECK, "--similarity", cwd=tmp_path
    )

    assert result.returncode == 0, result.stderr[-3000:]
    rows = list(csv.DictReader((tmp_path / "grades" / "gradebook.csv").open()))
    assert [r["student"] for r in rows] == ["alice_solved", "bob_kernel_flipped"]
    assert "similarity: 2 submissions, 1 pairs" in result.stdout
    assert (tmp_path / "grades" / "similarity.html").is_file()
    assert not (ROOT / "grades").exists()
