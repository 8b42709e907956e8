"""Section 7.2 and 7.3: corr2d, Conv2D and comp_conv2d."""

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch.nn import functional as F

from grader.checking import mistakes, strategies
from grader.checking.compare import check_equal, check_tensor, describe_inputs, fail
from grader.checking.items import expect_tensor
from grader.checking.memo import remember
from grader.checking.mistakes import Diagnosis
from grader.errors import SubmissionCrashed, SubmissionError
from grader.protocol.channel import Layer

X3 = torch.tensor([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0, 7.0, 8.0]])
K2 = torch.tensor([[0.0, 1.0], [2.0, 3.0]])
EDGE_K = torch.tensor([[1.0, -1.0]])


def edges() -> torch.Tensor:
    X = torch.ones((6, 8))
    X[:, 2:6] = 0
    return X


@remember
def reference_corr2d(X, K):
    return F.conv2d(X.double()[None, None], K.double()[None, None])[0, 0]


def check_corr2d(corr2d, X, K, what="corr2d(X, K)"):
    try:
        got = corr2d(X, K, what=what)
    except SubmissionCrashed:
        if X.shape[0] != X.shape[1] or K.shape[0] != K.shape[1]:
            square_only_hint(corr2d, X, K, what)
        raise
    return check_tensor(
        reference_corr2d(X, K),
        got,
        what=what,
        inputs={"X": X, "K": K},
        hint=lambda got: mistakes.diagnose(got, mistakes.CORR2D, X, K),
        shape_hint="without padding, each side shrinks by (kernel size - 1)",
    )


def square_only_hint(corr2d, X, K, what):
    """After a crash on non-square inputs: fail with a hint if square crops of them work."""
    n, k = min(X.shape), min(K.shape)
    Xs, Ks = X[:n, :n], K[:k, :k]
    try:
        works = torch.allclose(
            expect_tensor(corr2d(Xs, Ks), what).double(), reference_corr2d(Xs, Ks), atol=1e-4
        )
    except SubmissionError:
        return
    if works:
        fail(
            what,
            "fails on non-square inputs",
            describe_inputs({"X": X, "K": K}),
            "it raised an error here, but works when the image and the kernel are square",
            Diagnosis("works only on square inputs", "use X.shape[1] and K.shape[1] for the width"),
        )


def test_corr2d_reproduces_the_book_example(corr2d):
    """corr2d gives [[19, 25], [37, 43]] for the book's 3x3 image and 2x2 kernel (7.2.1)."""
    check_corr2d(corr2d, X3, K2)


def test_corr2d_finds_the_vertical_edges(corr2d):
    """corr2d with K = [[1, -1]] finds the edges of the book's 6x8 image, and none in its transpose (7.2.3)."""
    check_corr2d(corr2d, edges(), EDGE_K)
    check_corr2d(corr2d, edges().t(), EDGE_K, what="corr2d(X.t(), K)")


def test_corr2d_handles_non_square_images_and_kernels(corr2d):
    """corr2d works when height and width differ, for the image and for the kernel."""
    X = torch.arange(30.0).reshape(5, 6) / 10
    K = torch.tensor([[1.0, 0.5, -1.0], [2.0, 0.0, 1.0]])
    check_corr2d(corr2d, X, K)


@given(case=strategies.images_and_kernels(max_side=7))
def test_corr2d_agrees_with_conv2d_on_any_input(corr2d, case):
    """On random images and kernels of any shape, corr2d equals torch.nn.functional.conv2d."""
    X, K = case
    check_corr2d(corr2d, X, K)


@given(case=strategies.images_and_kernels(max_side=6), a=st.floats(-3, 3), b=st.floats(-3, 3))
def test_corr2d_is_linear_in_the_kernel(corr2d, case, a, b):
    """corr2d(X, a*K1 + b*K2) equals a*corr2d(X, K1) + b*corr2d(X, K2)."""
    X, K1 = case
    K2_ = torch.flip(K1, (0, 1)) + 1
    combined = expect_tensor(corr2d(X, a * K1 + b * K2_), "corr2d(X, a*K1 + b*K2)")
    parts = a * expect_tensor(corr2d(X, K1), "corr2d(X, K1)") + b * expect_tensor(
        corr2d(X, K2_), "corr2d(X, K2)"
    )
    check_tensor(
        parts,
        combined,
        what="corr2d(X, a*K1 + b*K2)",
        inputs={"X": X, "K1": K1, "a": a, "b": b},
        atol=1e-3,
    )


@given(case=strategies.images_kernels_and_positions(max_side=6))
def test_corr2d_with_a_one_hot_kernel_picks_a_shifted_window(corr2d, case):
    """A kernel with a single 1 at (i, j) returns X shifted by (i, j): the window the kernel sees."""
    X, K, (i, j) = case
    kh, kw = K.shape
    one_hot = torch.zeros(kh, kw)
    one_hot[i, j] = 1.0
    h, w = X.shape[0] - kh + 1, X.shape[1] - kw + 1
    check_tensor(
        X[i : i + h, j : j + w],
        corr2d(X, one_hot),
        what="corr2d(X, one-hot K)",
        inputs={"X": X, "K": one_hot},
        hint=lambda got: mistakes.diagnose(got, mistakes.CORR2D, X, one_hot),
    )


