"""Collecting a class's submissions from files, folders and Canvas, Moodle and Gradescope zip exports."""

import zipfile
from pathlib import Path

import pytest

from grader.errors import SubmissionError, UnreadableSubmission
from grader.intake.sources import collect
from grader.intake.submission import parse_submission

SOLVED = (Path(__file__).parents[2] / "submissions" / "solved.ipynb").read_bytes()


def make_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def summary(intake) -> list[tuple[str, str, str]]:
    return [(e.student, e.display_name, e.name) for e in intake.entries]


def test_canvas_export_maps_files_to_user_ids(tmp_path: Path) -> None:
    archive = make_zip(
        tmp_path / "submissions.zip",
        {
            "doejohn_12345_67890_hw2.ipynb": SOLVED,
            "kimminji_late_23456_78901_HW2 (1).ipynb": SOLVED,
            "leesara_34567_89012_notes.pdf": b"%PDF",
        },
    )

    intake = collect([archive])

    assert summary(intake) == [
        ("12345", "doejohn", "doejohn_12345_67890_hw2.ipynb"),
        ("23456", "kimminji", "kimminji_late_23456_78901_HW2 (1).ipynb"),
    ]
    assert [(p.label, p.kind) for p in intake.problems] == [
        ("submissions.zip:leesara_34567_89012_notes.pdf", "unknown")
    ]
    assert [e.late_by for e in intake.entries] == ["", "Canvas"]


def test_canvas_resubmission_is_graded_and_the_earlier_one_reported(tmp_path: Path) -> None:
    archive = make_zip(
        tmp_path / "c.zip",
        {
            "doejohn_12345_67890_hw2.ipynb": b"first",
            "doejohn_12345_67890_hw2-1.ipynb": SOLVED,
        },
    )

    intake = collect([archive])

    [entry] = intake.entries
    assert entry.name == "doejohn_12345_67890_hw2-1.ipynb"
    assert entry.read() == SOLVED
    [problem] = intake.problems
    assert problem.kind == "resubmitted"
    assert problem.message == (
        "student 12345 resubmitted 1 time(s); graded the latest, "
        "c.zip:doejohn_12345_67890_hw2-1.ipynb, not c.zip:doejohn_12345_67890_hw2.ipynb"
    )


def test_two_different_files_of_one_canvas_student_are_a_duplicate(tmp_path: Path) -> None:
    archive = make_zip(
        tmp_path / "c.zip",
        {"doejohn_12345_67890_hw2.ipynb": SOLVED, "doejohn_12345_67890_scratch.ipynb": b"x"},
    )

    [problem] = collect([archive]).problems

    assert problem.kind == "duplicate"


def test_moodle_export_uses_participant_ids(tmp_path: Path) -> None:
    archive = make_zip(
        tmp_path / "moodle.zip",
        {
            "Jane Doe_123456_assignsubmission_file_/hw2.ipynb": SOLVED,
            "Kim Minji_654321_assignsubmission_file_/HW2_final.ipynb": SOLVED,
            "Kim Minji_654321_assignsubmission_file_/scratch.py": b"x = 1",
            "Kim Minji_654321_assignsubmission_onlinetext_/onlinetext.html": b"<p>hi</p>",
        },
    )

    intake = collect([archive])

    assert summary(intake) == [
        ("123456", "Jane Doe", "hw2.ipynb"),
        ("654321", "Kim Minji", "HW2_final.ipynb"),
    ]
    kinds = sorted(p.kind for p in intake.problems)
    assert kinds == ["duplicate", "unknown"]


def test_gradescope_export_reads_submitters_from_the_metadata(tmp_path: Path) -> None:
    metadata = b"""submission_111:
  :submitters:
  - :name: Jane Doe
    :sid: '2024001'
    :email: jane@example.edu
  :created_at: 2026-12-11 09:14:03.000000000 -05:00
submission_222:
  :created_at: 2026-12-11 09:14:03
  :submitters:
  - :name: Kim Minji
    :email: minji@example.edu
"""
    archive = make_zip(
        tmp_path / "gs.zip",
        {
            "assignment_export/submission_111/hw2.ipynb": SOLVED,
            "assignment_export/submission_222/hw2.ipynb": SOLVED,
            "assignment_export/submission_333/hw2.ipynb": SOLVED,
            "assignment_export/submission_metadata.yml": metadata,
        },
    )

    intake = collect([archive])

    assert [e.student for e in intake.entries] == ["2024001", "minji@example.edu", "submission_333"]
    assert [e.submitted_at for e in intake.entries] == ["2026-12-11T09:14:03-05:00", "", ""]
    assert intake.problems == ()


