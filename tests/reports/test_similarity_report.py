"""`similarity.html` and `similarity.csv` (`grader.reports.similarity`): ranked pairs with their
fragments side by side, what is normal for the class, and student text inert in both."""

import csv
import io
import json

from grader.cli import main
from grader.reports.similarity import similarity_csv, similarity_html
from grader.similarity.book import read_book
from grader.similarity.compare import compare, document
from tests.support import classroom

SHARED = "\n".join(
    [
        *classroom.OWN_WORK[0],
        *classroom.OWN_WORK[1],
        "rows, cols = K.shape  # </pre><script>alert(1)</script>\n",
    ]
)


def notebook(source: str) -> bytes:
    cell = {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None}
    return json.dumps(
        {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [cell | {"source": source}]}
    ).encode()


def hostile_comparison():
    book = read_book()
    documents = [
        document("=HYPERLINK(1)", "<b>Mallory</b>", notebook(SHARED), "a.ipynb", book),
        document("bob", "bob", notebook(SHARED), "b.ipynb", book),
        document("carol", "carol", b"{not json", "c.ipynb", book),
    ]
    return compare(documents)


def test_student_text_is_inert_in_the_page_and_the_table() -> None:
    comparison = hostile_comparison()

    page = similarity_html(comparison)
    rows = list(csv.DictReader(io.StringIO(similarity_csv(comparison))))

    assert "<script>" not in page
    assert "&lt;script&gt;" in page
    assert "<b>Mallory</b>" not in page
    assert "&lt;b&gt;Mallory&lt;/b&gt;" in page
    assert "carol: c.ipynb could not be read" in page
    assert rows[0]["student_a"] == "'=HYPERLINK(1)"
    assert rows[0]["flagged"] == "yes"


def test_the_page_shows_the_class_normal_and_each_shown_pair_side_by_side() -> None:
    comparison = hostile_comparison()

    page = similarity_html(comparison)

    assert "3 submissions, 3 pairs compared; 1 pairs share something of their own" in page
    assert "data:image/png;base64," in page  # each student's highest score, as a histogram
    assert page.count('<table class="side">') >= 1
    assert "view = torch.as_strided" in page
    assert 'class="flag"' in page


def test_the_command_writes_both_reports_and_names_the_flagged_pairs(tmp_path, capsys) -> None:
    students, copied = classroom.fixture_class(honest_students=12)
    classroom.write(students, tmp_path / "class")

    code = main(["similarity", str(tmp_path / "class"), "--out", str(tmp_path / "out")])

    printed = capsys.readouterr().out
    assert code == 0
    assert f"{len(students)} submissions" in printed
    assert printed.count("flagged: ") == len(copied)
    rows = list(csv.DictReader((tmp_path / "out" / "similarity.csv").open()))
    assert {frozenset((r["student_a"], r["student_b"])) for r in rows[: len(copied)]} == {
        frozenset(p) for p in copied
    }
    assert "HW2 similarity" in (tmp_path / "out" / "similarity.html").read_text()


def test_a_threshold_outside_zero_to_one_is_one_error(tmp_path, capsys) -> None:
    code = main(["similarity", str(tmp_path), "--out", str(tmp_path / "o"), "--threshold", "2"])

    assert code == 2
    assert "invalid --threshold 2.0" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
