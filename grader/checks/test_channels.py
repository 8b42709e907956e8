"""Section 7.4: corr2d_multi_in, corr2d_multi_in_out and corr2d_multi_in_out_1x1."""

import torch
from hypothesis import given
from torch.nn import functional as F

from grader.checking import mistakes, strategies
from grader.checking.compare import check_tensor
from grader.checking.items import expect_tensor
from grader.checking.memo import remember

X3 = torch.tensor([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0, 7.0, 8.0]])
X_2CH = torch.stack((X3, X3 + 1))
K_2CH = torch.tensor([[[0.0, 1.0], [2.0, 3.0]], [[1.0, 2.0], [3.0, 4.0]]])
K_3OUT = torch.stack((K_2CH, K_2CH + 1, K_2CH + 2), 0)


@remember
def conv(X, K):
    """(c_i, h, w) by (c_o, c_i, kh, kw) -> (c_o, h', w'), as torch computes it."""
    return F.conv2d(X.double()[None], K.double())[0]


def check_multi_in(corr2d_multi_in, X, K):
    what = "corr2d_multi_in(X, K)"
    return check_tensor(
        conv(X, K[None])[0],
        corr2d_multi_in(X, K, what=what),
        what=what,
        inputs={"X": X, "K": K},
        hint=lambda got: mistakes.diagnose(got, mistakes.MULTI_IN, X, K),
    )


def check_multi_in_out(corr2d_multi_in_out, X, K):
    what = "corr2d_multi_in_out(X, K)"
    return check_tensor(
        conv(X, K),
        corr2d_multi_in_out(X, K, what=what),
        what=what,
        inputs={"X": X, "K": K},
        hint=lambda got: mistakes.diagnose(got, mistakes.MULTI_IN_OUT, X, K),
        shape_hint="the output has shape (c_o, h - kh + 1, w - kw + 1): one channel per kernel",
    )


def check_1x1(corr2d_multi_in_out_1x1, X, K):
    what = "corr2d_multi_in_out_1x1(X, K)"
    return check_tensor(
        conv(X, K),
        corr2d_multi_in_out_1x1(X, K, what=what),
        what=what,
        inputs={"X": X, "K": K},
        hint=lambda got: mistakes.diagnose(got, mistakes.ONE_BY_ONE, X, K),
        shape_hint="a 1x1 convolution keeps the height and width: the output is (c_o, h, w)",
    )


def test_corr2d_multi_in_reproduces_the_book_example(corr2d_multi_in):
    """corr2d_multi_in gives [[56, 72], [104, 120]] for the book's two-channel example (7.4.1)."""
    check_multi_in(corr2d_multi_in, X_2CH, K_2CH)


@given(case=strategies.multi_channel_inputs())
def test_corr2d_multi_in_sums_the_channels_on_any_input(corr2d_multi_in, case):
    """On random inputs with 1-3 channels, corr2d_multi_in equals conv2d summed over channels."""
    X, K = case
    check_multi_in(corr2d_multi_in, X, K)


def test_corr2d_multi_in_out_reproduces_the_book_example(corr2d_multi_in_out):
    """corr2d_multi_in_out gives the book's three output channels for K, K + 1 and K + 2 (7.4.2)."""
    check_multi_in_out(corr2d_multi_in_out, X_2CH, K_3OUT)


@given(case=strategies.multi_channel_inputs(out_channels=True))
def test_corr2d_multi_in_out_stacks_one_channel_per_kernel(corr2d_multi_in_out, case):
    """On random inputs, output channel o is corr2d_multi_in(X, K[o]), stacked in a new first axis."""
    X, K = case
    check_multi_in_out(corr2d_multi_in_out, X, K)


def test_corr2d_multi_in_out_1x1_equals_the_general_version(corr2d_multi_in_out_1x1):
    """For the book's 3x3x3 input and 2x3x1x1 kernel, the 1x1 version equals the cross-correlation (7.4.3)."""
    torch.manual_seed(0)
    X = torch.normal(0, 1, (3, 3, 3))
    K = torch.normal(0, 1, (2, 3, 1, 1))
    check_1x1(corr2d_multi_in_out_1x1, X, K)


@given(case=strategies.one_by_one_inputs())
def test_corr2d_multi_in_out_1x1_is_a_matrix_product_on_any_input(corr2d_multi_in_out_1x1, case):
    """On random, non-square inputs with different channel counts, the 1x1 version equals K @ X."""
    X, K = case
    check_1x1(corr2d_multi_in_out_1x1, X, K)


def test_corr2d_multi_in_out_1x1_keeps_its_inputs_unchanged(corr2d_multi_in_out_1x1):
    """The 1x1 version returns a new tensor of shape (c_o, h, w) for a (c_i, h, w) input."""
    X = torch.arange(24.0).reshape(2, 3, 4)
    K = torch.tensor([[[[1.0]], [[2.0]]], [[[0.5]], [[-1.0]]], [[[0.0]], [[3.0]]]])
    out = expect_tensor(corr2d_multi_in_out_1x1(X, K), "corr2d_multi_in_out_1x1(X, K)")
    check_tensor(
        conv(X, K),
        out,
        what="corr2d_multi_in_out_1x1(X, K)",
        inputs={"X": X, "K": K},
        hint=lambda got: mistakes.diagnose(got, mistakes.ONE_BY_ONE, X, K),
    )
