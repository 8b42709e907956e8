"""Every output the homework prints, reproduced by `reference` (golden tests, book sections 7.2-8.6).

Expected values are copied from the homework text (../shared/seed); tensors are compared both by value
and by their printed form, since the printed form is what the homework shows.
"""

import contextlib
import io
import itertools

import pytest
import torch
from torch import nn

import reference
from reference import (
    VGG,
    VGG11,
    LeNet,
    Residual,
    ResNet18,
    comp_conv2d,
    corr2d,
    corr2d_multi_in,
    corr2d_multi_in_out,
    corr2d_multi_in_out_1x1,
    learn_kernel,
    pool2d,
)


def printed(fn, *args) -> str:
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        fn(*args)
    return buf.getvalue()


def edge_image() -> torch.Tensor:
    """In[5]: six rows of 1 1 0 0 0 0 1 1."""
    X = torch.ones((6, 8))
    X[:, 2:6] = 0
    return X


EDGE_K = torch.tensor([[1.0, -1.0]])
X3 = torch.tensor([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0, 7.0, 8.0]])


# 7.2 Convolutions for Images


def test_corr2d_reproduces_out_3() -> None:
    K = torch.tensor([[0.0, 1.0], [2.0, 3.0]])

    Y = corr2d(X3, K)

    assert repr(Y) == "tensor([[19., 25.],\n        [37., 43.]])"


def test_edge_detection_reproduces_out_7() -> None:
    Y = corr2d(edge_image(), EDGE_K)

    row = [0.0, 1.0, 0.0, 0.0, 0.0, -1.0, 0.0]
    assert torch.equal(Y, torch.tensor([row] * 6))
    assert repr(Y).splitlines()[0] == "tensor([[ 0.,  1.,  0.,  0.,  0., -1.,  0.],"


def test_edge_detection_on_the_transpose_is_all_zero_out_8() -> None:
    Y = corr2d(edge_image().t(), EDGE_K)

    assert torch.equal(Y, torch.zeros((8, 5)))
    assert repr(Y).splitlines()[0] == "tensor([[0., 0., 0., 0., 0.],"


def test_conv2d_layer_adds_its_bias_to_the_cross_correlation() -> None:
    layer = reference.Conv2D((1, 2))
    with torch.no_grad():
        layer.weight.copy_(EDGE_K)
        layer.bias.fill_(0.5)

    Y = layer(edge_image())

    assert torch.equal(Y, corr2d(edge_image(), EDGE_K) + 0.5)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_kernel_learning_recovers_the_edge_kernel_in_10_epochs(seed: int) -> None:
    """In[9]/Out[10]: the book reaches [[1.0116, -0.9581]] from a random start."""
    X = edge_image()
    Y = corr2d(X, EDGE_K)
    torch.manual_seed(seed)

    kernel, losses = learn_kernel(X, Y, kernel_size=(1, 2), lr=3e-2, num_epochs=10)

    assert kernel.shape == (1, 2)
    torch.testing.assert_close(kernel, EDGE_K, atol=0.1, rtol=0)
    assert len(losses) == 10
    assert all(later < earlier for earlier, later in itertools.pairwise(losses))
    assert losses[-1] < losses[0] / 50


def test_kernel_learning_prints_the_books_log_lines() -> None:
    X = edge_image()
    torch.manual_seed(0)

    text = printed(learn_kernel, X, corr2d(X, EDGE_K), (1, 2), 3e-2, 10)
    torch.manual_seed(0)
    log = io.StringIO()
    with contextlib.redirect_stdout(log):
        _, losses = learn_kernel(X, corr2d(X, EDGE_K), print_every=2)

    assert text == ""
    lines = log.getvalue().splitlines()
    assert [line.split(",")[0] for line in lines] == [f"epoch {e}" for e in (2, 4, 6, 8, 10)]
    assert lines[-1] == f"epoch 10, loss {losses[-1]:.3f}"


# 7.3 Padding and Stride


@pytest.mark.parametrize(
    ("layer", "shape"),
    [
        (dict(kernel_size=3, padding=1), (8, 8)),  # Out[12]
        (dict(kernel_size=(5, 3), padding=(2, 1)), (8, 8)),  # Out[13]
        (dict(kernel_size=3, padding=1, stride=2), (4, 4)),  # Out[14]
        # Out[15]: the homework's line is cut off after "stride=(3,"; the book's call is stride=(3, 4).
        (dict(kernel_size=(3, 5), padding=(0, 1), stride=(3, 4)), (2, 2)),
    ],
)
def test_comp_conv2d_reproduces_the_padding_and_stride_shapes(layer, shape) -> None:
    conv2d = nn.LazyConv2d(1, **layer)
    X = torch.rand(size=(8, 8))

    Y = comp_conv2d(conv2d, X)

    assert Y.shape == torch.Size(shape)


def test_conv_output_size_matches_torch_for_the_homeworks_layers() -> None:
    assert reference.conv_output_size(8, 3, padding=0, stride=3) == 2
    assert reference.conv_output_size(8, 5, padding=1, stride=4) == 2
    assert reference.conv_output_size(8, 3, padding=1, stride=2) == 4


