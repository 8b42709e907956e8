"""Per-submission overhead of the sandbox: fork a child from the warm template, load a correct
notebook's program (every statement), and answer a first call.

Run with `pytest benchmarks` (or `tox -e bench`). The template's own start (one `import torch`, paid
once per grading process) is measured separately.
"""

import time
from pathlib import Path

import pytest
import torch

from grader.intake.submission import load_submission
from grader.sandbox.launcher import Sandbox
from grader.sandbox.process import SubmissionProcess

SOLVED = Path(__file__).resolve().parent.parent / "submissions" / "solved.ipynb"
X = torch.arange(9.0).reshape(3, 3)
K = torch.tensor([[0.0, 1.0], [2.0, 3.0]])


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox() as box:
        yield box


def test_fork_load_and_first_call(benchmark, sandbox) -> None:
    """The overhead a submission pays: fork + run its 24 top-level statements + corr2d(X, K)."""
    submission = load_submission(SOLVED)

    def one_submission() -> torch.Tensor:
        with SubmissionProcess(sandbox, submission) as process:
            return process.call(process.item("corr2d"), X, K)

    result = benchmark.pedantic(one_submission, rounds=30, warmup_rounds=2)

    assert result.tolist() == [[19.0, 25.0], [37.0, 43.0]]


def test_a_call_into_a_warm_child(benchmark, sandbox) -> None:
    """One round trip: request, student code, tensors back through safetensors."""
    with SubmissionProcess(sandbox, load_submission(SOLVED)) as process:
        corr2d = process.item("corr2d")
        result = benchmark(process.call, corr2d, X, K)

    assert result.shape == (2, 2)


def test_template_start(benchmark) -> None:
    """Starting the template: paid once per grading process, not per submission."""

    def start() -> float:
        began = time.perf_counter()
        with Sandbox() as box:
            box.spawn()
        return time.perf_counter() - began

    assert benchmark.pedantic(start, rounds=3) > 0
