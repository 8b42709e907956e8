"""The output folder of `grade`: a folder per student with its reports, and the class's files.

A student's `results.json` is written last and marks the submission as graded, so a rerun resumes
where a killed one stopped, and regrades what changed since (`grader.batch.provenance`). The class's
files are rebuilt from every results.json in the folder, not from this run's submissions alone: a
run that regrades one student leaves every other row as it was.
"""

from __future__ import annotations

import json
import re
import traceback
from collections.abc import Sequence
from pathlib import Path

from grader.batch import provenance
from grader.errors import GraderError
from grader.intake.answers import written_answers
from grader.intake.sources import Entry
from grader.intake.submission import HOMEWORK_ITEMS
from grader.policy.adjustments import FILES as ADJUSTMENTS_FILES
from grader.policy.adjustments import TOTAL, Adjustments, read_adjustments
from grader.policy.integrity import adjustments as integrity_adjustments
from grader.policy.late import TIMES_FILE, deduction, lateness, parse_instant, read_times
from grader.reports.class_files import Student, gradebook_csv, junit_xml, summary_html
from grader.reports.feedback import feedback_html, feedback_markdown
from grader.reports.lms import canvas_csv, moodle_csv
from grader.reports.results import load_results, results_json
from grader.reports.writing import discard_unfinished_writes, write_atomically
from grader.reports.written import FILE_NAME as WRITTEN
from grader.reports.written import Writer, written_html
from grader.rubric import load_integrity, load_late_policy
from grader.scoring import Adjustment, ScoreBook, total


def student_folder(out: Path, entry: Entry) -> Path:
    return out / re.sub(r"[^\w.@-]+", "_", entry.student).strip("._")[:100]


def prepare(
    out: Path, entries: Sequence[Entry], *, force: bool, select: tuple[str, ...] = ()
) -> list[tuple[Entry, str]]:
    """Make `out`, remove what a killed run left half-written, and return the entries to grade,
    each with why it is graded again ("" when it never was, or `force` asks): those without a results.json, those
    whose results are not what grading them now would give (`provenance.why_regrade`), or all of
    them with `force`. Call it before any worker starts (one grading run per output folder)."""
    out.mkdir(parents=True, exist_ok=True)
    for folder in {out, *(student_folder(out, e) for e in entries)}:
        discard_unfinished_writes(folder)
    pending = []
    for entry in entries:
        results = student_folder(out, entry) / "results.json"
        if not results.exists() or force:
            pending.append((entry, ""))
        else:
            current = provenance.stamp(entry, read_or_empty(entry), select)
            reason = provenance.why_regrade(_recorded(results), current)
            if reason is not None:
                pending.append((entry, reason))
            else:
                _refresh(results, current)
    return pending


def _refresh(results: Path, current: provenance.Provenance) -> None:
    """Keep what the export says of an unchanged submission (its name, file, time, late marker)
    as it says it now: a re-export that marks it late needs no regrade, but must not be ignored."""
    book = load_results(results)
    fresh = {key: getattr(current, key) for key in provenance.FROM_THE_EXPORT}
    if {key: book.provenance.get(key, "") for key in fresh} != fresh:
        book.provenance.update(fresh)
        write_atomically(results, results_json(book))


def _recorded(results: Path) -> dict[str, str] | None:
    try:
        return load_results(results).provenance or None
    except (OSError, ValueError, KeyError, TypeError):
        return None


def read_or_empty(entry: Entry) -> bytes:
    """The entry's bytes; empty (graded as unreadable, the reason in every check) if it cannot be read."""
    try:
        return entry.read()
    except GraderError:
        return b""


