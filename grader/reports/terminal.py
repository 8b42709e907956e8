"""What a grading command prints on a terminal: a line per item of a self-check, a line per student
of a class. Student text is printed through `grader.reports.neutral.terminal` (a CI log obeys some
lines it prints)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from grader.reports.neutral import terminal
from grader.reports.results import adjustment_line
from grader.scoring import CheckResult, ScoreBook, by_item, final, total

NOT_IMPLEMENTED = "raised NotImplementedError"
"""How a failed check's message begins when the student's item is still the template's stub."""

_COLOURS = {"ok": "32", "FAIL": "31", "todo": "33", "n/g": "35"}


def item_mark(results: Sequence[CheckResult]) -> str:
    """`ok`, `FAIL`, `todo` (every check that did not pass met the template's
    `NotImplementedError`) or `n/g` (none of its checks could be graded)."""
    item_total = total(results)
    if item_total.max_points == 0 or all(r.outcome == "not_graded" for r in results):
        return "n/g"
    if item_total.points == item_total.max_points:
        return "ok"
    unfinished = [r for r in results if r.outcome != "passed"]
    if all(NOT_IMPLEMENTED in r.message for r in unfinished):
        return "todo"
    return "FAIL"


def item_line(item: str, results: Sequence[CheckResult], *, colour: bool = False) -> str:
    """One line for an item: its mark, name and points (`todo` says what to do)."""
    mark = item_mark(results)
    item_total = total(results)
    shown = f"\x1b[{_COLOURS[mark]}m{mark:4s}\x1b[0m" if colour else f"{mark:4s}"
    line = f"{shown} {item:26s} {item_total.points:5g} / {item_total.max_points:g}"
    return line + ("   not implemented yet" if mark == "todo" else "")


def failure_details(results: Sequence[CheckResult]) -> list[str]:
    """What failed in an item, with each message and hint (nothing for a `todo` item: the line
    already says it, where the template's traceback would repeat once per check)."""
    if item_mark(results) == "todo":
        return []
    lines = []
    for r in results:
        if r.outcome in ("failed", "timeout", "missing"):
            lines.append(f"     - {r.description}")
            lines += [f"       {line}" for line in terminal(r.message).splitlines()[:12]]
    return lines


def closing_line(book: ScoreBook) -> str:
    """The total, and how many items pass, fail and are still to do."""
    summary = final(book)
    marks = [item_mark(group) for group in grouped(book.results).values()]
    counts = [
        f"{marks.count(mark)} {word}"
        for mark, word in (("ok", "pass"), ("FAIL", "fail"), ("todo", "not implemented yet"))
        if marks.count(mark)
    ]
    line = "".join(f"{terminal(adjustment_line(a))}\n" for a in book.adjustments)
    line += (
        f"total {summary.points:g} / {summary.max_points:g} (public checks): {', '.join(counts)}"
    )
    if summary.not_graded:
        line += (
            f"\n{summary.not_graded} check(s) could not be graded (a grader problem): they count 0 "
            "until your instructor regrades them"
        )
    return line


def grouped(results: Iterable[CheckResult]) -> dict[str, list[CheckResult]]:
    """The results of each item, in the order the items first appear."""
    groups: dict[str, list[CheckResult]] = {}
    for result in results:
        groups.setdefault(result.item, []).append(result)
    return groups


def terminal_summary(book: ScoreBook, *, colour: bool = False) -> str:
    """A self-check on a terminal: a line per item, what failed with its message, the total."""
    if book.unreadable:
        return f"{terminal(book.unreadable)}\nNothing was checked: fix the file and check it again."
    lines = []
    for item, results in grouped(book.results).items():
        lines.append(item_line(item, results, colour=colour))
        lines += failure_details(results)
    lines.append(closing_line(book))
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
