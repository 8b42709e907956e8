"""Book section 7.4, "Multiple Input and Multiple Output Channels"."""

from __future__ import annotations

import torch
from torch import Tensor

from reference.cross_correlation import corr2d


def corr2d_multi_in(X: Tensor, K: Tensor) -> Tensor:
    """Cross-correlation over several input channels, summed (book section 7.4.1).

    X has shape (c_i, h, w) and K shape (c_i, kh, kw); the result has shape (h - kh + 1, w - kw + 1).
    """
    return sum(corr2d(x, k) for x, k in zip(X, K))  # type: ignore[return-value]


def corr2d_multi_in_out(X: Tensor, K: Tensor) -> Tensor:
    """One multi-input cross-correlation per output channel, stacked (book section 7.4.2).

    X has shape (c_i, h, w) and K shape (c_o, c_i, kh, kw); the result has shape
    (c_o, h - kh + 1, w - kw + 1).
    """
    return torch.stack([corr2d_multi_in(X, k) for k in K], 0)


def corr2d_multi_in_out_1x1(X: Tensor, K: Tensor) -> Tensor:
    """A 1x1 convolution as a matrix product (book section 7.4.3).

    X has shape (c_i, h, w) and K shape (c_o, c_i, 1, 1); the result has shape (c_o, h, w) and equals
    `corr2d_multi_in_out(X, K)`.
    """
    c_i, h, w = X.shape
    c_o = K.shape[0]
    X = X.reshape((c_i, h * w))
    K = K.reshape((c_o, c_i))
    Y = torch.matmul(K, X)
    return Y.reshape((c_o, h, w))
