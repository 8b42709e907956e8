"""Grading one correct notebook with every check (public and hidden, smoke runs included), with a warm
sandbox: the time a submission costs in a batch. Run with `pytest benchmarks` or `tox -e bench`.

The per-item breakdown is printed at the end (`-s` shows it).
"""

from collections import defaultdict
from pathlib import Path

import pytest

from grader.grading import grade, settle
from grader.sandbox import Sandbox
from grader.scoring import total

SOLVED = Path(__file__).resolve().parent.parent / "submissions" / "solved.ipynb"


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox() as box:
        grade(
            SOLVED, sandbox=box
        )  # warm: imports the checks and draws the examples, once per process
        settle()  # as a batch worker does after its first submission
        yield box


def test_grade_one_correct_notebook(benchmark, sandbox) -> None:
    book = benchmark.pedantic(grade, args=(SOLVED,), kwargs={"sandbox": sandbox}, rounds=5)

    assert total(book.results).points == 100
    wall = benchmark.stats.stats.median
    benchmark.extra_info["student_seconds"] = round(book.student_seconds, 3)
    benchmark.extra_info["harness_seconds"] = round(wall - book.student_seconds, 3)
    per_item: dict[str, float] = defaultdict(float)
    for result in book.results:
        per_item[result.item] += result.seconds
    print("\nseconds per item (check calls):")
    for item, seconds in sorted(per_item.items(), key=lambda kv: -kv[1]):
        print(f"  {item:26s} {seconds:6.2f}")
