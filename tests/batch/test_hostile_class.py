"""A class of every hostile notebook among honest ones, graded as `grade` grades a class: the batch
completes, every report is written and well-formed, the honest notebooks earn full marks, and each
hostile one gets the grade it gets alone (tests/golden/verdicts.json), whatever came before it."""

from __future__ import annotations

import csv
import functools
import io
import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from grader.batch import worker
from grader.batch.run import grade_class
from grader.sandbox.launcher import Sandbox
from tests.conftest import TEST_LIMITS

ROOT = Path(__file__).resolve().parents[2]
HOSTILE = ROOT / "tests" / "fixtures" / "notebooks" / "hostile"
HONEST = [
    ROOT / "submissions" / "solved.ipynb",
    *sorted((ROOT / "submissions/students").glob("*.ipynb")),
]

pytestmark = pytest.mark.slow


def test_a_class_of_hostile_notebooks_completes_with_every_report_and_honest_grades(
    sandbox, tmp_path: Path, monkeypatch
) -> None:
    if sandbox.isolation.mode != "bubblewrap":
        pytest.skip("the golden verdicts were made under bubblewrap")
    # Hostile notebooks first (in reverse order of the golden file's), the honest ones after.
    class_dir = tmp_path / "class"
    class_dir.mkdir()
    hostile = sorted(HOSTILE.glob("*.ipynb"), reverse=True)
    for path in [*hostile, *HONEST]:
        shutil.copy(path, class_dir / path.name)
    monkeypatch.setattr(worker.launcher, "Sandbox", functools.partial(Sandbox, TEST_LIMITS))
    out = tmp_path / "out"

    grade_class([class_dir], out, jobs=1)

    rows = {
        row["student"]: row
        for row in csv.DictReader(io.StringIO((out / "gradebook.csv").read_text()))
    }
    assert len(rows) == len(hostile) + len(HONEST)
    assert all(row["status"] == "graded" for row in rows.values()), rows
    golden = json.loads((ROOT / "tests" / "golden" / "verdicts.json").read_text())
    for path in hostile:
        expected = golden[f"hostile/{path.stem}"]
        assert (float(rows[path.stem]["total"]), float(rows[path.stem]["max"])) == (
            expected["score"],
            expected["max_score"],
        ), path.stem
    for path in HONEST:
        if path.stem == "solved":
            assert rows[path.stem]["total"] == rows[path.stem]["max"] == "100"
        else:
            assert float(rows[path.stem]["total"]) == golden[f"students/{path.stem}"]["score"]
    ET.parse(out / "junit.xml")
    assert (out / "summary.html").read_text().count("</html>") == 1
    for folder in (p for p in out.iterdir() if p.is_dir()):
        assert {"feedback.md", "feedback.html", "results.json"} <= {
            p.name for p in folder.iterdir()
        }
        json.loads((folder / "results.json").read_text())
    assert (out / "problems.txt").read_text() == ""
