"""The reference's loops (the book's code) against torch.nn.functional, on the homework's sizes."""

import pytest
import torch
from torch.nn import functional as F

import reference

X = torch.randn(28, 28)
K = torch.randn(5, 5)


@pytest.mark.parametrize(
    ("name", "function"),
    [
        ("corr2d (book loops)", lambda: reference.corr2d(X, K)),
        ("corr2d_fast (F.conv2d)", lambda: reference.corr2d_fast(X, K)),
        ("F.conv2d", lambda: F.conv2d(X[None, None], K[None, None])),
        ("pool2d max (book loops)", lambda: reference.pool2d(X, (2, 2))),
        ("pool2d_fast max", lambda: reference.pool2d_fast(X, (2, 2))),
        ("F.max_pool2d", lambda: F.max_pool2d(X[None, None], 2, stride=1)),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_kernel(benchmark, name, function) -> None:
    result = benchmark(function)

    assert result.numel() > 0
