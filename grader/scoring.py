"""Turn check outcomes into points. Knows nothing about pytest or torch.

Every check is all or nothing. A check that could not be graded (our fault) earns nothing for now but
keeps its points in the maximum: were it dropped, a submission could raise its percentage by making a
check fail in a way that looks like ours (an answer the harness chokes on). Instead the submission is
flagged for regrade (`Total.needs_regrade`), and every report says which checks and that staff
will regrade them, so a fault of ours is repaired by a rerun rather than hidden in a smaller maximum.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

Outcome = Literal["passed", "failed", "timeout", "missing", "not_graded", "unreadable"]
Visibility = Literal["public", "hidden"]
OUTCOMES: tuple[Outcome, ...] = (
    "passed",
    "failed",
    "timeout",
    "missing",
    "not_graded",
    "unreadable",
)
"""`unreadable`: the file could not be read as a notebook, so no check ran; every check of such
a submission has it, with the same reason (see `ScoreBook.unreadable`)."""


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
    mistake: str = ""
    """The mistake the grader diagnosed, from its catalogue (`grader.checking.mistakes`): what the
    staff summary counts. Never taken from a message, which student text can imitate."""

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
    """Checks that could not be graded (counted in `max_points`, earning nothing until regraded)."""

    @property
    def needs_regrade(self) -> bool:
        return self.not_graded > 0


def total(results: Iterable[CheckResult]) -> Total:
    """Points earned, the maximum over every check, and how many checks await a regrade."""
    points = max_points = 0.0
    not_graded = 0
    for result in results:
        not_graded += result.outcome == "not_graded"
        points += result.points
        max_points += result.max_points
    return Total(round(points, 6), round(max_points, 6), not_graded)


def by_item(results: Iterable[CheckResult]) -> dict[str, Total]:
    """`total` per homework item, in the order the items first appear."""
    groups: dict[str, list[CheckResult]] = {}
    for result in results:
        groups.setdefault(result.item, []).append(result)
    return {item: total(group) for item, group in groups.items()}


@dataclass(frozen=True)
class Adjustment:
    """Points staff add (positive) or take off (negative) beyond the checks: a late deduction
    (`grader.policy.late`) or manual points (`grader.policy.adjustments`), shown to the student with
    its comment."""

    item: str
    """An item's name, or `total`."""
    points: float
    comment: str
    by: str = ""
    kind: Literal["late", "manual", "integrity"] = "manual"


def final(book: ScoreBook) -> Total:
    """The submission's total with its adjustments: never below 0, the maximum the checks'."""
    checks = total(book.results)
    adjusted = checks.points + sum(a.points for a in book.adjustments)
    return Total(round(max(0.0, adjusted), 6), checks.max_points, checks.not_graded)


def item_points(book: ScoreBook) -> dict[str, float]:
    """Each item's points with the adjustments made to that item (not those to the total)."""
    points = {item: t.points for item, t in by_item(book.results).items()}
    for adjustment in book.adjustments:
        if adjustment.item in points:
            points[adjustment.item] = round(points[adjustment.item] + adjustment.points, 6)
    return points


@dataclass
class ScoreBook:
    """The results of one grading session, in the order the checks ran."""

    submission: str = ""
    isolation: str = ""
    results: list[CheckResult] = field(default_factory=list)
    student_seconds: float = 0.0
    """Time the submission's children spent inside requests (student code), as they reported it."""
    provenance: dict[str, str] = field(default_factory=dict)
    """What was graded, by which grader, when (`grader.batch.provenance`); empty outside `grade`."""
    adjustments: list[Adjustment] = field(default_factory=list)
    """Late deductions and manual points, applied when the class's files are rebuilt."""
    late_days: int = 0
    late_note: str = ""
    """How it is known to be late, for the student ("marked late by Canvas, counted as 1 day")."""
    operations: dict[str, list[str]] = field(default_factory=dict)
    """Per item, the torch operations it used that the rubric's `[integrity]` rules forbid
    (`grader.policy.integrity`), as the child recorded them while the checks called it."""

    @property
    def unreadable(self) -> str:
        """Why the submitted file could not be read (no check ran), or "" when it was read."""
        return next((r.message for r in self.results if r.outcome == "unreadable"), "")

    def add(self, result: CheckResult) -> None:
        self.results.append(result)
