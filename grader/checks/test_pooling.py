"""Section 7.5: pool2d with maximum and average pooling."""

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch.nn import functional as F

from grader.checking import mistakes, strategies
from grader.checking.compare import check_tensor
from grader.checking.items import expect_tensor
from grader.checking.memo import remember

X3 = torch.tensor([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0, 7.0, 8.0]])


@remember
def pool(X, size, mode):
    function = F.max_pool2d if mode == "max" else F.avg_pool2d
    return function(X.double()[None, None], tuple(size), stride=1)[0, 0]


def check_pool(pool2d, X, size, mode):
    what = f"pool2d(X, {tuple(size)}, {mode!r})"
    return check_tensor(
        pool(X, size, mode),
        pool2d(X, size, mode, what=what),
        what=what,
        inputs={"X": X},
        hint=lambda got: mistakes.diagnose(got, mistakes.POOL2D, X, size, mode),
        shape_hint="the output has X.shape[0] - p_h + 1 rows and X.shape[1] - p_w + 1 columns",
    )


@pytest.mark.parametrize("mode", ["max", "avg"])
def test_pool2d_reproduces_the_book_examples(pool2d, mode):
    """pool2d(X, (2, 2), '{mode}') gives the book's result for its 3x3 example (7.5.1): [[4, 5], [7, 8]] for max, [[2, 3], [5, 6]] for avg."""
    check_pool(pool2d, X3, (2, 2), mode)


def test_pool2d_defaults_to_maximum_pooling(pool2d):
    """pool2d(X, pool_size) without a mode takes the maximum, as the book's signature says."""
    what = "pool2d(X, (2, 2))"
    check_tensor(
        pool(X3, (2, 2), "max"),
        pool2d(X3, (2, 2), what=what),
        what=what,
        inputs={"X": X3},
        hint="give mode the default value 'max'",
    )


@pytest.mark.parametrize("mode", ["max", "avg"])
def test_pool2d_handles_non_square_windows_and_images(pool2d, mode):
    """pool2d with mode '{mode}' works when the image and the window are not square."""
    X = torch.arange(20.0).reshape(4, 5) % 7
    check_pool(pool2d, X, (2, 3), mode)


@given(case=strategies.images_and_pool_sizes(max_side=7), mode=st.sampled_from(["max", "avg"]))
def test_pool2d_agrees_with_torch_pooling_on_any_input(pool2d, case, mode):
    """On random images and windows, pool2d equals max_pool2d / avg_pool2d with stride 1."""
    X, size = case
    check_pool(pool2d, X, size, mode)


@given(case=strategies.images_and_pool_sizes(max_side=6))
def test_pool2d_max_is_at_least_the_average(pool2d, case):
    """For the same window, maximum pooling is never below average pooling."""
    X, size = case
    high = expect_tensor(
        pool2d(X, size, "max", what="pool2d(X, size, 'max')"), "pool2d(X, size, 'max')"
    )
    low = expect_tensor(
        pool2d(X, size, "avg", what="pool2d(X, size, 'avg')"), "pool2d(X, size, 'avg')"
    )
    if high.shape != low.shape or not bool((high >= low - 1e-4).all()):
        check_pool(pool2d, X, size, "avg")
        check_pool(pool2d, X, size, "max")
        raise AssertionError("pool2d: the maximum is below the average somewhere")
