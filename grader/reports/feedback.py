"""A student's feedback: the total and where points were lost first, then per item its points and,
for each failed check, what was checked and the message with its hint; as Markdown, and as HTML
with the passed checks folded and the training runs' loss curves. Both say which file was graded,
when and by which grader, and list the late deduction and manual points with their comments."""

from __future__ import annotations

from dataclasses import dataclass

from grader.reports.jinja import OUTCOME_LABELS, environment, floats, points
from grader.reports.neutral import markdown_fence, visible
from grader.reports.results import UNREADABLE_ADVICE, adjustment_line, all_adjustments
from grader.scoring import CheckResult, ScoreBook, Total, final, total


@dataclass(frozen=True)
class Item:
    name: str
    total: Total
    failed: list[CheckResult]
    """Every check not passed, in the order they ran: the not graded ones too."""
    passed: list[CheckResult]
    adjusted: float = 0.0
    """Manual points given to (or taken from) this item, in `points` already."""

    @property
    def points(self) -> float:
        """The item's points with its manual points, within 0 and its maximum's reach."""
        return round(max(0.0, self.total.points + self.adjusted), 6)

    @property
    def heading(self) -> str:
        """`corr2d: 3 / 10 (+2 by hand)`: what the item earned, and how much of it by hand."""
        return f"{points(self.points)} / {points(self.total.max_points)}{self.by_hand}"

    @property
    def by_hand(self) -> str:
        return f" ({self.adjusted:+g} by hand)" if self.adjusted else ""

    @property
    def lost(self) -> list[CheckResult]:
        """The checks the submission failed (a check not graded is ours, not a loss)."""
        return [r for r in self.failed if r.outcome != "not_graded"]

    @property
    def lost_points(self) -> float:
        """The points of the checks lost, less what was given back by hand (never below 0)."""
        return round(max(0.0, sum(r.max_points for r in self.lost) - self.adjusted), 6)


def _items(book: ScoreBook) -> list[Item]:
    groups: dict[str, list[CheckResult]] = {}
    for result in book.results:
        groups.setdefault(result.item, []).append(result)
    adjusted: dict[str, float] = {}
    for adjustment in book.adjustments:
        adjusted[adjustment.item] = adjusted.get(adjustment.item, 0.0) + adjustment.points
    return [
        Item(
            name,
            total(results),
            [r for r in results if r.outcome != "passed"],
            [r for r in results if r.outcome == "passed"],
            round(adjusted.get(name, 0.0), 6),
        )
        for name, results in groups.items()
    ]


def graded_line(book: ScoreBook) -> str:
    """ "Graded hw2.ipynb on 2026-12-04 18:20 UTC by hw2-grader 0.1.0." (empty outside `grade`)."""
    recorded = book.provenance
    if not recorded:
        return ""
    when = recorded.get("graded_at", "").replace("T", " ").replace("+00:00", " UTC")
    # The file's own name: the folder it was graded from is the staff's, not the student's.
    file = recorded.get("file", "").rsplit(":", 1)[-1].replace("\\", "/").rsplit("/", 1)[-1]
    return f"Graded {file} on {when} by hw2-grader {recorded.get('grader', '')}."


def feedback_markdown(book: ScoreBook, *, title: str = "HW2 feedback") -> str:
    """The student's feedback as Markdown."""
    summary = final(book)
    items = _items(book)
    lines = [
        f"# {title}",
        "",
        f"**Total: {points(summary.points)} / {points(summary.max_points)}**",
        "",
    ]
    if graded := graded_line(book):
        lines += [visible(graded), ""]
    if book.unreadable:
        return "\n".join([*lines, visible(book.unreadable), "", UNREADABLE_ADVICE]) + "\n"
    if summary.not_graded:
        lines += [
            f"{summary.not_graded} check(s) could not be graded because of a problem in the grader. "
            "They count 0 for now; your instructor has been notified and will regrade them.",
            "",
        ]
    if adjustments := all_adjustments(book):
        lines += ["## Adjustments", ""]
        lines += [f"- {visible(adjustment_line(a))}" for a in adjustments]
        lines.append("")
    lost = [item for item in items if item.lost]
    if lost:
        lines += ["## Where you lost points", ""]
        for item in lost:
            lines.append(f"- `{item.name}`: {points(item.lost_points)} point(s){item.by_hand}")
            lines += [f"  - {r.description}" for r in item.lost]
        lines.append("")
    for item in items:
        lines += [
            f"## `{item.name}`: {item.heading}",
            "",
        ]
        for r in item.failed + item.passed:
            mark = "✓" if r.outcome == "passed" else "✗"
            lines.append(
                f"- {mark} {r.description} ({points(r.points)}/{points(r.max_points)}, {OUTCOME_LABELS[r.outcome]})"
            )
            if r.outcome != "passed" and r.message:
                message = visible(r.message)
                fence = markdown_fence(message)
                lines += [
                    "",
                    f"  {fence}",
                    *[f"  {line}" for line in message.splitlines()],
                    f"  {fence}",
                    "",
                ]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def feedback_html(book: ScoreBook, *, title: str = "HW2 feedback") -> str:
    """The student's feedback as a self-contained HTML page (loss curves embedded as PNG)."""
    import base64

    from grader.reports.charts import loss_curve

    curves = {
        r.check_id: base64.b64encode(
            loss_curve(floats(r.data["losses"]), r.item, floats(r.data.get("reference_losses")))
        ).decode()
        for r in book.results
        if r.data.get("losses")
    }
    template = environment().get_template("feedback.html")
    return str(
        template.render(
            title=title,
            total=final(book),
            graded=graded_line(book),
            unreadable=book.unreadable,
            advice=UNREADABLE_ADVICE,
            adjustments=[adjustment_line(a) for a in all_adjustments(book)],
            items=_items(book),
            curves=curves,
            labels=OUTCOME_LABELS,
        )
    )
