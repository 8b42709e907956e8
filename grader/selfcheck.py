"""A student's self-check (`python -m grader check NOTEBOOK`): the public checks, a line per item as
each is graded, what failed with its hint, a closing total, and an exit status a script can use.

Lines appear item by item while grading goes on, so an item that runs long is seen at once (on a
terminal its name shows while it runs). An item still at the template's stub is one `todo` line,
not a traceback per check. Colour only on a terminal, and never with `NO_COLOR` (no-color.org).
`--json` prints per-item scores for tools instead.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TextIO

from grader.errors import GraderError, UnreadableSubmission
from grader.reports.terminal import (
    closing_line,
    failure_details,
    grouped,
    item_line,
    terminal_summary,
)
from grader.scoring import CheckResult, ScoreBook, by_item, total


def check(
    notebook: Path,
    *,
    extra_args: tuple[str, ...] = (),
    summary: Path | None = None,
    junit: Path | None = None,
    as_json: bool = False,
    out: TextIO | None = None,
) -> int:
    """Grade `notebook` with the public checks and print the result; 1 if any failed, else 0.
    A file that cannot be read as a notebook raises `GraderError` (one line, exit status 2).

    `summary` (a GitHub job summary, say) gets the feedback as Markdown appended; `junit` gets a
    JUnit XML report, a test case per check, for a CI system's test view."""
    from grader.grading import grade
    from grader.intake.submission import load_submission

    out = out if out is not None else sys.stdout
    if not notebook.is_file():
        raise GraderError(f"{notebook} is not a file")
    try:
        load_submission(notebook)
    except UnreadableSubmission as error:
        raise GraderError(str(error)) from None
    progress = None if as_json else Progress(out, colour=wants_colour(out))
    book = grade(notebook, visibility="public", extra_args=extra_args, listener=progress)
    if progress is not None:
        progress.close()
        print(details(book), file=out)
        if book.isolation and not book.isolation.startswith("bubblewrap"):
            print(f"your code ran with weaker isolation: {book.isolation}", file=out)
    else:
        print(json.dumps(scores(book), indent=2), file=out)
    if summary is not None:
        from grader.reports.feedback import feedback_markdown

        with summary.open("a", encoding="utf-8") as written:
            written.write(feedback_markdown(book, title=f"HW2 self-check: {notebook.name}"))
    if junit is not None:
        from grader.reports.class_files import junit_xml
        from grader.reports.writing import write_atomically

        junit.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(junit, junit_xml({notebook.name: book}))
    if book.results and all(r.outcome == "not_graded" for r in book.results):
        raise GraderError(
            "no check could be graded: the grader itself failed (see the messages above)"
        )
    failed = [
        r for r in book.results if r.outcome in ("failed", "timeout", "missing", "unreadable")
    ]
    return 1 if failed else 0


def wants_colour(stream: TextIO) -> bool:
    """Colour on a terminal that shows it, unless `NO_COLOR` is set to anything but empty."""
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    return hasattr(stream, "isatty") and stream.isatty()


class Progress:
    """Prints a line per item as soon as its last check ends (a `grader.grading.Listener`). On a
    terminal, the item being graded is shown meanwhile on a line that its result then replaces."""

    def __init__(self, out: TextIO, *, colour: bool) -> None:
        self._given = out
        self.out = _past_capture(out)
        self.live = colour
        self.colour = colour
        self.item: str | None = None
        self.results: list[CheckResult] = []

    def started(self, item: str) -> None:
        if item != self.item:
            self._print_item()
            self.item, self.results = item, []
            if self.live:
                self.out.write(f"\r\x1b[K...  {item}")
                self.out.flush()

    def finished(self, result: CheckResult) -> None:
        if result.item != self.item:  # a check that failed before it started (a missing item)
            self._print_item()
            self.item, self.results = result.item, []
        self.results.append(result)

    def close(self) -> None:
        self._print_item()
        self.item = None
        if self.out is not self._given:
            self.out.close()

    def _print_item(self) -> None:
        if self.item is None or not self.results:
            return
        clear = "\r\x1b[K" if self.live else ""
        self.out.write(clear + item_line(self.item, self.results, colour=self.colour) + "\n")
        self.out.flush()
        self.results = []


def _past_capture(out: TextIO) -> TextIO:
    """`out` on a file descriptor of its own: pytest captures descriptors 1 and 2 while checks
    run, which would hold the item lines back until grading ends."""
    try:
        descriptor = out.fileno()
    except (AttributeError, OSError, ValueError):  # a StringIO, a notebook's stream
        return out
    out.flush()
    return open(os.dup(descriptor), "w", encoding=out.encoding or "utf-8", errors="replace")


def details(book: ScoreBook) -> str:
    """After the item lines: what failed in each item, with its message and hint, then the total."""
    if book.unreadable:
        return terminal_summary(book)
    lines = []
    for item, results in grouped(book.results).items():
        shown = failure_details(results)
        if shown:
            lines += [f"{item}:", *shown]
    return "\n".join([*lines, closing_line(book)])


def scores(book: ScoreBook) -> dict[str, object]:
    """`--json`: per-item and total scores, as `{"items": {"corr2d": {"score": 8, "max_score": 8},
    ...}, "score": ..., "max_score": ...}`."""
    summary = total(book.results)
    return {
        "items": {
            item: {"score": t.points, "max_score": t.max_points}
            for item, t in by_item(book.results).items()
        },
        "score": summary.points,
        "max_score": summary.max_points,
    }
