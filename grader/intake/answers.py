"""The written answers of a notebook: its Markdown prose, by the homework section it is under.

The homework asks for prose besides code (what 7.1.1 Invariance, 7.2.5 Cross-Correlation and
Convolution or 8.6.2 Residual Blocks mean, in the student's words). No check can grade that, so
staff read it: `grader.reports.written` puts every student's answer to a section side by side.
A section is a Markdown heading that starts with its number (`### 7.2.5 Cross-Correlation ...`);
what follows it in Markdown cells, up to the next numbered heading, is the answer. The template's
questions are block quotes (`> ...`) and its placeholder is `*Your answer here.*`: neither counts.
Prose before the first numbered heading is not an answer. Never runs anything.
"""

from __future__ import annotations

import re

from grader.errors import UnreadableSubmission
from grader.intake.notebook import read_cells

HEADING = re.compile(r"^#{1,6}\s+(?P<number>\d+(?:\.\d+)+)\.?\s+(?P<title>.*?)\s*#*\s*$")
PLACEHOLDER = re.compile(r"^\W*your answer here\W*$", re.IGNORECASE)
MAX_ANSWER_CHARACTERS = 20_000
"""More than any answer to one section; the rest is cut, with a note."""

Answers = dict[str, str]
"""Section number -> the student's prose under it."""


def written_answers(data: bytes, name: str) -> tuple[Answers, dict[str, str]]:
    """The answers in the notebook `data` by section, and each section's title as the notebook
    gives it; none when the file cannot be read as cells."""
    try:
        cells = read_cells(data, name)
    except UnreadableSubmission:
        return {}, {}
    found: dict[str, list[str]] = {}
    titles: dict[str, str] = {}
    section: str | None = None
    for cell in cells:
        if cell.kind != "markdown":
            continue
        for line in cell.source.splitlines():
            if heading := HEADING.match(line.strip()):
                section = heading["number"]
                titles.setdefault(section, heading["title"])
                continue
            if line.lstrip().startswith("#"):
                section = None  # an unnumbered heading ends the section
                continue
            if section is None or line.lstrip().startswith(">") or PLACEHOLDER.match(line.strip()):
                continue
            found.setdefault(section, []).append(line.rstrip())
    answers = {}
    for number, lines in found.items():
        text = "\n".join(lines).strip()
        if len(text) > MAX_ANSWER_CHARACTERS:
            text = (
                text[:MAX_ANSWER_CHARACTERS] + "\n[... cut: the answer is longer than staff read]"
            )
        if text:
            answers[number] = text
    return answers, titles
