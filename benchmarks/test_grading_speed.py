"""Grading one correct notebook with every check (public and hidden, smoke runs included), with a warm
sandbox: the time a submission costs in a batch. Run with `pytest benchmarks` or `tox -e bench`.

`[session]` grades in a long-lived `GradingSession`, as batch workers and Ray actors do; `[alone]`
runs a pytest session of its own per notebook (`grade()`, as `pytest grader` and `check` do). The
harness time of a round is its wall-clock time less the time its children reported spending in
student code; the median, min and max over the rounds go to the results. The harness's CPU time
(`benchmarks.cpu`) counts the rest once, however it overlapped: the CPU seconds of the grading
process and of its children (the sandbox's template, the children it forks), less the student
code's time, per notebook over all the rounds; the grading process's own share is recorded too.
The per-item breakdown is printed at the end (`-s` shows it).
"""

import statistics
import time
from collections import defaultdict
from pathlib import Path

import pytest

from benchmarks.cpu import descendants_seconds, own_seconds
from grader.grading import GradingSession, grade, settle
from grader.sandbox.launcher import Sandbox
from grader.scoring import total

SOLVED = Path(__file__).resolve().parent.parent / "submissions" / "solved.ipynb"


@pytest.fixture(scope="module")
def graders():
    with Sandbox() as box, GradingSession(box) as session:
        # warm: imports the checks, draws the examples and records the call scripts, once per process
        grade(SOLVED, sandbox=box)
        session.grade(SOLVED)
        settle()  # as a batch worker does after its first submission
        yield {"session": session.grade, "alone": lambda path: grade(path, sandbox=box)}


@pytest.mark.parametrize("how", ["session", "alone"])
def test_grade_one_correct_notebook(benchmark, graders, how) -> None:
    rounds: list[tuple[float, float]] = []  # (wall, student) per round

    def graded():
        started = time.perf_counter()
        book = graders[how](SOLVED)
        rounds.append((time.perf_counter() - started, book.student_seconds))
        return book

    own, children = own_seconds(), descendants_seconds()
    book = benchmark.pedantic(graded, rounds=9)
    own, children_after = own_seconds() - own, descendants_seconds()

    assert total(book.results).points == 100
    benchmark.extra_info["student_seconds"] = round(statistics.median(s for _, s in rounds), 3)
    benchmark.extra_info["harness_seconds"] = round(
        statistics.median(wall - student for wall, student in rounds), 3
    )
    benchmark.extra_info["harness_seconds_min"] = round(min(w - s for w, s in rounds), 3)
    benchmark.extra_info["harness_seconds_max"] = round(max(w - s for w, s in rounds), 3)
    benchmark.extra_info["parent_cpu_seconds"] = round(own / len(rounds), 3)
    if children is not None and children_after is not None:
        student = sum(s for _, s in rounds)
        harness_cpu = (own + children_after - children - student) / len(rounds)
        benchmark.extra_info["harness_cpu_seconds"] = round(harness_cpu, 3)
    per_item: dict[str, float] = defaultdict(float)
    for result in book.results:
        per_item[result.item] += result.seconds
    print("\nseconds per item (check calls):")
    for item, seconds in sorted(per_item.items(), key=lambda kv: -kv[1]):
        print(f"  {item:26s} {seconds:6.2f}")
