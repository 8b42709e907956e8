"""What a grading command prints on a terminal: a line per item of a self-check, a line per student
of a class. Student text is printed through `grader.reports.neutral.terminal` (a CI log obeys some
lines it prints)."""

from __future__ import annotations

from grader.reports.neutral import terminal
from grader.scoring import CheckResult, ScoreBook, by_item, final, total


def terminal_summary(book: ScoreBook) -> str:
    """A self-check on a terminal: a line per item, what failed with its message, the total."""
    if book.unreadable:
        return f"{terminal(book.unreadable)}\nNothing was checked: fix the file and check it again."
    lines = []
    results_by_item: dict[str, list[CheckResult]] = {}
    for result in book.results:
        results_by_item.setdefault(result.item, []).append(result)
    for item, item_total in by_item(book.results).items():
        if item_total.max_points == 0:
            mark = "n/g "
        else:
            mark = "ok  " if item_total.points == item_total.max_points else "FAIL"
        lines.append(f"{mark} {item:26s} {item_total.points:5g} / {item_total.max_points:g}")
        for r in results_by_item[item]:
            if r.outcome in ("failed", "timeout", "missing"):
                lines.append(f"     - {r.description}")
                lines += [f"       {line}" for line in terminal(r.message).splitlines()[:12]]
    summary = total(book.results)
    lines.append(f"total {summary.points:g} / {summary.max_points:g} (public checks)")
    if summary.not_graded:
        lines.append(
            f"{summary.not_graded} check(s) could not be graded (a grader problem): they count 0 "
            "until your instructor regrades them"
        )
    return "\n".join(lines)


def summary_table(books: dict[str, ScoreBook]) -> str:
    """One line per student: total (late deduction and manual points included), and the items
    that lost points."""
    lines = [
        f"{'student':24s} {'total':>9s}  items that lost points (totals with late work and manual points)"
    ]
    for student, book in books.items():
        summary = final(book)
        lost = [item for item, t in by_item(book.results).items() if t.points < t.max_points]
        if book.unreadable:
            lost = ["unreadable: nothing graded"]
        lines.append(
            f"{terminal(student)[:24]:24s} {summary.points:4g}/{summary.max_points:<4g}  {', '.join(lost) or '-'}"
        )
    return "\n".join(lines)