def test_conv2d_layer_has_a_weight_of_the_kernel_size_and_a_zero_bias(Conv2D, process):
    """Conv2D((1, 2)) has a learnable (1, 2) weight with values in [0, 1) and a bias of zero (7.2.2)."""
    layer = Conv2D((1, 2), what="Conv2D((1, 2))")
    state = process.probe("state_dict", layer, what="Conv2D((1, 2)).state_dict()")
    check_equal(
        ["bias", "weight"],
        sorted(state),
        what="Conv2D((1, 2))",
        problem="wrong parameters",
        hint="store the kernel as self.weight and the bias as self.bias, both nn.Parameter",
    )
    check_equal(
        (1, 2), tuple(state["weight"].shape), what="Conv2D((1, 2)).weight", problem="wrong shape"
    )
    check_equal(
        (1,),
        tuple(state["bias"].shape),
        what="Conv2D((1, 2)).bias",
        problem="wrong shape",
        hint="the bias is a single number: nn.Parameter(torch.zeros(1))",
    )
    if (
        not bool(((state["weight"] >= 0) & (state["weight"] < 1)).all())
        or float(state["bias"].abs().sum()) != 0
    ):
        fail(
            "Conv2D((1, 2))",
            "wrong initial values",
            "",
            f"weight {state['weight'].tolist()}, bias {state['bias'].tolist()}",
            "start the weight with torch.rand(kernel_size) and the bias with torch.zeros(1)",
        )


def test_conv2d_forward_adds_the_bias_to_the_cross_correlation(Conv2D, process):
    """Conv2D's forward pass is corr2d(x, weight) + bias, for the weights it is given."""
    layer = Conv2D((2, 3), what="Conv2D((2, 3))")
    weight = torch.tensor([[1.0, -2.0, 0.5], [0.0, 3.0, -1.0]])
    state = {"weight": weight, "bias": torch.tensor([0.25])}
    x = torch.arange(20.0).reshape(4, 5) / 7
    got = process.probe("load_and_forward", layer, what="Conv2D forward", state=state, X=x)
    check_tensor(
        reference_corr2d(x, weight) + 0.25,
        got,
        what="Conv2D((2, 3)) forward",
        inputs={"x": x, "weight": weight, "bias": 0.25},
        hint="forward returns corr2d(x, self.weight) + self.bias",
    )


def test_conv2d_learns_the_edge_kernel(Conv2D, process):
    """Gradient descent on Conv2D((1, 2)) recovers the edge kernel [1, -1] from X and Y (7.2.4)."""
    layer = Conv2D((1, 2), what="Conv2D((1, 2))")
    X = edges()
    Y = reference_corr2d(X, EDGE_K).float()
    result = process.probe(
        "fit_kernel",
        layer,
        what="learning the edge kernel with Conv2D",
        X=X,
        Y=Y,
        steps=40,
        lr=0.01,
    )
    learned = result["weight"].reshape(1, 2)
    if not torch.allclose(learned, EDGE_K, atol=0.15):
        fail(
            "Conv2D((1, 2)) trained on the edge image",
            "did not learn the kernel",
            "",
            f"expected about [[1, -1]], got {[round(v, 3) for v in learned.flatten().tolist()]} "
            f"(loss {result['losses'][0]:.3f} -> {result['losses'][-1]:.3f})",
            "the weight and bias must be nn.Parameter, and corr2d must build its output from them with torch operations",
        )


COMP_CASES = [
    (dict(kernel_size=3, padding=1), (8, 8)),
    (dict(kernel_size=(5, 3), padding=(2, 1)), (8, 8)),
    (dict(kernel_size=3, padding=1, stride=2), (4, 4)),
    (dict(kernel_size=(3, 5), padding=(0, 1), stride=(3, 4)), (2, 2)),
]


@pytest.mark.parametrize(
    ("layer", "shape"), COMP_CASES, ids=["pad1", "pad2x1", "stride2", "stride3x4"]
)
def test_comp_conv2d_reproduces_the_padding_and_stride_shapes(comp_conv2d, layer, shape):
    """comp_conv2d with a LazyConv2d of {layer} gives the book's output shape {shape} on an 8x8 input (7.3)."""
    conv = Layer("LazyConv2d", (1,), tuple(layer.items()))
    out = expect_tensor(
        comp_conv2d(
            conv, torch.rand(8, 8), what=f"comp_conv2d(nn.LazyConv2d(1, {_args(layer)}), X)"
        ),
        "comp_conv2d",
    )
    check_equal(
        shape,
        tuple(out.shape),
        what=f"comp_conv2d(nn.LazyConv2d(1, {_args(layer)}), X) with X of shape (8, 8)",
        problem="wrong output shape",
        hint="add batch and channel axes of size 1 before the layer, and remove them after",
    )


def _args(layer):
    return ", ".join(f"{k}={v}" for k, v in layer.items())


@given(
    h=st.integers(3, 9),
    w=st.integers(3, 9),
    k=st.integers(1, 3),
    p=st.integers(0, 1),
    s=st.integers(1, 3),
)
def test_comp_conv2d_follows_the_output_size_formula(comp_conv2d, h, w, k, p, s):
    """On non-square inputs, comp_conv2d's output is floor((n + 2p - k) / s) + 1 along each axis."""
    layer = {"kernel_size": k, "padding": p, "stride": s}
    what = f"comp_conv2d(nn.LazyConv2d(1, {_args(layer)}), X) with X of shape ({h}, {w})"
    out = expect_tensor(
        comp_conv2d(Layer("LazyConv2d", (1,), tuple(layer.items())), torch.rand(h, w), what=what),
        what,
    )
    expected = ((h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1)
    check_equal(
        expected,
        tuple(out.shape),
        what=what,
        problem="wrong output shape",
        hint="return Y.reshape(Y.shape[2:]): only the batch and channel axes go",
    )