def test_clutter_is_skipped_silently(tmp_path: Path) -> None:
    archive = make_zip(
        tmp_path / "mac.zip",
        {
            "alice.ipynb": SOLVED,
            "__MACOSX/._alice.ipynb": b"\x00\x05\x16\x07",
            ".ipynb_checkpoints/alice-checkpoint.ipynb": SOLVED,
            ".DS_Store": b"\x00\x00",
        },
    )

    intake = collect([archive])

    assert summary(intake) == [("alice", "alice", "alice.ipynb")]
    assert intake.problems == ()


def test_folders_are_searched_recursively_and_plain_names_become_ids(tmp_path: Path) -> None:
    (tmp_path / "class" / "late").mkdir(parents=True)
    (tmp_path / "class" / "alice.ipynb").write_bytes(SOLVED)
    (tmp_path / "class" / "late" / "bob.py").write_text("def corr2d(X, K):\n    return X\n")
    (tmp_path / "class" / "notes.txt").write_text("hello")
    make_zip(tmp_path / "class" / "canvas.zip", {"carol_777_888_hw2.ipynb": SOLVED})

    intake = collect([tmp_path / "class"])

    assert sorted(e.student for e in intake.entries) == ["777", "alice", "bob"]
    assert [p.kind for p in intake.problems] == ["unknown"]


def test_a_notebook_is_preferred_to_a_script_of_the_same_student(tmp_path: Path) -> None:
    (tmp_path / "alice.py").write_text("x = 1")
    (tmp_path / "alice.ipynb").write_bytes(SOLVED)

    intake = collect([tmp_path / "alice.py", tmp_path / "alice.ipynb"])

    assert [e.name for e in intake.entries] == ["alice.ipynb"]
    assert [p.kind for p in intake.problems] == ["duplicate"]


def test_bad_archives_and_missing_paths_are_reported_not_raised(tmp_path: Path) -> None:
    (tmp_path / "broken.zip").write_bytes(b"PK\x03\x04 this is not really a zip")
    (tmp_path / "ok.ipynb").write_bytes(SOLVED)

    intake = collect([tmp_path / "broken.zip", tmp_path / "nowhere.ipynb", tmp_path / "ok.ipynb"])

    assert [e.student for e in intake.entries] == ["ok"]
    assert [(p.kind, p.message.split(" (")[0]) for p in intake.problems] == [
        ("unreadable", "it is not a readable zip archive"),
        ("unreadable", "no such file or folder"),
    ]


def test_one_bad_file_in_a_batch_is_reported_and_the_rest_are_parsed(tmp_path: Path) -> None:
    archive = make_zip(
        tmp_path / "batch.zip",
        {
            "alice.ipynb": SOLVED,
            "bob.ipynb": b"{not json",
            "carol.ipynb": b"",
            "dave.ipynb": SOLVED,
        },
    )
    parsed, refused = {}, {}

    for entry in collect([archive]).entries:
        try:
            parsed[entry.student] = parse_submission(entry.read(), entry.name)
        except SubmissionError as error:
            refused[entry.student] = str(error)

    assert sorted(parsed) == ["alice", "dave"]
    assert all(len(s.definitions) == 15 for s in parsed.values())
    assert refused == {
        "bob": "bob.ipynb could not be read: it is not valid JSON: expecting property name "
        "enclosed in double quotes at line 1, column 2 (the file ends at line 1, column 10); it may "
        "have been cut short or edited outside Jupyter",
        "carol": "carol.ipynb could not be read: the file is empty (0 bytes)",
    }


def test_a_member_larger_than_the_cap_is_refused_unread(tmp_path: Path, monkeypatch) -> None:
    import grader.intake.sources

    monkeypatch.setattr(grader.intake.sources, "MAX_SUBMISSION_BYTES", 1000)
    archive = make_zip(
        tmp_path / "bomb.zip", {"big.ipynb": b" " * 100_000, "small.ipynb": SOLVED[:500]}
    )

    intake = collect([archive])

    assert [e.name for e in intake.entries] == ["small.ipynb"]
    assert [(p.label, p.message) for p in intake.problems] == [
        ("bomb.zip:big.ipynb", "it is larger than a notebook can be")
    ]


def test_a_member_whose_header_lies_about_its_size_is_still_capped(
    tmp_path: Path, monkeypatch
) -> None:
    import grader.intake.sources

    archive = make_zip(tmp_path / "x.zip", {"a.ipynb": b" " * 5000})
    [entry] = collect([archive]).entries
    monkeypatch.setattr(grader.intake.sources, "MAX_SUBMISSION_BYTES", 1000)

    with pytest.raises(UnreadableSubmission, match="larger than a notebook can be"):
        entry.read()
