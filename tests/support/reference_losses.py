"""The book's models' losses in each training smoke run (`grader.checks.models.SMOKE_RUNS`), for
the curves the feedback draws beside the student's: `python -m tests.support.reference_losses`
writes grader/checks/reference_losses.json; tests/test_reference_losses.py keeps it true."""

from __future__ import annotations

import json
from collections.abc import Callable

from torch import nn

from grader.checks.models import REFERENCE_LOSSES, SMOKE_RUNS, synthetic_batch
from grader.child.queries import train_steps
from grader.child.seeding import seed_everything


def _models() -> dict[str, Callable[[], nn.Module]]:
    import d2lcompat

    d2lcompat.install()
    import reference

    return {
        "LeNet": lambda: reference.LeNet(),
        "small VGG": lambda: reference.VGG(((1, 8), (1, 16)), lr=0.01),
        "ResNet18": lambda: reference.ResNet18(lr=0.01),
    }


def compute() -> dict[str, list[float]]:
    """Each smoke run of the book's model, on the CPU, from seed 0."""
    losses = {}
    for name, make in _models().items():
        run = SMOKE_RUNS[name]
        seed_everything(0)
        X, y = synthetic_batch(run.batch_size, run.side)
        result = train_steps(
            make(), X, y, run.steps, run.lr, run.batch_size, run.optimizer, "cpu", xavier=True
        )
        losses[name] = [round(v, 4) for v in result["losses"]]
    return losses


if __name__ == "__main__":
    REFERENCE_LOSSES.write_text(json.dumps(compute(), indent=1) + "\n")
    print(REFERENCE_LOSSES)
