"""The late policy: the rubric's [late] table read strictly, how late a submission is, what it costs."""

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from grader.policy.late import (
    LatePolicy,
    LatePolicyError,
    deduction,
    lateness,
    load_policy,
    read_times,
)
from grader.rubric import RUBRIC_PATH, load_late_policy, load_rubric

UTC = timezone.utc
EST = timezone(timedelta(hours=-5))
DUE = datetime(2026, 12, 10, 23, 59, tzinfo=EST)


def test_a_table_is_read_with_its_defaults() -> None:
    policy = load_policy({"due": DUE, "per_day": 10, "cap": 30}, "rubric.toml: [late]")

    assert policy == LatePolicy(due=DUE, per_day=10.0, cap=30.0)


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"due": DUE, "per_dya": 10}, "unknown key 'per_dya'"),
        ({"due": "2026-12-10T23:59:00"}, "due needs a UTC offset"),
        ({"due": "next friday"}, "due must be a date-time"),
        ({"due": DUE, "per_day": 10, "factor": 0.5}, "per_day or factor, not both"),
        ({"due": DUE, "factor": 1.5}, "factor must be a number from 0 to 1"),
        ({"due": DUE, "cap": True}, "cap must be a number"),
    ],
)
def test_a_malformed_table_names_its_key(table: dict, message: str) -> None:
    with pytest.raises(LatePolicyError, match=message):
        load_policy(table, "rubric.toml: [late]")


def test_the_shipped_rubric_has_no_late_policy_and_its_checks_are_read_as_before(
    tmp_path: Path,
) -> None:
    assert load_late_policy() is None
    rubric = tmp_path / "rubric.toml"
    rubric.write_text(
        RUBRIC_PATH.read_text() + "\n[late]\ndue = 2026-12-10T23:59:00-05:00\nper_day = 10\n"
    )

    assert load_late_policy(rubric) == LatePolicy(due=DUE, per_day=10.0)
    assert load_rubric(rubric) == load_rubric()


def test_lateness_counts_started_days_after_the_grace() -> None:
    policy = LatePolicy(due=DUE, grace=timedelta(minutes=15), per_day=10)

    assert lateness(policy, DUE + timedelta(minutes=15), False) is None
    one = lateness(policy, DUE + timedelta(minutes=16), False)
    assert one is not None
    assert one.days == 1
    assert "submitted 2026-12-11 00:15" in one.why
    assert "1 day after the due date" in one.why
    two = lateness(policy, (DUE + timedelta(days=1, minutes=16)).astimezone(UTC), False)
    assert two is not None
    assert two.days == 2
    assert "2 days" in two.why
    assert lateness(policy, DUE - timedelta(days=3), True) is None  # the time wins over a marker


def test_a_marker_without_a_time_counts_marker_days() -> None:
    marked = lateness(LatePolicy(due=DUE, marker_days=2), None, True, "Canvas")

    assert marked is not None
    assert marked.days == 2
    assert marked.why == "marked late by Canvas, counted as 2 days"
    unpriced = lateness(None, None, True, "Canvas")  # shown even without a policy
    assert unpriced is not None
    assert unpriced.why == "marked late by Canvas; the course has no late policy here"
    assert lateness(LatePolicy(due=DUE), None, False) is None


def test_deductions_per_day_by_factor_and_capped() -> None:
    late = lateness(LatePolicy(due=DUE), DUE + timedelta(days=2, hours=1), False)
    assert late is not None
    assert late.days == 3

    assert deduction(LatePolicy(due=DUE, per_day=10), late, 90, 100) == 30
    assert deduction(LatePolicy(due=DUE, per_day=10, cap=25), late, 90, 100) == 25
    assert deduction(LatePolicy(due=DUE, per_day=10), late, 12, 100) == 12  # never below 0
    assert deduction(LatePolicy(due=DUE, factor=0.5), late, 80, 100) == 40
    assert deduction(None, late, 80, 100) == 0
    assert deduction(LatePolicy(due=DUE, per_day=10), None, 80, 100) == 0


def test_times_staff_give_are_read_by_id_or_name_and_bad_rows_reported(tmp_path: Path) -> None:
    path = tmp_path / "submission_times.csv"
    path.write_text(
        "student,submitted_at\n"
        "12345,2026-12-11T09:14:00-05:00\n"
        "Kim Minji,2026-12-11T14:00:00Z\n"
        "zoe,2026-12-11T09:14:00-05:00\n"
        "12345,2026-12-11 09:14\n"
    )

    times, problems = read_times(path, {"12345": "12345", "23456": "23456", "Kim Minji": "23456"})

    assert times == {
        "12345": datetime(2026, 12, 11, 9, 14, tzinfo=EST),
        "23456": datetime(2026, 12, 11, 14, 0, tzinfo=UTC),
    }
    assert problems == [
        "submission_times.csv line 4: unknown student 'zoe'; not used",
        "submission_times.csv line 5: '2026-12-11 09:14' is not a time with an offset "
        "(2026-12-11T09:14:00-05:00); not used",
    ]
