"""Reports are pure functions of the results: their content, escaping, images, and a real browser render."""

import base64
import csv
import io
import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PIL import Image

from grader.reports.charts import histogram, loss_curve
from grader.reports.class_files import Student, gradebook_csv, junit_xml, summary_html
from grader.reports.feedback import feedback_html, feedback_markdown
from grader.reports.lms import canvas_csv, moodle_csv
from grader.reports.results import load_results, results_json
from grader.scoring import Adjustment, CheckResult, ScoreBook

HINTED = "pool2d(X, (2, 2), 'avg'): wrong values\n  expected [[2.0]]\n  got      [[8.0]]\n  hint: average computed as a sum: divide"


def class_of(books):
    """Students named by their ids, as summary_html takes them."""
    return [Student(name, name, name, book) for name, book in books.items()]


def book() -> ScoreBook:
    return ScoreBook(
        submission="alice.ipynb",
        isolation="bubblewrap: test",
        results=[
            CheckResult(
                "test_a",
                "corr2d",
                "corr2d reproduces the book example.",
                "passed",
                2.0,
                seconds=0.1,
            ),
            CheckResult(
                "test_b",
                "pool2d",
                "pool2d averages.",
                "failed",
                3.0,
                message=HINTED,
                seconds=0.2,
                mistake="average computed as a sum",
            ),
            CheckResult(
                "test_c",
                "LeNet",
                "LeNet trains.",
                "passed",
                1.0,
                data={"losses": [2.3, 1.9, 1.2], "device": "cpu"},
            ),
            CheckResult(
                "test_d",
                "LeNet",
                "LeNet <b>bold</b> check.",
                "not_graded",
                1.0,
                message="could not be graded",
            ),
        ],
    )


def adjusted(lms: str = "canvas") -> ScoreBook:
    """`book()` as `grade` leaves it for a late Canvas (or Moodle) submission with manual points."""
    graded = book()
    graded.provenance = {
        "student": "12345",
        "name": "doejohn",
        "file": "submissions.zip:doejohn_late_12345_678_hw2.ipynb",
        "graded_at": "2026-12-04T18:20:00+00:00",
        "grader": "0.1.0",
        "lms": lms,
    }
    graded.adjustments = [
        Adjustment("total", -0.6, "marked late by Canvas, counted as 1 day", kind="late"),
        Adjustment("pool2d", 1.5, "mode handled in a helper", "TA Kim"),
    ]
    graded.late_days, graded.late_note = 1, "marked late by Canvas, counted as 1 day"
    return graded


def png_size(data: bytes) -> tuple[int, int]:
    return Image.open(io.BytesIO(data)).size


def test_an_items_manual_points_show_in_its_heading_and_in_what_was_lost() -> None:
    text = feedback_markdown(adjusted(), title="HW2 feedback")

    assert "## `pool2d`: 1.5 / 3 (+1.5 by hand)" in text
    assert "- `pool2d`: 1.5 point(s) (+1.5 by hand)\n  - pool2d averages." in text
    page = feedback_html(adjusted(), title="HW2 feedback")
    assert "<code>pool2d</code>: 1.5 / 3 (+1.5 by hand)</h2>" in page


def test_late_work_without_a_late_policy_says_nothing_is_deducted() -> None:
    graded = adjusted()
    graded.adjustments = []
    graded.late_days, graded.late_note = (
        1,
        "marked late by Canvas; the course has no late policy here",
    )

    text = feedback_markdown(graded, title="HW2 feedback")

    assert (
        "- Late: no deduction (marked late by Canvas; the course has no late policy here)" in text
    )
    assert "+0" not in text


def test_plots_are_real_png_images() -> None:
    assert png_size(loss_curve([2.3, 1.0, 0.5, float("nan")], "LeNet")) == (480, 240)
    assert png_size(histogram([10, 55, 100, 100], 100)) == (480, 240)


def test_feedback_markdown_lists_items_points_and_messages() -> None:
    text = feedback_markdown(book(), title="HW2 feedback for alice")

    assert text.startswith("# HW2 feedback for alice\n\n**Total: 3 / 7**\n")
    assert "1 check(s) could not be graded" in text
    assert "## `pool2d`: 0 / 3" in text
    assert "- ✗ pool2d averages. (0/3, failed)" in text
    assert "  hint: average computed as a sum: divide" in text
    assert text.endswith("\n")


def test_feedback_html_escapes_student_text_and_embeds_the_loss_curve() -> None:
    page = feedback_html(book())

    assert "<b>bold</b>" not in page
    assert "LeNet &lt;b&gt;bold&lt;/b&gt; check." in page
    [image] = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
    assert png_size(base64.b64decode(image)) == (480, 240)
    assert 'id="total">Total: 3 / 7' in page


