"""Similarity across a class (`grader.similarity`): copied pairs rank first and are flagged, honest
students who all start from the book are not, and what the book or the class holds is never shared."""

import json
from pathlib import Path

import pytest

from grader.similarity.book import read_book
from grader.similarity.compare import Document, Settings, compare, document, fragments
from tests.support import classroom

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def book():
    return read_book()


def notebook_bytes(cells: list[tuple[str, str]]) -> bytes:
    return json.dumps(
        {
            "nbformat": 4,
            "nbformat_minor": 5,
            "metadata": {},
            "cells": [
                {"cell_type": kind, "metadata": {}, "source": source}
                | ({"outputs": [], "execution_count": None} if kind == "code" else {})
                for kind, source in cells
            ],
        }
    ).encode()


def doc(name: str, cells: list[tuple[str, str]], book) -> Document:
    return document(name, name, notebook_bytes(cells), f"{name}.ipynb", book)


def test_the_fixture_class_ranks_its_copied_pairs_first_and_flags_no_one_else(book) -> None:
    students, copied = classroom.fixture_class()
    documents = [
        document(s.name, s.name, json.dumps(s.notebook).encode(), f"{s.name}.ipynb", book)
        for s in students
    ]

    comparison = compare(documents)

    ranked = [{documents[p.first].student, documents[p.second].student} for p in comparison.pairs]
    assert {frozenset(p) for p in ranked[: len(copied)]} == {frozenset(p) for p in copied}
    flagged = [
        {documents[p.first].student, documents[p.second].student}
        for p in comparison.pairs
        if p.flagged
    ]
    assert sorted(map(sorted, flagged)) == sorted(map(sorted, copied))
    assert len(comparison.pairs) > 100  # honest students do share a little: the class's normal


@pytest.mark.parametrize(
    "path",
    [
        ROOT / "submissions" / "homework.ipynb",
        ROOT / "submissions" / "solved.ipynb",
        ROOT / "submissions" / "students" / "alice_solved.ipynb",
    ],
    ids=lambda p: p.stem,
)
def test_the_book_and_a_notebook_that_keeps_it_have_nothing_of_their_own(book, path) -> None:
    kept = document(path.stem, path.stem, path.read_bytes(), path.name, book)

    assert kept.passages
    assert kept.marks == []


def test_answers_copied_from_the_homework_text_are_not_the_students(book) -> None:
    text = (ROOT / "grader/similarity/book/homework.txt").read_text()
    answer = text.split("### 7.1.1 Invariance", 1)[1].split("###", 1)[0].strip()

    copied = doc("s", [("markdown", "### 7.1.1 Invariance"), ("markdown", answer)], book)

    assert [p.kind for p in copied.passages] == ["prose"]
    assert copied.marks == []


OWN = (
    "def corr2d(X, K):\n    rows, cols = K.shape\n"
    "    view = torch.as_strided(X, size=(X.shape[0] - rows + 1, X.shape[1] - cols + 1, rows, cols),\n"
    "                            stride=(X.stride(0), X.stride(1), X.stride(0), X.stride(1)))\n"
    "    return torch.einsum('ijkl,kl->ij', view, K)\n"
)


def test_a_fragment_more_of_the_class_holds_counts_less_and_a_common_one_not_at_all(book) -> None:
    pair = [doc(n, [("code", OWN)], book) for n in ("a", "b")]
    trio = [doc(n, [("code", OWN)], book) for n in ("a", "b", "c")]
    crowd = [doc(f"s{n}", [("code", OWN)], book) for n in range(5)]
    settings = Settings(common_share=0.0)  # common above 3 holders

    alone, among_three, among_five = (compare(c, settings) for c in (pair, trio, crowd))

    assert alone.pairs[0].score == pytest.approx(2 * among_three.pairs[0].score, abs=1e-3)
    assert alone.pairs[0].shared_code == among_three.pairs[0].shared_code > 0
    assert among_five.pairs == []
    assert among_five.common > 0


def test_little_work_of_ones_own_cannot_make_a_high_score(book) -> None:
    line = "print(torch.as_strided(X, (2, 2), (1, 1)).flip(0).cumsum(1).std())\n"
    documents = [doc(n, [("code", line)], book) for n in ("a", "b")]

    comparison = compare(documents)

    assert 0 < comparison.own[0] < Settings().floor
    assert comparison.pairs[0].score == pytest.approx(
        comparison.own[0] / Settings().floor, abs=1e-3
    )
    assert not comparison.pairs[0].flagged


def test_starter_code_staff_add_to_the_book_is_not_shared(tmp_path: Path, book) -> None:
    starter = tmp_path / "starter.py"
    starter.write_text(OWN)
    documents = [doc(n, [("code", OWN)], book) for n in ("a", "b")]
    with_starter = read_book([starter])

    assert compare(documents).pairs
    assert compare([doc(n, [("code", OWN)], with_starter) for n in ("a", "b")]).pairs == []
    assert str(starter) in with_starter.sources


def test_a_file_that_is_not_a_notebook_is_listed_not_compared(book) -> None:
    broken = document("x", "x", b"{not json", "x.ipynb", book)

    assert "not valid JSON" in broken.problem
    assert compare([broken, doc("a", [("code", OWN)], book)]).pairs == []


def test_fragments_show_each_students_own_lines_side_by_side(book) -> None:
    disguised = (
        OWN.replace("rows", "r").replace("cols", "c").replace("view", "v")
        + "\n# a comment of mine\n"
    )
    documents = [
        doc("a", [("code", "x = 1\n"), ("code", OWN)], book),
        doc("b", [("code", disguised)], book),
    ]

    comparison = compare(documents)
    shown = fragments(comparison, comparison.pairs[0])

    assert shown[0].first_where == "the cell starting `def corr2d(X, K):`"
    assert "view = torch.as_strided" in shown[0].first_text
    assert "v = torch.as_strided" in shown[0].second_text


def test_a_huge_submission_is_read_only_up_to_its_budget(book) -> None:
    from grader.similarity.tokens import MAX_CHARACTERS

    cells = [("code", OWN * 2000) for _ in range(20)]
    cells += [("markdown", f"### 7.{n}.1 X\n\n" + "word " * 5000) for n in range(100)]

    huge = doc("h", cells, book)

    assert sum(len(p.text) for p in huge.passages if p.kind == "code") == MAX_CHARACTERS
    assert sum(len(p.text) for p in huge.passages if p.kind == "prose") == MAX_CHARACTERS
