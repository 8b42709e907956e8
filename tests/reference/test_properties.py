"""Properties of the reference itself: its loops agree with `torch.nn.functional` on random inputs.

Shapes are drawn non-square, so a reference that confused height and width would fail here.
"""

import torch
from hypothesis import given
from torch.nn import functional as F

from grader.checking import strategies
from reference import (
    corr2d,
    corr2d_fast,
    corr2d_multi_in,
    corr2d_multi_in_out,
    corr2d_multi_in_out_1x1,
    pool2d,
    pool2d_fast,
)


def close(expected: torch.Tensor, actual: torch.Tensor) -> None:
    torch.testing.assert_close(actual, expected, atol=1e-3, rtol=1e-4)


@given(case=strategies.images_and_kernels())
def test_corr2d_equals_conv2d(case) -> None:
    X, K = case

    close(F.conv2d(X[None, None], K[None, None])[0, 0], corr2d(X, K))
    close(corr2d(X, K), corr2d_fast(X, K))


@given(case=strategies.multi_channel_inputs())
def test_corr2d_multi_in_equals_conv2d(case) -> None:
    X, K = case

    close(F.conv2d(X[None], K[None])[0, 0], corr2d_multi_in(X, K))


@given(case=strategies.multi_channel_inputs(out_channels=True))
def test_corr2d_multi_in_out_equals_conv2d(case) -> None:
    X, K = case

    close(F.conv2d(X[None], K)[0], corr2d_multi_in_out(X, K))


@given(case=strategies.one_by_one_inputs())
def test_1x1_matrix_product_equals_the_multi_channel_loop(case) -> None:
    X, K = case

    close(corr2d_multi_in_out(X, K), corr2d_multi_in_out_1x1(X, K))


@given(case=strategies.images_and_pool_sizes())
def test_max_pool2d_equals_functional(case) -> None:
    X, size = case

    close(F.max_pool2d(X[None, None], size, stride=1)[0, 0], pool2d(X, size))
    close(pool2d(X, size), pool2d_fast(X, size))


@given(case=strategies.images_and_pool_sizes())
def test_avg_pool2d_equals_functional(case) -> None:
    X, size = case

    close(F.avg_pool2d(X[None, None], size, stride=1)[0, 0], pool2d(X, size, "avg"))
    close(pool2d(X, size, "avg"), pool2d_fast(X, size, "avg"))


@given(case=strategies.images_and_pool_sizes())
def test_max_pool_is_at_least_avg_pool(case) -> None:
    X, size = case

    assert bool((pool2d(X, size) >= pool2d(X, size, "avg") - 1e-5).all())


def test_pool2d_fast_rejects_an_unknown_mode() -> None:
    import pytest

    with pytest.raises(ValueError, match="'min'"):
        pool2d_fast(torch.zeros(2, 2), (1, 1), "min")
