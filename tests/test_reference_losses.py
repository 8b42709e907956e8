"""The book's curves drawn beside a student's smoke run are the book's models' own (see
tests/support/reference_losses.py), to a tolerance that allows another CPU's arithmetic."""

import json
import math

import pytest

from grader.checks.models import REFERENCE_LOSSES, SMOKE_RUNS, reference_losses
from tests.support.reference_losses import compute


@pytest.mark.slow
def test_the_stored_reference_losses_are_what_the_books_models_give() -> None:
    stored = json.loads(REFERENCE_LOSSES.read_text())
    fresh = compute()

    assert sorted(stored) == sorted(SMOKE_RUNS)
    for name, losses in fresh.items():
        assert len(stored[name]) == SMOKE_RUNS[name].steps
        assert all(
            math.isclose(a, b, rel_tol=0.05, abs_tol=0.02)
            for a, b in zip(stored[name], losses, strict=True)
        ), name
        assert stored[name][-1] < stored[name][0] * SMOKE_RUNS[name].drop  # the book's model passes
    assert reference_losses("LeNet") == stored["LeNet"]
