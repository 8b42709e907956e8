"""Late work: the rubric's `[late]` table, how late a submission is, and what that costs.

```toml
[late]
due = 2026-12-10T23:59:00-05:00   # a TOML date-time with its offset (or one in quotes)
grace_minutes = 15                 # submissions this close after `due` are on time
per_day = 10                       # percent of the maximum off per started day late
# factor = 0.5                     # or: late work earns this fraction of its points
cap = 50                           # at most this percent of the maximum off (default 100)
marker_days = 1                    # days late for work the LMS marks late without a time
```

How late a submission is comes from its time when the export gives one (Gradescope's
`:created_at`, or the staff's `submission_times.csv`), else from the LMS's late marker (Canvas's
`_late_` in the file name), which counts `marker_days`. Without a `[late]` table nothing is deducted,
and the gradebook still shows who the LMS marked late.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from grader.errors import ConfigurationError


class LatePolicyError(ConfigurationError, ValueError):
    """The rubric's [late] table is malformed; the message says which key."""


@dataclass(frozen=True)
class LatePolicy:
    due: datetime | None
    grace: timedelta = timedelta()
    per_day: float = 0.0
    factor: float | None = None
    cap: float = 100.0
    marker_days: int = 1


@dataclass(frozen=True)
class Lateness:
    days: int
    """Started days after the due date (and grace); 0 when on time."""
    why: str
    """How it is known, for the student: "submitted 2026-12-11 09:14 UTC, 1 day after ..."."""


KEYS = {"due", "grace_minutes", "per_day", "factor", "cap", "marker_days"}


def load_policy(table: Mapping[str, Any], where: str) -> LatePolicy:
    """The policy of a rubric's [late] table; LatePolicyError names the key at fault."""
    unknown = sorted(set(table) - KEYS)
    if unknown:
        raise LatePolicyError(
            f"{where}: unknown key {unknown[0]!r} (known: {', '.join(sorted(KEYS))})"
        )
    due = table.get("due")
    if isinstance(due, str):
        try:
            due = datetime.fromisoformat(due)
        except ValueError:
            raise LatePolicyError(
                f"{where}: due must be a date-time such as 2026-12-10T23:59:00-05:00, not {due!r}"
            ) from None
    if isinstance(due, date) and not isinstance(due, datetime):
        raise LatePolicyError(
            f"{where}: due needs a time and an offset (2026-12-10T23:59:00-05:00)"
        )
    if due is not None and (not isinstance(due, datetime) or due.tzinfo is None):
        raise LatePolicyError(
            f"{where}: due needs a UTC offset (2026-12-10T23:59:00-05:00), not {due!r}"
        )

    def number(key: str, default: float, low: float, high: float) -> float:
        value = table.get(key, default)
        if (
            not isinstance(value, int | float)
            or isinstance(value, bool)
            or not low <= value <= high
        ):
            raise LatePolicyError(
                f"{where}: {key} must be a number from {low:g} to {high:g}, not {value!r}"
            )
        return float(value)

    factor = number("factor", 1.0, 0.0, 1.0) if "factor" in table else None
    per_day = number("per_day", 0.0, 0.0, 100.0)
    if factor is not None and per_day:
        raise LatePolicyError(f"{where}: give per_day or factor, not both")
    return LatePolicy(
        due=due,
        grace=timedelta(minutes=number("grace_minutes", 0, 0, 60 * 24 * 365)),
        per_day=per_day,
        factor=factor,
        cap=number("cap", 100.0, 0.0, 100.0),
        marker_days=int(number("marker_days", 1, 0, 365)),
    )


def lateness(
    policy: LatePolicy | None,
    submitted_at: datetime | None,
    marked_late: bool,
    lms: str = "the LMS",
) -> Lateness | None:
    """How late a submission is; None when nothing says it is late."""
    if submitted_at is not None and policy is not None and policy.due is not None:
        after = submitted_at - policy.due - policy.grace
        when = submitted_at.astimezone(policy.due.tzinfo).strftime("%Y-%m-%d %H:%M %Z").strip()
        if after <= timedelta():
            return None
        days = math.ceil(after / timedelta(days=1))
        return Lateness(days, f"submitted {when}, {_days(days)} after the due date")
    if marked_late:
        if policy is None:
            return Lateness(1, f"marked late by {lms}; the course has no late policy here")
        days = policy.marker_days
        return Lateness(days, f"marked late by {lms}, counted as {_days(days)}")
    return None


def deduction(
    policy: LatePolicy | None, late: Lateness | None, earned: float, max_points: float
) -> float:
    """Points taken off for `late` work that earned `earned` of `max_points` (positive or 0)."""
    if policy is None or late is None or late.days <= 0:
        return 0.0
    if policy.factor is not None:
        off = earned * (1 - policy.factor)
    else:
        off = max_points * policy.per_day / 100 * late.days
    return round(min(off, max_points * policy.cap / 100, earned), 6)


def _days(days: int) -> str:
    return f"{days} day{'s' if days != 1 else ''}"


TIMES_FILE = "submission_times.csv"


def read_times(path: Path, students: Mapping[str, str]) -> tuple[dict[str, datetime], list[str]]:
    """Submission times staff give in `path` (columns `student,submitted_at`, ISO 8601 with an
    offset), by student id (`students` maps ids and names to ids), and the rows that could not be
    used; a missing file gives none. These win over the times an export gives."""
    times: dict[str, datetime] = {}
    problems: list[str] = []
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        return times, problems
    except (OSError, UnicodeDecodeError) as error:
        return times, [f"{path.name}: cannot be read ({error}); no time used"]
    reader = csv.DictReader(io.StringIO(text))
    if not {"student", "submitted_at"} <= set(reader.fieldnames or []):
        return times, [f"{path.name}: the columns are student,submitted_at; no time used"]
    for row in reader:
        where = f"{path.name} line {reader.line_num}"
        student = (row.get("student") or "").strip()
        raw = (row.get("submitted_at") or "").strip()
        if student not in students:
            problems.append(f"{where}: unknown student {student!r}; not used")
            continue
        moment = parse_instant(raw)
        if moment is None:
            problems.append(
                f"{where}: {raw!r} is not a time with an offset (2026-12-11T09:14:00-05:00); not used"
            )
            continue
        times[students[student]] = moment
    return times, problems


def parse_instant(text: str) -> datetime | None:
    """An ISO 8601 time with its offset; None for anything else (a time without an offset could
    be any of 26 hours)."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None