def test_results_json_keeps_a_check_not_graded_in_the_maximum_and_says_so() -> None:
    data = json.loads(results_json(book()))

    assert (data["score"], data["max_score"]) == (3.0, 7.0)
    assert [t["tags"] for t in data["tests"]] == [["corr2d"], ["pool2d"], ["LeNet"], ["LeNet"]]
    assert data["output"] == (
        "Isolation: bubblewrap: test\n1 check(s) could not be graded because of a problem in the "
        "grader; they count 0 until staff regrade this submission."
    )


def test_gradebook_has_a_row_per_student_and_a_column_per_item() -> None:
    text = gradebook_csv(
        [("123", "alice", book()), ("456", "bob", None)], ["corr2d", "pool2d", "LeNet"]
    )

    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows[0] == {
        "student": "123",
        "name": "alice",
        "corr2d": "2",
        "pool2d": "0",
        "LeNet": "1",
        "late": "",
        "late_deduction": "",
        "adjustments": "",
        "total": "3",
        "max": "7",
        "status": "regrade: 1 not graded",
    }
    assert rows[1]["status"] == "not graded"


def test_junit_xml_has_a_case_per_check() -> None:
    root = ET.fromstring(junit_xml({"alice": book()}))

    [suite] = root.findall("testsuite")
    assert suite.get("tests") == "4"
    assert suite.get("failures") == "1"
    assert suite.get("skipped") == "1"
    failure = suite.find("testcase[@name='test_b']/failure")
    assert failure is not None
    assert "average computed as a sum" in failure.text


def test_the_summary_puts_problems_first_the_most_failed_items_next_and_links_each_student() -> (
    None
):
    failing = book()
    perfect = ScoreBook(results=[r for r in book().results if r.item == "corr2d"])
    late = book()
    late.late_days = 2
    students = [
        Student("123", "Kim Minji", "123", failing),
        Student("456", "Doe John", "456", late),
        Student("789", "Lee Jun", "789", perfect),
        Student("999", "Park Ara", "999", None),
    ]

    page = summary_html(students, ["duplicate: class.zip:a.ipynb: student 123 handed in 2 files"])

    assert page.index('id="problems"') < page.index('id="counts"') < page.index('id="items"')
    assert "3 graded submissions, 1 not graded: mean 2.7, median 3 of 7" in page
    items = page[page.index('id="items"') : page.index('id="mistakes"')]
    assert items.index("<code>pool2d</code>") < items.index("<code>corr2d</code>")
    assert "2/2 passed" not in items.split("<code>pool2d</code>")[1].split("</details>")[0]
    mistakes = page[page.index('id="mistakes"') : page.index('id="students"')]
    assert (
        '<a href="123/feedback.html">Kim Minji</a>, <a href="456/feedback.html">Doe John</a>'
        in mistakes
    )
    table = page[page.index('id="students"') :]
    assert table.index("Doe John") < table.index("Kim Minji") < table.index("Park Ara")
    assert '<td class="num" data-value="2">2</td>' in table
    assert "<td>not graded</td><td></td>" in table


def test_summary_counts_the_common_mistakes() -> None:
    page = summary_html(
        class_of({"alice": book(), "bob": book()}), ["unknown: class.zip:notes.pdf: not a notebook"]
    )

    assert "<td>average computed as a sum</td><td>2</td>" in page
    assert "2 graded submissions" in page
    assert "notes.pdf" in page


