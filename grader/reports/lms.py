"""Grade files the learning-management systems import unchanged, beside `gradebook.csv`.

* `canvas.csv`: Canvas's gradebook layout (Grades > Import): `Student, ID, SIS User ID, SIS Login
  ID, Section`, then one column for the assignment, and a `Points Possible` row. Canvas matches
  rows by `ID`, the user id its submission downloads put in each file name; the column is named
  after the assignment (`--canvas-assignment "HW2 (98765)"`, as Canvas's own export names it,
  updates that assignment; a name Canvas does not know becomes a new assignment).
* `moodle.csv`: the assignment's grading worksheet (Assignment > View all submissions > Upload
  grading worksheet): `Identifier` is `Participant N`, N being the id in the folder names of
  Moodle's submission download, with `Full name`, `Grade`, `Maximum Grade` and `Feedback comments`.

Gradescope needs no file: its autograder receives each score in results.json. Only students an
export of that LMS named are written to its file (ids from other sources mean nothing there).
Scores are the gradebook's totals, late deductions and manual points included.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from grader.reports.jinja import points
from grader.reports.neutral import csv_cell
from grader.scoring import ScoreBook, final

Row = tuple[str, str, ScoreBook | None]
"""(student id, name, results or None when not graded), as the gradebook's rows."""


def canvas_csv(rows: Sequence[Row], assignment: str, maximum: float) -> str:
    """Canvas's gradebook import for the rows from Canvas exports (`lms` provenance `canvas`)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section", assignment])
    writer.writerow(["    Points Possible", "", "", "", "", points(maximum)])
    for student, name, book in rows:
        if book is not None and book.provenance.get("lms") == "canvas":
            score = points(final(book).points)
            writer.writerow([csv_cell(name), csv_cell(student), "", "", "", score])
    return out.getvalue()


def moodle_csv(rows: Sequence[Row], maximum: float) -> str:
    """Moodle's grading worksheet for the rows from Moodle downloads (`lms` provenance `moodle`)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["Identifier", "Full name", "Grade", "Maximum Grade", "Feedback comments"])
    for student, name, book in rows:
        if book is not None and book.provenance.get("lms") == "moodle":
            summary = final(book)
            comment = f"Autograded: {points(summary.points)} / {points(summary.max_points)}"
            writer.writerow(
                [
                    f"Participant {student}",
                    csv_cell(name),
                    points(summary.points),
                    points(maximum),
                    comment,
                ]
            )
    return out.getvalue()
