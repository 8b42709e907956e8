"""Student text made inert in each report format.

A report carries text a student controls: the messages of the exceptions their code raised, what it
printed, and their names (which come from file names in an LMS export). Each format is attacked in
its own way, so each has its own function here, applied where the text enters the format:

* CSV (`csv_cell`): a cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is a
  formula to Excel, LibreOffice and Google Sheets (a student named `=HYPERLINK(...)`), so it is
  prefixed with `'`, as OWASP recommends; spreadsheets show the text and drop the quote.
* XML (`xml_text`): XML 1.0 forbids most control characters, so one `\\x00` in a message made the
  whole `junit.xml` unreadable; they are shown as `\\x00` instead.
* Markdown (`markdown_fence`): a fence longer than any run of backticks in the text, so a message
  cannot close its code block and write Markdown of its own.
* Terminals and CI logs (`terminal`): control characters (escape sequences recolour text, move the
  cursor, hide lines, retitle the window) and bidirectional overrides (which reorder what is shown)
  are shown as escapes; a line that begins with `::` or `##[` (a GitHub Actions or Azure Pipelines
  workflow command, obeyed when a job prints it) is printed behind a marker instead.

HTML is escaped by Jinja's autoescape (`grader.reports.jinja`); JSON needs nothing.
"""

from __future__ import annotations

import re

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

_XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_WORKFLOW_COMMAND = re.compile(r"^(\s*)(::|##\[|##vso\[)", re.MULTILINE)
WORKFLOW_MARKER = "| "


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def csv_cell(text: str) -> str:
    """`text` as a spreadsheet shows it, never as a formula."""
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def xml_text(text: str) -> str:
    """`text` with the characters XML 1.0 forbids shown as escapes (`<` and `&` are the XML
    writer's to escape)."""
    return _XML_FORBIDDEN.sub(_escaped, text)


def visible(text: str) -> str:
    """`text` with its control characters and bidirectional overrides shown as escapes (newlines
    and tabs kept)."""
    return _CONTROLS.sub(_escaped, text)


def terminal(text: str) -> str:
    """`text` safe to print: `visible`, and no line read as a workflow command."""
    return _WORKFLOW_COMMAND.sub(rf"\1{WORKFLOW_MARKER}\2", visible(text))


def markdown_fence(text: str) -> str:
    """A backtick fence that `text` cannot close: longer than its longest run of backticks."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


__all__ = ["csv_cell", "markdown_fence", "terminal", "visible", "xml_text"]