@pytest.mark.skipif(
    shutil.which("chromium") is None, reason="Debian's chromium package is not installed"
)
def test_reports_render_in_headless_chromium(tmp_path: Path) -> None:
    """A class with failures, late work and manual points, as its pages show in a browser: the
    screenshot renders, and the DOM after the page's own script ran says what a TA and a student
    need (the students table sorted by a click on its score header)."""
    students = [
        Student("12345", "doejohn", "12345", adjusted()),
        Student("23456", "kimminji", "23456", ScoreBook(results=book().results[:1])),
        Student("34567", "leejun", "34567", None),
    ]
    click = "<script>document.querySelectorAll('#students th')[2].click()</script></body>"
    pages = {
        "feedback.html": feedback_html(adjusted(), title="HW2 feedback for doejohn"),
        "summary.html": summary_html(students, ["unknown: canvas.zip:notes.pdf: not a notebook"]),
        "sorted.html": summary_html(students, []).replace("</body>", click),
    }
    doms = {}
    for name, page in pages.items():
        path = tmp_path / name
        path.write_text(page, encoding="utf-8")
        shot = tmp_path / f"{name}.png"
        done = subprocess.run(
            ["chromium", "--headless", "--no-sandbox", "--disable-gpu",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={shot}",
             "--window-size=1024,1400", path.as_uri()],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-2000:]
        assert png_size(shot.read_bytes()) == (1024, 1400)
        dom = subprocess.run(
            ["chromium", "--headless", "--no-sandbox", "--disable-gpu",
             f"--user-data-dir={tmp_path / 'profile2'}", "--dump-dom", path.as_uri()],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        doms[name] = dom.stdout

    feedback = doms["feedback.html"]
    assert "Total: 3.9 / 7" in feedback
    assert "Late: -0.6 (marked late by Canvas, counted as 1 day)" in feedback
    assert feedback.index("Where you lost points") < feedback.index('id="item-corr2d"')
    summary = doms["summary.html"]
    assert summary.index("notes.pdf") < summary.index("Items, most often failed first")
    assert '<a href="12345/feedback.html">feedback</a>' in summary
    table = doms["sorted.html"].split('id="students"')[1].split("</tbody>")[0]
    rows = table.split("<tr>")[2:]
    assert [row.split("<td>")[1].split("<")[0] for row in rows] == ["leejun", "kimminji", "doejohn"]


@pytest.mark.parametrize(
    ("name", "render"),
    [
        ("results.json", lambda: results_json(book())),
        ("feedback.md", lambda: feedback_markdown(book(), title="HW2 feedback for alice")),
        (
            "gradebook.csv",
            lambda: gradebook_csv(
                [("123", "alice", book()), ("456", "bob", None)], ["corr2d", "pool2d", "LeNet"]
            ),
        ),
        ("junit.xml", lambda: junit_xml({"alice": book()})),
        ("feedback.html", lambda: feedback_html(book(), title="HW2 feedback for alice")),
        ("feedback_adjusted.md", lambda: feedback_markdown(adjusted(), title="HW2 feedback")),
        ("results_adjusted.json", lambda: results_json(adjusted())),
        (
            "gradebook_adjusted.csv",
            lambda: gradebook_csv(
                [("12345", "doejohn", adjusted())], ["corr2d", "pool2d", "LeNet"]
            ),
        ),
        (
            "canvas.csv",
            lambda: canvas_csv(
                [("12345", "doejohn", adjusted()), ("abc", "abc", book()), ("456", "bob", None)],
                "HW2 (98765)",
                7.0,
            ),
        ),
        (
            "moodle.csv",
            lambda: moodle_csv(
                [("123456", "Jane Doe", adjusted("moodle")), ("12345", "doejohn", adjusted())], 7.0
            ),
        ),
    ],
)
def test_reports_match_their_golden_files(golden, name, render) -> None:
    """The report layout is stable: a change shows here (update with --update-goldens)."""
    golden(name, render())


def test_the_summary_flags_submissions_graded_below_bubblewrap(tmp_path: Path) -> None:
    weak = book()
    weak.isolation = "unshare: no network, own process namespace; file system not hidden"
    path = tmp_path / "bob" / "results.json"
    path.parent.mkdir()
    path.write_text(results_json(weak))

    page = summary_html(class_of({"alice": book(), "bob": load_results(path)}), [])

    assert "<strong>Weak isolation:</strong> 1 submission(s) graded under unshare" in page
    assert "1 submission(s) graded under bubblewrap: test" in page


def unreadable_book() -> ScoreBook:
    reason = (
        "hw2.ipynb could not be read: it is not valid JSON: expecting value at line 40, column 1"
    )
    return ScoreBook(
        submission="hw2.ipynb",
        results=[
            CheckResult(f"test_{i}", item, f"check {i}.", "unreadable", 2.0, message=reason)
            for i, item in enumerate(["corr2d", "corr2d", "pool2d"])
        ],
    )


def test_an_unreadable_file_is_reported_once_with_status_unreadable_everywhere() -> None:
    unreadable = unreadable_book()
    reason = unreadable.unreadable

    results = json.loads(results_json(unreadable))
    assert (results["score"], results["max_score"], results["tests"]) == (0.0, 6.0, [])
    assert results["output"].startswith(reason + "\nNothing in it was graded")
    assert results["extra_data"]["status"] == "unreadable"
    assert load_results_from_text(results_json(unreadable)).unreadable == reason

    markdown = feedback_markdown(unreadable)
    assert markdown.count(reason) == 1
    assert "check 0" not in markdown
    html = feedback_html(unreadable)
    assert html.count("it is not valid JSON") == 1
    assert "check 0" not in html

    text = gradebook_csv(
        [("s1", "S One", unreadable), ("s2", "S Two", book())], ["corr2d", "pool2d", "LeNet"]
    )
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [row["status"] for row in rows] == ["unreadable", "regrade: 1 not graded"]
    suites = ET.fromstring(junit_xml({"s1": unreadable})).findall("testsuite")
    assert [len(s.findall("testcase")) for s in suites] == [1]
    assert suites[0].find("testcase/error").text == reason
    summary = summary_html(class_of({"s1": unreadable, "s2": book()}), [])
    assert "unreadable" in summary
    assert "check 0." not in summary  # its checks are not counted as failed


def load_results_from_text(text: str) -> ScoreBook:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "results.json"
        path.write_text(text)
        return load_results(path)
