"""What Gradescope's run does with whatever a student uploads: it always writes results.json, and
says which file it graded and why."""

import json
import zipfile
from pathlib import Path

import pytest

from grader.distributions.gradescope import grade_upload
from grader.scoring import CheckResult, ScoreBook

ROOT = Path(__file__).resolve().parents[2]
SOLVED = ROOT / "submissions" / "solved.ipynb"
TEMPLATE = ROOT / "submissions" / "homework.ipynb"


@pytest.fixture
def graded(monkeypatch) -> list[str]:
    """The grading itself stands in: each call records the content of the file it was given."""
    seen: list[str] = []

    def grade(path: Path, *, extra_args=()) -> ScoreBook:
        seen.append(path.read_bytes().decode("utf-8", "replace"))
        return ScoreBook(results=[CheckResult("test_a", "corr2d", "corr2d works.", "passed", 2.0)])

    monkeypatch.setattr("grader.grading.grade", grade)
    return seen


def upload(tmp_path: Path, files: dict[str, bytes]) -> Path:
    folder = tmp_path / "submission"
    folder.mkdir()
    for name, data in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    return folder


def run(tmp_path: Path, files: dict[str, bytes]) -> dict:
    results = tmp_path / "results" / "results.json"
    grade_upload(upload(tmp_path, files), results)
    return json.loads(results.read_text())


def test_a_checkpoint_copy_beside_the_notebook_is_not_graded(tmp_path: Path, graded) -> None:
    data = run(
        tmp_path,
        {
            "homework.ipynb": SOLVED.read_bytes(),
            ".ipynb_checkpoints/homework-checkpoint.ipynb": TEMPLATE.read_bytes(),
            "__MACOSX/._homework.ipynb": b"\x00\x05\x16\x07",
        },
    )

    assert graded == [SOLVED.read_text(encoding="utf-8")]
    assert data["score"] == 2.0
    assert data["output"].startswith("Graded homework.ipynb.")


def test_of_two_notebooks_the_one_that_defines_the_most_items_is_graded(
    tmp_path: Path, graded
) -> None:
    data = run(tmp_path, {"draft.ipynb": TEMPLATE.read_bytes(), "final.ipynb": SOLVED.read_bytes()})

    assert graded == [SOLVED.read_text(encoding="utf-8")]
    assert data["output"].startswith(
        "Graded final.ipynb (of 2 files uploaded: draft.ipynb, final.ipynb; it defines the most "
        "homework items)."
    )


def test_a_notebook_named_like_the_homework_wins(tmp_path: Path, graded) -> None:
    data = run(tmp_path, {"hw2.ipynb": TEMPLATE.read_bytes(), "copy.ipynb": SOLVED.read_bytes()})

    assert graded == [TEMPLATE.read_text(encoding="utf-8")]
    assert "it is named like the homework" in data["output"]


@pytest.mark.parametrize(
    ("files", "said"),
    [
        ({}, "Nothing was graded: your upload is empty. Upload your homework notebook."),
        (
            {"notes.pdf": b"%PDF-1.7", "hw2.docx": b"PK"},
            "Nothing was graded: your upload holds no notebook (.ipynb) (hw2.docx, notes.pdf).",
        ),
    ],
    ids=["empty", "no-notebook"],
)
def test_an_upload_without_a_notebook_still_gets_results(
    tmp_path: Path, graded, files: dict, said: str
) -> None:
    data = run(tmp_path, files)

    assert graded == []
    assert (data["score"], data["tests"]) == (0.0, [])
    assert data["max_score"] == 100
    assert data["output"].startswith(said)


def test_a_zip_and_a_python_file_are_graded_as_their_notebook(tmp_path: Path, graded) -> None:
    archive = tmp_path / "hw2.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("hw2/homework.ipynb", SOLVED.read_bytes())
    data = run(tmp_path, {"hw2.zip": archive.read_bytes()})
    assert graded == [SOLVED.read_text(encoding="utf-8")]
    assert data["output"].startswith("Graded hw2.zip:hw2/homework.ipynb.")

    script = "def corr2d(X, K):\n    return X\n"
    (tmp_path / "py").mkdir()
    data = run(tmp_path / "py", {"hw2.py": script.encode()})
    assert graded[-1] == script
    assert data["output"].startswith("Graded hw2.py.")
