"""A student's self-check (`python -m grader check NOTEBOOK`): the public checks, a line per item,
what failed with its hint, and an exit status a script can use."""

from __future__ import annotations

from pathlib import Path

from grader.errors import GraderError
from grader.reports.terminal import terminal_summary


def check(
    notebook: Path,
    *,
    extra_args: tuple[str, ...] = (),
    summary: Path | None = None,
    junit: Path | None = None,
) -> int:
    """Grade `notebook` with the public checks and print the result; 1 if any failed, else 0.

    `summary` (a GitHub job summary, say) gets the feedback as Markdown appended; `junit` gets a
    JUnit XML report, a test case per check, for a CI system's test view."""
    from grader.grading import grade

    if not notebook.is_file():
        raise GraderError(f"{notebook} is not a file")
    book = grade(notebook, visibility="public", extra_args=extra_args)
    print(terminal_summary(book))
    if summary is not None:
        from grader.reports.feedback import feedback_markdown

        with summary.open("a", encoding="utf-8") as out:
            out.write(feedback_markdown(book, title=f"HW2 self-check: {notebook.name}"))
    if junit is not None:
        from grader.reports.class_files import junit_xml
        from grader.reports.writing import write_atomically

        junit.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(junit, junit_xml({notebook.name: book}))
    failed = [
        r for r in book.results if r.outcome in ("failed", "timeout", "missing", "unreadable")
    ]
    if book.results and all(r.outcome == "not_graded" for r in book.results):
        raise GraderError(
            "no check could be graded: the grader itself failed (see the messages above)"
        )
    return 1 if failed else 0
