"""Memoized expected values (grader.checking.memo): computed once per distinct input, never shared mutably."""

import torch

from grader.checking import memo as expected
from grader.checking.memo import remember


def _counting():
    calls = []

    @remember
    def double(X, scale=2.0, *, extra=None):
        calls.append(1)
        return {"Y": X * scale, "shape": tuple(X.shape)}

    return double, calls


def test_equal_inputs_are_computed_once_and_different_ones_again():
    double, calls = _counting()
    X = torch.arange(6.0).reshape(2, 3)

    first = double(X)
    again = double(X.clone())  # another tensor, same contents
    other = double(X.reshape(3, 2))  # same bytes, another shape
    changed = X.clone()
    changed[1, 2] = -0.0 + 5.0001
    double(changed)
    double(X, 3.0)
    double(X, extra="x")

    assert len(calls) == 5
    assert torch.equal(first["Y"], again["Y"])
    assert other["shape"] == (3, 2)


def test_a_caller_cannot_change_what_the_next_one_gets():
    double, _ = _counting()
    X = torch.ones(2, 2)

    double(X)["Y"].add_(100)

    assert torch.equal(double(X)["Y"], torch.full((2, 2), 2.0))


def test_arguments_it_cannot_key_bypass_the_memory():
    calls = []

    @remember
    def size(obj):
        calls.append(1)
        return len(obj.items)

    class Box:
        items = (1, 2)

    assert size(Box()) == 2
    assert size(Box()) == 2
    assert len(calls) == 2


def test_the_memory_forgets_the_least_recently_used(monkeypatch):
    monkeypatch.setattr(expected, "MAX_ENTRIES", 2)
    double, calls = _counting()
    a, b, c = torch.zeros(1), torch.ones(1), torch.full((1,), 2.0)

    double(a)
    double(b)
    double(a)  # a is now the most recently used
    double(c)  # forgets b
    double(a)
    double(b)

    assert len(calls) == 4
