"""Known mistakes, as code: what a student's function returns when it makes one of them.

Each `Mistake` computes, in the trusted parent, the output a typical wrong solution would give for the
same inputs. When a student's output is wrong, `diagnose` compares it with every known mistake of
that item; a match names the mistake in the feedback. Nothing here runs student code, and nothing
here needs `reference` (the student kit ships without it): the outputs come from torch.nn.functional.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch.nn import functional as F


@dataclass(frozen=True)
class Mistake:
    """A named mistake, the hint that explains it, and the output it produces."""

    name: str
    hint: str
    compute: Callable[..., torch.Tensor]


@dataclass(frozen=True)
class Diagnosis:
    """A mistake named by the grader: the staff summary counts these by `mistake`, which comes from
    this catalogue only (never parsed out of a message, which student text can imitate)."""

    mistake: str
    hint: str

    def __str__(self) -> str:
        return f"{self.mistake}: {self.hint}"


def diagnose(got: torch.Tensor, mistakes: Sequence[Mistake], *args: Any) -> Diagnosis | None:
    """The first mistake whose output equals `got` on these inputs, else None."""
    for mistake in mistakes:
        try:
            expected = mistake.compute(*args)
        except Exception:  # the mistake does not apply to these inputs
            continue
        if tuple(expected.shape) == tuple(got.shape) and torch.allclose(
            expected.double(), got.double(), atol=1e-4, rtol=1e-4
        ):
            return Diagnosis(mistake.name, mistake.hint)
    return None


def corr2d(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """Cross-correlation of (h, w) by (kh, kw), as torch computes it."""
    return F.conv2d(X.double()[None, None], K.double()[None, None])[0, 0]


def _square_only_corr2d(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    h = K.shape[0]
    return corr2d(X[:, : X.shape[0]], K[:, :h])[: X.shape[0] - h + 1, : X.shape[0] - h + 1]


CORR2D = (
    Mistake(
        "kernel flipped",
        "that is a true convolution; cross-correlation slides K over X as it is, without flipping it",
        lambda X, K: corr2d(X, K.flip(0, 1)),
    ),
    Mistake(
        "kernel transposed",
        "K's rows run down the image and its columns across it; do not transpose K",
        lambda X, K: corr2d(X, K.t()),
    ),
    Mistake(
        "output size off by one",
        "the output has X.shape[0] - K.shape[0] + 1 rows and X.shape[1] - K.shape[1] + 1 columns",
        lambda X, K: corr2d(X, K)[:-1, :-1],
    ),
    Mistake(
        "works only on square inputs",
        "use X.shape[1] and K.shape[1] for the width; the code mixes up height and width",
        _square_only_corr2d,
    ),
)


def _pool(X: torch.Tensor, size: tuple[int, int], mode: str) -> torch.Tensor:
    pool = F.max_pool2d if mode == "max" else F.avg_pool2d
    return pool(X.double()[None, None], tuple(size), stride=1)[0, 0]


def _sum_pool(X: torch.Tensor, size: tuple[int, int], mode: str) -> torch.Tensor:
    return _pool(X, size, "avg") * size[0] * size[1] if mode == "avg" else _pool(X, size, "max")


POOL2D = (
    Mistake(
        "average computed as a sum",
        "mode='avg' must divide the window's sum by its size (or use .mean())",
        _sum_pool,
    ),
    Mistake(
        "`mode` ignored",
        "mode='avg' must average the window and mode='max' take its maximum",
        lambda X, size, mode: _pool(X, size, "max" if mode == "avg" else "avg"),
    ),
    Mistake(
        "`mode` ignored",
        "the same pooling is applied whatever `mode` says",
        lambda X, size, mode: _pool(X, size, "max") if mode == "avg" else _pool(X, size, "avg"),
    ),
    Mistake(
        "pool size transposed",
        "pool_size is (p_h, p_w): p_h rows down, p_w columns across",
        lambda X, size, mode: _pool(X, (size[1], size[0]), mode),
    ),
    Mistake(
        "output size off by one",
        "the output has X.shape[0] - p_h + 1 rows and X.shape[1] - p_w + 1 columns",
        lambda X, size, mode: _pool(X, size, mode)[:-1, :-1],
    ),
)


def _multi_in(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    return sum(
        (corr2d(x, k) for x, k in zip(X, K, strict=True)), torch.tensor(0.0, dtype=torch.float64)
    )


MULTI_IN = (
    Mistake(
        "only the first channel used",
        "cross-correlate every input channel with its kernel channel and add the results",
        lambda X, K: corr2d(X[0], K[0]),
    ),
    Mistake(
        "channels averaged",
        "the channels' cross-correlations are added, not averaged",
        lambda X, K: _multi_in(X, K) / X.shape[0],
    ),
    Mistake("kernel flipped", CORR2D[0].hint, lambda X, K: _multi_in(X, K.flip(-2, -1))),
)


def _per_output(X: torch.Tensor, K: torch.Tensor) -> list[torch.Tensor]:
    return [_multi_in(X, k) for k in K]


MULTI_IN_OUT = (
    Mistake(
        "`cat` instead of `stack`",
        "torch.stack(..., 0) adds the output-channel axis; torch.cat joins along an existing axis",
        lambda X, K: torch.cat(_per_output(X, K), 0),
    ),
    Mistake(
        "stacked along the wrong axis",
        "the output channels must come first: torch.stack(..., 0)",
        lambda X, K: torch.stack(_per_output(X, K), 1),
    ),
    Mistake(
        "stacked along the wrong axis",
        "the output channels must come first: torch.stack(..., 0)",
        lambda X, K: torch.stack(_per_output(X, K), 2),
    ),
    Mistake(
        "only the first output channel computed",
        "compute one multi-input cross-correlation for each kernel in K",
        lambda X, K: _multi_in(X, K[0])[None],
    ),
)


def _one_by_one(X: torch.Tensor, K: torch.Tensor, order: str) -> torch.Tensor:
    c_i, h, w = X.shape
    c_o = K.shape[0]
    if order == "x-rows":
        return (X.reshape(h * w, c_i) @ K.reshape(c_i, c_o)).reshape(c_o, h, w)
    if order == "k-transposed":
        return (K.reshape(c_i, c_o).t() @ X.reshape(c_i, h * w)).reshape(c_o, h, w)
    return (K.reshape(c_o, c_i) @ X.reshape(c_i, h * w)).reshape(c_o, h * w)


ONE_BY_ONE = (
    Mistake(
        "wrong reshape",
        "X must become (c_i, h * w) and K (c_o, c_i), so that K @ X is (c_o, h * w)",
        lambda X, K: _one_by_one(X, K, "x-rows"),
    ),
    Mistake(
        "wrong reshape",
        "K must become (c_o, c_i): reshaping it to (c_i, c_o) and transposing mixes up its entries",
        lambda X, K: _one_by_one(X, K, "k-transposed"),
    ),
    Mistake(
        "result not reshaped back",
        "reshape the (c_o, h * w) product back to (c_o, h, w)",
        lambda X, K: _one_by_one(X, K, "flat"),
    ),
)
