"""Written answers: the prose under each numbered section, without the template's questions."""

import json
from pathlib import Path

from grader.intake.answers import written_answers

SUBMISSIONS = Path(__file__).resolve().parents[2] / "submissions"


def test_the_solution_answers_the_six_written_sections_and_the_template_none() -> None:
    answers, titles = written_answers((SUBMISSIONS / "solved.ipynb").read_bytes(), "solved.ipynb")
    template, _ = written_answers((SUBMISSIONS / "homework.ipynb").read_bytes(), "homework.ipynb")

    assert sorted(answers) == ["7.1.1", "7.1.4", "7.2.5", "7.2.6", "8.6.1", "8.6.2"]
    assert answers["7.2.5"].startswith("In order to receive the output of a strict convolution")
    assert "**Receptive Field:**" in answers["7.2.6"]
    assert titles["8.6.2"] == "Residual Blocks"
    assert template == {}


def notebook(*cells: tuple[str, str]) -> bytes:
    return json.dumps(
        {
            "cells": [
                {
                    "cell_type": kind,
                    "metadata": {},
                    "source": source,
                    **({"outputs": [], "execution_count": None} if kind == "code" else {}),
                }
                for kind, source in cells
            ],
            "metadata": {},
            "nbformat": 4,
            "nbformat_minor": 4,
        }
    ).encode()


def test_answers_run_to_the_next_heading_whatever_the_cells() -> None:
    data = notebook(
        ("markdown", "# My homework\n\nNotes before any section are not an answer."),
        (
            "markdown",
            "### 7.2.5. Cross-Correlation and Convolution\n\n> the question\nFlip the kernel",
        ),
        ("code", "x = 1  # code is not prose"),
        ("markdown", "both ways.\n\n*Your answer here.*"),
        ("markdown", "## Appendix\n\nnot an answer either"),
        ("markdown", "### 8.6.2 Residual Blocks\n\n<script>alert(1)</script> g(x) = f(x) - x"),
    )

    answers, titles = written_answers(data, "hw.ipynb")

    assert answers == {
        "7.2.5": "Flip the kernel\nboth ways.",
        "8.6.2": "<script>alert(1)</script> g(x) = f(x) - x",  # text: the page escapes it
    }
    assert titles["7.2.5"] == "Cross-Correlation and Convolution"


def test_an_unreadable_file_has_no_answers() -> None:
    assert written_answers(b"{broken", "hw.ipynb") == ({}, {})
    assert written_answers(b"", "hw.pdf") == ({}, {})
