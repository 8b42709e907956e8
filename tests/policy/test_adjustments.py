"""Manual points: rows applied by student id or name, bad rows reported with their line."""

from pathlib import Path

from grader.policy.adjustments import read_adjustments
from grader.scoring import Adjustment

STUDENTS = {"12345": "12345", "doejohn": "12345", "23456": "23456"}
ITEMS = ["corr2d", "pool2d"]


def test_rows_are_applied_to_their_students(tmp_path: Path) -> None:
    path = tmp_path / "adjustments.csv"
    path.write_text(
        "student,item,points,comment,by\n"
        '12345,pool2d,1.5,"mode handled in a helper",TA Kim\n'
        "doejohn,total,-5,integrity,Prof. Lee\n"
        ",,,,\n"
    )

    found = read_adjustments(path, STUDENTS, ITEMS)

    assert found.problems == []
    assert found.by_student == {
        "12345": [
            Adjustment("pool2d", 1.5, "mode handled in a helper", "TA Kim"),
            Adjustment("total", -5.0, "integrity", "Prof. Lee"),
        ]
    }


def test_bad_rows_are_reported_and_applied_nowhere(tmp_path: Path) -> None:
    path = tmp_path / "adjustments.csv"
    path.write_text(
        "student,item,points,comment\n"
        "zoe,total,1,who\n"
        "12345,pool3d,1,typo\n"
        "12345,total,lots,what\n"
        "12345,total,nan,what\n"
        "23456,corr2d,2,ok\n"
    )

    found = read_adjustments(path, STUDENTS, ITEMS)

    assert found.by_student == {"23456": [Adjustment("corr2d", 2.0, "ok")]}
    assert found.problems == [
        "adjustments.csv line 2: unknown student 'zoe'; not applied",
        "adjustments.csv line 3: unknown item 'pool3d' (an item of the gradebook, or total); not applied",
        "adjustments.csv line 4: points 'lots' is not a number; not applied",
        "adjustments.csv line 5: points 'nan' is not a number; not applied",
    ]


def test_a_file_without_its_columns_applies_nothing_and_says_so(tmp_path: Path) -> None:
    path = tmp_path / "adjustments.csv"
    path.write_text("name,score\n12345,3\n")

    found = read_adjustments(path, STUDENTS, ITEMS)

    assert found.by_student == {}
    assert found.problems == [
        "adjustments.csv: no column student, item, points (the columns are "
        "student,item,points,comment,by); no adjustment applied"
    ]


def test_no_file_is_no_adjustment(tmp_path: Path) -> None:
    found = read_adjustments(tmp_path / "adjustments.csv", STUDENTS, ITEMS)

    assert (found.by_student, found.problems) == ({}, [])
