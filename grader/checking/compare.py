"""Tensor comparisons whose failures read as feedback: what was checked, with which input, expected
vs got, and at most one hint.

A failure raises `CheckFailure` (an AssertionError, so pytest and the plugin treat it as a failed
check) whose text is shown to the student as it is. Small tensors are shown in full; large ones by
shape, the first mismatching index and the largest difference.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import torch

from grader.checking.items import expect_tensor
from grader.checking.mistakes import Diagnosis

SMALL = 36
"""Tensors with at most this many elements are shown in full."""

Hint = Callable[[torch.Tensor], Diagnosis | str | None]


class CheckFailure(AssertionError):
    """A failed check; its message is written for the student. `mistake` names the diagnosed
    mistake, if any (see `grader.checking.mistakes.Diagnosis`)."""

    def __init__(self, message: str, mistake: str = "") -> None:
        super().__init__(message)
        self.mistake = mistake


def fail(
    what: str, problem: str, inputs: str, detail: str, hint: Diagnosis | str | None = None
) -> None:
    lines = [f"{what}: {problem}"]
    if inputs:
        lines.append(f"  called with {inputs}")
    lines += [f"  {line}" for line in detail.splitlines()]
    if hint:
        lines.append(f"  hint: {hint}")
    mistake = hint.mistake if isinstance(hint, Diagnosis) else ""
    raise CheckFailure("\n".join(lines), mistake)


def show(value: Any) -> str:
    """A value as a student should see it in a message."""
    if isinstance(value, torch.Tensor):
        if value.numel() <= SMALL:
            text = repr(value.detach().cpu().to(torch.float64).round(decimals=4).tolist())
            return f"{text} (shape {tuple(value.shape)})" if value.dim() != 1 else text
        return f"a tensor of shape {tuple(value.shape)}"
    if isinstance(value, torch.Size):
        return str(tuple(value))
    return repr(value)


def describe_inputs(inputs: Mapping[str, Any]) -> str:
    parts = []
    for name, value in inputs.items():
        if isinstance(value, torch.Tensor) and value.numel() > SMALL:
            parts.append(f"{name} of shape {tuple(value.shape)}")
        else:
            parts.append(f"{name} = {show(value)}")
    if len(parts) < 2:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def check_tensor(
    expected: torch.Tensor,
    got: Any,
    *,
    what: str,
    inputs: Mapping[str, Any],
    hint: Hint | str | None = None,
    shape_hint: str | None = None,
    atol: float = 1e-4,
    rtol: float = 1e-4,
) -> torch.Tensor:
    """Fail unless `got` is a tensor of `expected`'s shape and values (within float32 tolerance).

    `hint(got)` may name the mistake behind a wrong result (a plain string is used as it is);
    `shape_hint` is the hint for a wrong shape when `hint` finds none.
    """
    tensor: torch.Tensor = expect_tensor(got, what)

    def diagnosis() -> Diagnosis | str | None:  # only for a wrong result: it computes every mistake
        return hint(tensor) if callable(hint) else hint

    if tuple(tensor.shape) != tuple(expected.shape):
        fail(
            what,
            "wrong output shape",
            describe_inputs(inputs),
            f"expected shape {tuple(expected.shape)}, got {tuple(tensor.shape)}",
            diagnosis() or shape_hint,
        )
    actual = tensor.detach().to(torch.float64)
    target = expected.detach().to(torch.float64)
    if not torch.allclose(actual, target, atol=atol, rtol=rtol, equal_nan=False):
        fail(
            what, "wrong values", describe_inputs(inputs), _difference(target, actual), diagnosis()
        )
    return tensor


def _difference(expected: torch.Tensor, got: torch.Tensor) -> str:
    """Expected and got (small ones whole, a matrix row by row), and where they differ most: printed
    values can agree to every decimal shown and still differ (max pooling for average)."""
    diff = (expected - got).abs()
    diff = torch.where(torch.isnan(diff), torch.full_like(diff, float("inf")), diff)
    largest = tuple(int(i) for i in torch.unravel_index(diff.argmax(), diff.shape))
    most = (
        f"largest difference {float(diff.max()):.4g} at index {largest}: expected "
        f"{float(expected[largest]):.6g}, got {float(got[largest]):.6g}"
    )
    if expected.numel() > SMALL:
        first = tuple(int(i) for i in torch.nonzero(diff > 0)[0])
        return (
            f"first difference at index {first}: expected {float(expected[first]):.4g}, "
            f"got {float(got[first]):.4g}; {most}"
        )
    if expected.dim() == 2 and expected.shape[0] > 1:
        cells = [[_number(x) for x in row] for t in (expected, got) for row in t.tolist()]
        width = max(len(c) for row in cells for c in row)
        rows = [", ".join(c.rjust(width) for c in row) for row in cells]
        n = expected.shape[0]

        def grid(lines: list[str]) -> list[str]:
            return [
                ("  [[" if i == 0 else "   [") + line + ("]]" if i == len(lines) - 1 else "],")
                for i, line in enumerate(lines)
            ]

        shape = tuple(expected.shape)
        return "\n".join(
            [f"expected (shape {shape}):", *grid(rows[:n]), "got:", *grid(rows[n:]), most]
        )
    return f"expected {show(expected)}\ngot      {show(got)}\n{most}"


def _number(value: float) -> str:
    return repr(round(float(value), 4))


def check_equal(
    expected: Any, got: Any, *, what: str, problem: str, hint: Diagnosis | str | None = None
) -> None:
    """Fail unless two plain values (shapes, names, numbers) are equal; for two lists (of layers,
    of shapes), the message also says where they first differ."""
    if expected != got:
        detail = f"expected {show(expected)}, got {show(got)}"
        if isinstance(expected, list) and isinstance(got, list):
            detail += "\n" + _first_difference(expected, got)
        fail(what, problem, "", detail, hint)


def _first_difference(expected: list[Any], got: list[Any]) -> str:
    for position, (want, have) in enumerate(zip(expected, got, strict=False), start=1):
        if want != have:
            return f"first difference at position {position} (counting from 1): expected {show(want)}, got {show(have)}"
    if len(got) < len(expected):
        return f"first difference at position {len(got) + 1} (counting from 1): expected {show(expected[len(got)])}, got nothing more"
    return f"first difference at position {len(expected) + 1} (counting from 1): expected nothing more, got {show(got[len(expected)])}"
