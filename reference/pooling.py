"""Book section 7.5, "Pooling": `pool2d` with maximum and average pooling.

`pool2d` loops as the book does; `pool2d_fast` is the same operation through `torch.nn.functional`.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.nn import functional as F


def pool2d(X: Tensor, pool_size: tuple[int, int], mode: str = "max") -> Tensor:
    """Max (mode='max') or average (mode='avg') pooling with stride 1 and no padding (7.5.1).

    X has shape (h, w) and pool_size is (p_h, p_w); the result has shape (h - p_h + 1, w - p_w + 1)
    and dtype float32. Any other mode leaves the output at zero, as the book's code does.
    """
    p_h, p_w = pool_size
    Y = torch.zeros((X.shape[0] - p_h + 1, X.shape[1] - p_w + 1))
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            if mode == "max":
                Y[i, j] = X[i : i + p_h, j : j + p_w].max()
            elif mode == "avg":
                Y[i, j] = X[i : i + p_h, j : j + p_w].mean()
    return Y


def pool2d_fast(X: Tensor, pool_size: tuple[int, int], mode: str = "max") -> Tensor:
    """`pool2d` for mode 'max' or 'avg' without Python loops (float inputs)."""
    batch = X.float()[None, None]
    if mode == "max":
        return F.max_pool2d(batch, pool_size, stride=1)[0, 0]
    if mode == "avg":
        return F.avg_pool2d(batch, pool_size, stride=1)[0, 0]
    raise ValueError(f"mode must be 'max' or 'avg', not {mode!r}")
