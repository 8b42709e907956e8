"""Intake speed: reading and extracting one notebook, and collecting a class from a zip export.

Run with `pytest benchmarks` (or `tox -e bench`); the default test run leaves benchmarks out.
"""

import zipfile
from pathlib import Path

import pytest

from grader.intake.sources import collect
from grader.intake.submission import parse_submission

ROOT = Path(__file__).resolve().parent.parent
SOLVED = ROOT / "submissions" / "solved.ipynb"
BOOK_STYLE = ROOT / "tests" / "fixtures" / "notebooks" / "book_style_with_training.ipynb"


@pytest.mark.parametrize("path", [SOLVED, BOOK_STYLE], ids=lambda p: p.stem)
def test_parse_a_typical_notebook(benchmark, path: Path) -> None:
    """Bytes of a notebook -> Submission (read, IPython transform, ast pass, item table)."""
    data = path.read_bytes()
    parse_submission(data, path.name)  # warm: IPython's transformer is imported once per process

    submission = benchmark(parse_submission, data, path.name)

    assert len(submission.definitions) == 15


def test_collect_and_parse_a_class_of_50_from_a_canvas_zip(benchmark, tmp_path: Path) -> None:
    archive = tmp_path / "canvas.zip"
    data = SOLVED.read_bytes()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for i in range(50):
            zf.writestr(f"student{i}_{1000 + i}_{5000 + i}_hw2.ipynb", data)

    def intake() -> int:
        entries = collect([archive]).entries
        return sum(len(parse_submission(e.read(), e.name).definitions) for e in entries)

    assert benchmark(intake) == 50 * 15