# 7.4 Multiple Input and Multiple Output Channels

X_2CH = torch.tensor(
    [
        [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0, 7.0, 8.0]],
        [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]],
    ]
)
K_2CH = torch.tensor([[[0.0, 1.0], [2.0, 3.0]], [[1.0, 2.0], [3.0, 4.0]]])


def test_corr2d_multi_in_reproduces_out_18() -> None:
    Y = corr2d_multi_in(X_2CH, K_2CH)

    assert repr(Y) == "tensor([[ 56.,  72.],\n        [104., 120.]])"


def test_corr2d_multi_in_out_reproduces_out_20_and_21() -> None:
    K = torch.stack((K_2CH, K_2CH + 1, K_2CH + 2), 0)

    Y = corr2d_multi_in_out(X_2CH, K)

    assert K.shape == torch.Size([3, 2, 2, 2])
    expected = torch.tensor(
        [
            [[56.0, 72.0], [104.0, 120.0]],
            [[76.0, 100.0], [148.0, 172.0]],
            [[96.0, 128.0], [192.0, 224.0]],
        ]
    )
    assert torch.equal(Y, expected)
    assert repr(Y) == repr(expected)


def test_1x1_convolution_equals_the_multi_channel_cross_correlation_in_23() -> None:
    torch.manual_seed(0)
    X = torch.normal(0, 1, (3, 3, 3))
    K = torch.normal(0, 1, (2, 3, 1, 1))

    Y1 = corr2d_multi_in_out_1x1(X, K)
    Y2 = corr2d_multi_in_out(X, K)

    assert Y1.shape == (2, 3, 3)
    assert float(torch.abs(Y1 - Y2).sum()) < 1e-6


# 7.5 Pooling


def test_max_pooling_reproduces_out_26() -> None:
    assert repr(pool2d(X3, (2, 2))) == "tensor([[4., 5.],\n        [7., 8.]])"


def test_average_pooling_reproduces_out_27() -> None:
    assert repr(pool2d(X3, (2, 2), "avg")) == "tensor([[2., 3.],\n        [5., 6.]])"


X16 = torch.arange(16, dtype=torch.float32).reshape((1, 1, 4, 4))


@pytest.mark.parametrize(
    ("layer", "expected"),
    [
        (nn.MaxPool2d(3), [[[[10.0]]]]),  # Out[29]
        (nn.MaxPool2d(3, padding=1, stride=2), [[[[5.0, 7.0], [13.0, 15.0]]]]),  # Out[30]
        (nn.MaxPool2d((2, 3), stride=(2, 3), padding=(0, 1)), [[[[5.0, 7.0], [13.0, 15.0]]]]),  # 31
    ],
)
def test_pooling_layers_reproduce_the_padding_and_stride_outputs(layer, expected) -> None:
    assert torch.equal(layer(X16), torch.tensor(expected))


def test_pooling_keeps_channels_apart_out_32_and_33() -> None:
    X = torch.cat((X16, X16 + 1), 1)

    Y = nn.MaxPool2d(3, padding=1, stride=2)(X)

    assert X.shape == (1, 2, 4, 4)
    assert torch.equal(Y, torch.tensor([[[[5.0, 7.0], [13.0, 15.0]], [[6.0, 8.0], [14.0, 16.0]]]]))


def test_reference_pool2d_agrees_with_max_pool2d_on_the_homework_input() -> None:
    X = X16[0, 0]

    assert torch.equal(pool2d(X, (3, 3)), nn.MaxPool2d(3, stride=1)(X16)[0, 0])


# 7.6 LeNet, 8.2 VGG, 8.6 ResNet: the printed layer summaries

LENET_SUMMARY = """\
Conv2d output shape:\t torch.Size([1, 6, 28, 28])
Sigmoid output shape:\t torch.Size([1, 6, 28, 28])
AvgPool2d output shape:\t torch.Size([1, 6, 14, 14])
Conv2d output shape:\t torch.Size([1, 16, 10, 10])
Sigmoid output shape:\t torch.Size([1, 16, 10, 10])
AvgPool2d output shape:\t torch.Size([1, 16, 5, 5])
Flatten output shape:\t torch.Size([1, 400])
Linear output shape:\t torch.Size([1, 120])
Sigmoid output shape:\t torch.Size([1, 120])
Linear output shape:\t torch.Size([1, 84])
Sigmoid output shape:\t torch.Size([1, 84])
Linear output shape:\t torch.Size([1, 10])
"""

