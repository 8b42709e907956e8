"""The output folder of `grade`: a folder per student with its reports, and the class's files.

A student's `results.json` is written last and marks the submission as graded, so a rerun resumes
where a killed one stopped; the class's files are rebuilt from the results.json files found.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from grader.errors import GraderError
from grader.intake.sources import Entry
from grader.intake.submission import HOMEWORK_ITEMS
from grader.reports.class_files import gradebook_csv, junit_xml, summary_html
from grader.reports.feedback import feedback_html, feedback_markdown
from grader.reports.results import load_results, results_json
from grader.reports.writing import discard_unfinished_writes, write_atomically
from grader.scoring import ScoreBook, total


def student_folder(out: Path, entry: Entry) -> Path:
    return out / re.sub(r"[^\w.@-]+", "_", entry.student).strip("._")[:100]


def prepare(out: Path, entries: Sequence[Entry], *, force: bool) -> list[Entry]:
    """Make `out`, remove what a killed run left half-written, and return the entries to grade:
    those without a results.json, or all of them with `force`. Call it before any worker starts
    (one grading run per output folder)."""
    out.mkdir(parents=True, exist_ok=True)
    for folder in {out, *(student_folder(out, e) for e in entries)}:
        discard_unfinished_writes(folder)
    return [e for e in entries if force or not (student_folder(out, e) / "results.json").exists()]


def read_or_empty(entry: Entry) -> bytes:
    """The entry's bytes; empty (graded as unreadable, the reason in every check) if it cannot be read."""
    try:
        return entry.read()
    except GraderError:
        return b""


def write_submission_reports(out: Path, entry: Entry, book: ScoreBook) -> str:
    """out/<student>/feedback.md, feedback.html, then results.json (which marks the work done);
    returns the line the progress shows ("points / max")."""
    folder = student_folder(out, entry)
    book.submission = entry.label
    title = f"HW2 feedback for {entry.display_name}"
    write_atomically(folder / "feedback.md", feedback_markdown(book, title=title))
    write_atomically(folder / "feedback.html", feedback_html(book, title=title))
    write_atomically(folder / "results.json", results_json(book))
    summary = total(book.results)
    return f"{summary.points:g} / {summary.max_points:g}"


def write_class_reports(
    out: Path, entries: Sequence[Entry], problems: Sequence[str]
) -> dict[str, ScoreBook]:
    """problems.txt, gradebook.csv, junit.xml and summary.html from every entry's results.json;
    returns the books read, by student."""
    write_atomically(out / "problems.txt", "".join(f"{p}\n" for p in problems))
    rows = []
    books = {}
    for entry in entries:
        path = student_folder(out, entry) / "results.json"
        book = load_results(path) if path.exists() else None
        rows.append((entry.student, entry.display_name, book))
        if book is not None:
            books[entry.student] = book
    write_atomically(out / "gradebook.csv", gradebook_csv(rows, HOMEWORK_ITEMS))
    write_atomically(out / "junit.xml", junit_xml(books))
    write_atomically(out / "summary.html", summary_html(books, problems))
    return books
