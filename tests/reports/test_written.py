"""written.html: each section's answers side by side, and the points given there read back as
adjustments (the page's own script run by headless Chromium)."""

import csv
import html
import io
import shutil
import subprocess
from pathlib import Path

import pytest

from grader.policy.adjustments import read_adjustments
from grader.reports.written import Writer, written_html
from grader.scoring import Adjustment

WRITERS = [
    Writer("23456", "kimminji", {"7.2.5": "Flip the kernel both ways.", "8.6.2": "<b>g(x)</b>"}),
    Writer("12345", "doejohn", {"7.2.5": 'Use "flip" twice.'}),
]
TITLES = {"7.2.5": "Cross-Correlation and Convolution", "8.6.2": "Residual Blocks"}


def test_sections_in_order_students_by_name_answers_as_text() -> None:
    page = written_html(WRITERS, TITLES)

    assert page.index("7.2.5 Cross-Correlation") < page.index("8.6.2 Residual Blocks")
    first = page[page.index('id="section-7.2.5"') : page.index('id="section-8.6.2"')]
    assert first.index("doejohn") < first.index("kimminji")
    assert "(2 of 2 answered)" in first
    assert "&lt;b&gt;g(x)&lt;/b&gt;" in page
    assert "<b>g(x)</b>" not in page
    assert "no answer</td>" in page.split('id="section-8.6.2"')[1]


@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian's chromium is not installed")
def test_points_given_on_the_page_come_back_as_adjustments(tmp_path: Path) -> None:
    fill = """<script>
    const set = (kind, student, section, value) => { document.querySelector(
      `input.${kind}[data-student="${student}"][data-section="${section}"]`).value = value; };
    set("points", "12345", "7.2.5", "1.5"); set("comment", "12345", "7.2.5", 'clear, "flip" right');
    set("points", "23456", "8.6.2", "-0.5");
    const out = document.createElement("pre"); out.id = "csv"; out.textContent = adjustmentsCsv();
    document.body.appendChild(out);
    </script></body>"""
    page = tmp_path / "written.html"
    page.write_text(written_html(WRITERS, TITLES).replace("</body>", fill), encoding="utf-8")

    dom = subprocess.run(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120,
    ).stdout  # fmt: skip
    text = html.unescape(dom.split('<pre id="csv">')[1].split("</pre>")[0])
    saved = tmp_path / "adjustments_written.csv"
    saved.write_text(text)

    assert len(list(csv.reader(io.StringIO(text)))) == 3
    found = read_adjustments(saved, {"12345": "12345", "23456": "23456"}, ["corr2d"])
    assert found.problems == []
    assert found.by_student == {
        "12345": [
            Adjustment("total", 1.5, 'written answer 7.2.5: clear, "flip" right', "written.html")
        ],
        "23456": [Adjustment("total", -0.5, "written answer 8.6.2", "written.html")],
    }
