"""On a machine with a GPU, a child trains there under its memory limit (the smoke runs' case)."""

from pathlib import Path

import pytest
import torch

from grader.intake.submission import load_submission
from grader.sandbox.process import SubmissionProcess

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
SOLVED = Path(__file__).resolve().parents[2] / "submissions" / "solved.ipynb"


def test_a_child_trains_on_the_gpu_under_its_memory_limit(sandbox) -> None:
    X, y = torch.rand(16, 1, 28, 28), torch.randint(0, 10, (16,))
    with SubmissionProcess(sandbox, load_submission(SOLVED)) as process:
        model = process.call(process.item("LeNet"))
        result = process.probe(
            "train_steps", model, what="training LeNet", X=X, y=y, steps=3, lr=0.1,
            batch_size=8, device="cuda",
        )  # fmt: skip

    assert result["device"] == "cuda"
    assert len(result["losses"]) == 3