def write_submission_reports(
    out: Path, entry: Entry, book: ScoreBook, graded: provenance.Provenance
) -> str:
    """out/<student>/feedback.md, feedback.html, then results.json (which marks the work done),
    with the provenance of what was `graded`; returns the line the progress shows: the checks'
    points ("91 / 100 from the checks"), as late work and manual points are applied once the
    class's files are rebuilt (the summary printed then gives the totals)."""
    folder = student_folder(out, entry)
    book.submission = entry.label
    book.provenance = graded.as_json()
    _write_reports(folder, book, entry.display_name)
    (folder / GRADER_ERROR).unlink(missing_ok=True)
    summary = total(book.results)
    if book.unreadable:
        return f"unreadable, nothing graded ({book.unreadable})"
    return f"{summary.points:g} / {summary.max_points:g} from the checks"


def _write_reports(folder: Path, book: ScoreBook, name: str) -> None:
    title = f"HW2 feedback for {name}"
    reports = {
        "feedback.md": feedback_markdown(book, title=title),
        "feedback.html": feedback_html(book, title=title),
        "results.json": results_json(book),
    }  # all rendered before any is written: a report that cannot be rendered leaves none
    for file, text in reports.items():
        write_atomically(folder / file, text)


def _apply_policies(out: Path, found: dict[str, tuple[str, str, ScoreBook | None]]) -> list[str]:
    """Give each book its late deduction and manual points (`grader.policy`), and render again the
    reports of those whose adjustments changed; returns the problems found in the staff's files."""
    ids: dict[str, str] = {}
    for student, name, _ in found.values():
        ids.setdefault(name, student)
    ids.update({student: student for student, _, _ in found.values()})
    policy = load_late_policy()
    rules = load_integrity()
    manual = Adjustments()
    for path in sorted(out.glob(ADJUSTMENTS_FILES)):  # adjustments.csv, adjustments_written.csv
        found_here = read_adjustments(path, ids, HOMEWORK_ITEMS)
        for student, rows in found_here.by_student.items():
            manual.by_student.setdefault(student, []).extend(rows)
        manual.problems += found_here.problems
    times, problems = read_times(out / TIMES_FILE, ids)
    for folder, (student, name, book) in found.items():
        if book is None:
            continue
        recorded = book.provenance
        submitted = times.get(student) or parse_instant(recorded.get("submitted_at", ""))
        late = lateness(
            policy, submitted, bool(recorded.get("late_by")), recorded.get("late_by") or "the LMS"
        )
        checks = total(book.results)
        off = deduction(policy, late, checks.points, checks.max_points)
        adjustments = integrity_adjustments(book, rules)
        adjustments += [Adjustment(TOTAL, -off, late.why, kind="late")] if late and off else []
        adjustments += manual.by_student.get(student, [])
        days, note = (late.days, late.why) if late else (0, "")
        if (adjustments, days, note) != (book.adjustments, book.late_days, book.late_note):
            book.adjustments, book.late_days, book.late_note = adjustments, days, note
            _write_reports(out / folder, book, name)
    return manual.problems + problems


ANSWERS = "answers.json"
"""A student's written answers (`grader.intake.answers`), with the digest of the file they are from."""


def _write_written_answers(
    out: Path, entries: Sequence[Entry], found: dict[str, tuple[str, str, ScoreBook | None]]
) -> None:
    """Each graded submission of this run's answers.json (read again only when its file changed),
    then written.html from every student's."""
    for entry in entries:
        folder = student_folder(out, entry)
        book = found.get(folder.name, (None, None, None))[2]
        if book is None:
            continue
        digest = book.provenance.get("digest", "")
        path = folder / ANSWERS
        try:
            kept = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            kept = None
        if isinstance(kept, dict) and kept.get("digest") == digest and digest:
            continue
        answers, named = written_answers(read_or_empty(entry), entry.name)
        record = {"digest": digest, "answers": answers, "titles": named}
        write_atomically(path, json.dumps(record, indent=1, sort_keys=True) + "\n")
    writers = []
    titles: dict[str, str] = {}
    for name_of_folder in sorted(found):
        student, name, _ = found[name_of_folder]
        try:
            record = json.loads((out / name_of_folder / ANSWERS).read_text(encoding="utf-8"))
            answers = {str(k): str(v) for k, v in record["answers"].items()}
            titles.update({str(k): str(v) for k, v in record["titles"].items() if k not in titles})
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            continue
        writers.append(Writer(student, name, answers))
    write_atomically(out / WRITTEN, written_html(writers, titles))


