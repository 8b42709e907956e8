"""Turn check outcomes into points. Knows nothing about pytest or torch.

Every check is all or nothing. A check that could not be graded (our fault) earns nothing and is also
dropped from the maximum, so a harness failure never lowers a student's percentage; `total` reports
both the points and the maximum that counted.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

Outcome = Literal["passed", "failed", "timeout", "missing", "not_graded"]
Visibility = Literal["public", "hidden"]
OUTCOMES: tuple[Outcome, ...] = ("passed", "failed", "timeout", "missing", "not_graded")


@dataclass(frozen=True)
class CheckResult:
    """One check's verdict, as a student and staff see it."""

    check_id: str
    item: str
    description: str
    outcome: Outcome
    max_points: float
    visibility: Visibility = "public"
    message: str = ""
    """Student-facing; empty when passed."""
    staff_details: str = ""
    """For staff only (a traceback of ours when not graded)."""
    seconds: float = 0.0
    data: dict[str, object] = field(default_factory=dict)
    """What the check recorded for the report (a training run's losses, the device)."""

    @property
    def points(self) -> float:
        return points_for(self.outcome, self.max_points)


def points_for(outcome: Outcome, max_points: float) -> float:
    """Points earned by one check: all or nothing."""
    return max_points if outcome == "passed" else 0.0


@dataclass(frozen=True)
class Total:
    points: float
    max_points: float
    not_graded: int


def total(results: Iterable[CheckResult]) -> Total:
    """Points earned and the maximum over the checks that were graded."""
    points = max_points = 0.0
    not_graded = 0
    for result in results:
        if result.outcome == "not_graded":
            not_graded += 1
            continue
        points += result.points
        max_points += result.max_points
    return Total(round(points, 6), round(max_points, 6), not_graded)


def by_item(results: Iterable[CheckResult]) -> dict[str, Total]:
    """`total` per homework item, in the order the items first appear."""
    groups: dict[str, list[CheckResult]] = {}
    for result in results:
        groups.setdefault(result.item, []).append(result)
    return {item: total(group) for item, group in groups.items()}


@dataclass
class ScoreBook:
    """The results of one grading session, in the order the checks ran."""

    submission: str = ""
    isolation: str = ""
    results: list[CheckResult] = field(default_factory=list)
    student_seconds: float = 0.0
    """Time the submission's children spent inside requests (student code), as they reported it."""

    def add(self, result: CheckResult) -> None:
        self.results.append(result)
