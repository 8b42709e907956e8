"""`written.html`: every student's written answer to each section side by side, for staff to grade.

One table per homework section that any student wrote prose under (`grader.intake.answers`), a row
per student with the answer as they wrote it (shown as text, never as HTML), and a points and a
comment field. "Download the adjustments" saves the points given as `adjustments_written.csv`
(`student,item,points,comment,by`, item `total`, the comment naming the section); saved in the
report folder, the next `grade` run applies it like `adjustments.csv` (`grader.policy.adjustments`)
and the students see the comments in their feedback. The page needs no server.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from grader.reports.jinja import environment

FILE_NAME = "written.html"
DOWNLOAD = "adjustments_written.csv"


@dataclass(frozen=True)
class Writer:
    """A student and what they wrote: section number -> answer."""

    id: str
    name: str
    answers: Mapping[str, str]


def _order(section: str) -> tuple[int, ...]:
    return tuple(int(part) for part in section.split(".") if part.isdigit())


def written_html(writers: Sequence[Writer], titles: Mapping[str, str]) -> str:
    """The page; sections in the homework's order, students by name."""
    sections = sorted({s for w in writers for s in w.answers}, key=_order)
    ordered = sorted(writers, key=lambda w: (w.name.lower(), w.id))
    template = environment().get_template("written.html")
    return str(
        template.render(
            sections=[
                {
                    "number": section,
                    "title": titles.get(section, ""),
                    "rows": [(w, w.answers.get(section, "")) for w in ordered],
                    "answered": sum(bool(w.answers.get(section)) for w in ordered),
                }
                for section in sections
            ],
            students=len(ordered),
            download=DOWNLOAD,
        )
    )