GRADER_ERROR = "grader-error.txt"
"""Left in a student's folder when grading it stopped with an error of ours (for staff)."""


def record_failure(out: Path, entry: Entry, error: BaseException) -> str:
    """Note that grading `entry` stopped with an error of the grader's: its traceback goes to
    out/<student>/grader-error.txt and no results.json is written, so the class files list the
    student as not graded and a rerun grades it again. Returns the progress line."""
    folder = student_folder(out, entry)
    details = "".join(traceback.format_exception(error))
    write_atomically(
        folder / GRADER_ERROR,
        f"{entry.label}: grading stopped with an error of the grader's (not of the submission's).\n"
        f"Run the same `grade` command again to grade it; report this file if it happens again.\n\n"
        f"{details}",
    )
    return (
        f"not graded: an error of the grader's (see {folder.name}/{GRADER_ERROR}); rerun to retry"
    )


CLASS_FILES = (
    "gradebook.csv", "canvas.csv", "moodle.csv", "summary.html", "written.html", "junit.xml",
    "problems.txt",
)  # fmt: skip
"""What `write_class_reports` writes (the LMS files only where students came from that LMS)."""


def write_class_reports(
    out: Path,
    entries: Sequence[Entry],
    problems: Sequence[str],
    *,
    canvas_assignment: str = "HW2",
) -> dict[str, ScoreBook]:
    """problems.txt, gradebook.csv, junit.xml and summary.html from every results.json in `out`
    (students graded by earlier runs included), and a row for each of this run's `entries` without
    one (not graded); canvas.csv and moodle.csv where students came from those LMS's exports
    (`grader.reports.lms`). Returns the books read, by student."""
    problems = list(problems)
    found: dict[str, tuple[str, str, ScoreBook | None]] = {}  # by folder
    for results in sorted(out.glob("*/results.json")):
        folder = results.parent
        try:
            book: ScoreBook | None = load_results(results)
        except (OSError, ValueError, KeyError, TypeError) as error:
            problems.append(f"not graded: {folder.name}/results.json cannot be read ({error})")
            book = None
        student = (book.provenance.get("student") if book else None) or folder.name
        name = (book.provenance.get("name") if book else None) or student
        found[folder.name] = (student, name, book)
        if book is not None and book.unreadable:
            problems.append(f"unreadable: {student} ({name}): {book.unreadable}")
    for entry in entries:
        folder = student_folder(out, entry)
        if found.get(folder.name, (None, None, None))[2] is None:
            found[folder.name] = (entry.student, entry.display_name, None)
            if (folder / GRADER_ERROR).exists():
                problems.append(
                    f"not graded: {entry.label}: an error of the grader's stopped its grading "
                    f"(see {folder.name}/{GRADER_ERROR}); run `grade` again to grade it"
                )
    problems += _apply_policies(out, found)
    _write_written_answers(out, entries, found)
    rows = sorted(found.values(), key=lambda row: row[0])
    books = {student: book for student, _, book in rows if book is not None}
    write_atomically(out / "problems.txt", "".join(f"{p}\n" for p in problems))
    write_atomically(out / "gradebook.csv", gradebook_csv(rows, HOMEWORK_ITEMS))
    maximum = max((total(b.results).max_points for b in books.values()), default=0.0)
    exported = {b.provenance.get("lms") for b in books.values()}
    if "canvas" in exported:
        write_atomically(out / "canvas.csv", canvas_csv(rows, canvas_assignment, maximum))
    if "moodle" in exported:
        write_atomically(out / "moodle.csv", moodle_csv(rows, maximum))
    write_atomically(out / "junit.xml", junit_xml(books))
    students = [
        Student(student, name, folder, book) for folder, (student, name, book) in found.items()
    ]
    write_atomically(out / "summary.html", summary_html(students, problems))
    return books