VGG_SUMMARY = """\
Sequential output shape:\t torch.Size([1, 64, 112, 112])
Sequential output shape:\t torch.Size([1, 128, 56, 56])
Sequential output shape:\t torch.Size([1, 256, 28, 28])
Sequential output shape:\t torch.Size([1, 512, 14, 14])
Sequential output shape:\t torch.Size([1, 512, 7, 7])
Flatten output shape:\t torch.Size([1, 25088])
Linear output shape:\t torch.Size([1, 4096])
ReLU output shape:\t torch.Size([1, 4096])
Dropout output shape:\t torch.Size([1, 4096])
Linear output shape:\t torch.Size([1, 4096])
ReLU output shape:\t torch.Size([1, 4096])
Dropout output shape:\t torch.Size([1, 4096])
Linear output shape:\t torch.Size([1, 10])
"""

RESNET18_SUMMARY = """\
Sequential output shape:\t torch.Size([1, 64, 24, 24])
Sequential output shape:\t torch.Size([1, 64, 24, 24])
Sequential output shape:\t torch.Size([1, 128, 12, 12])
Sequential output shape:\t torch.Size([1, 256, 6, 6])
Sequential output shape:\t torch.Size([1, 512, 3, 3])
Sequential output shape:\t torch.Size([1, 10])
"""


def test_lenet_layer_summary_reproduces_the_homework() -> None:
    model = LeNet()

    assert printed(model.layer_summary, (1, 1, 28, 28)) == LENET_SUMMARY
    assert printed(reference.layer_summary, model, (1, 1, 28, 28)) == LENET_SUMMARY


@pytest.mark.slow
def test_vgg_layer_summary_reproduces_the_homework() -> None:
    model = VGG(arch=VGG11)

    assert printed(reference.layer_summary, model, (1, 1, 224, 224)) == VGG_SUMMARY


def test_resnet18_layer_summary_reproduces_the_homework() -> None:
    model = ResNet18()

    assert printed(reference.layer_summary, model, (1, 1, 96, 96)) == RESNET18_SUMMARY


@pytest.mark.parametrize(
    ("block", "shape"),
    [
        (dict(num_channels=3), (4, 3, 6, 6)),  # Out[53] and Out[54]
        (dict(num_channels=6, use_1x1conv=True, strides=2), (4, 6, 3, 3)),  # the book's next cell
    ],
)
def test_residual_block_output_shapes(block, shape) -> None:
    blk = Residual(**block)

    assert blk(torch.randn(4, 3, 6, 6)).shape == torch.Size(shape)


# Parameter counts, computed independently of the reference


def conv(c_in: int, c_out: int, k: int) -> int:
    return c_in * c_out * k * k + c_out


def linear(n_in: int, n_out: int) -> int:
    return n_in * n_out + n_out


def num_parameters(model: nn.Module, X_shape) -> int:
    model.eval()
    with torch.no_grad():
        model(torch.zeros(X_shape))
    return sum(p.numel() for p in model.parameters())


def test_lenet_has_61706_parameters() -> None:
    expected = conv(1, 6, 5) + conv(6, 16, 5) + linear(400, 120) + linear(120, 84) + linear(84, 10)

    assert expected == 61_706
    assert num_parameters(LeNet(), (1, 1, 28, 28)) == 61_706


@pytest.mark.slow
def test_vgg11_parameter_count() -> None:
    widths = [
        (1, 64),
        (64, 128),
        (128, 256),
        (256, 256),
        (256, 512),
        (512, 512),
        (512, 512),
        (512, 512),
    ]
    expected = sum(conv(a, b, 3) for a, b in widths)
    expected += linear(512 * 7 * 7, 4096) + linear(4096, 4096) + linear(4096, 10)

    assert num_parameters(VGG(arch=VGG11), (1, 1, 224, 224)) == expected == 128_806_154


@pytest.mark.parametrize("num_classes", [10, 3])
def test_resnet18_parameter_count(num_classes: int) -> None:
    def bn(c: int) -> int:
        return 2 * c

    def residual(c_in: int, c: int, project: bool) -> int:
        return conv(c_in, c, 3) + conv(c, c, 3) + bn(c) * 2 + (conv(c_in, c, 1) if project else 0)

    expected = conv(1, 64, 7) + bn(64)
    c_in = 64
    for i, c in enumerate((64, 128, 256, 512)):
        expected += residual(c_in, c, project=i > 0) + residual(c, c, project=False)
        c_in = c
    expected += linear(512, num_classes)

    assert num_parameters(ResNet18(num_classes=num_classes), (1, 1, 96, 96)) == expected


def test_lenet_keeps_the_homeworks_hyperparameters() -> None:
    model = LeNet(lr=0.05, num_classes=7)

    assert (model.lr, model.num_classes) == (0.05, 7)
    assert model(torch.zeros(2, 1, 28, 28)).shape == (2, 7)


def test_importing_reference_prints_nothing() -> None:
    import importlib
    import sys

    names = [name for name in sys.modules if name == "reference" or name.startswith("reference.")]
    saved = {name: sys.modules.pop(name) for name in names}
    try:
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            importlib.import_module("reference")
        assert buf.getvalue() == ""
    finally:
        sys.modules.update(saved)


def test_reference_exports_every_homework_item() -> None:
    for name in reference.ITEMS:
        assert callable(getattr(reference, name)), name
