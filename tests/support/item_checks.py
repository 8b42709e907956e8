"""A small check per homework item, run through the sandbox: enough to tell working from broken.

The real checks (grader/checks) are richer; these exist so the isolation tests can say exactly which
items a hostile notebook costs. Each raises AssertionError or a SubmissionError when the item fails.
"""

from collections.abc import Callable

import torch

import reference
from grader.checking.items import expect_tensor
from grader.protocol.channel import Layer
from grader.sandbox.process import SubmissionProcess

X3 = torch.tensor([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0, 7.0, 8.0]])
K2 = torch.tensor([[0.0, 1.0], [2.0, 3.0]])
X_2CH = torch.stack((X3, X3 + 1))
K_2CH = torch.stack((K2, K2 + 1))


def equal(expected: torch.Tensor, actual, what: str) -> None:
    actual = expect_tensor(actual, what)
    assert actual.shape == expected.shape, f"{what}: shape {tuple(actual.shape)}"
    torch.testing.assert_close(actual.float(), expected.float())


def check_corr2d(p: SubmissionProcess) -> None:
    equal(reference.corr2d(X3, K2), p.call(p.item("corr2d"), X3, K2), "corr2d")


def check_conv2d(p: SubmissionProcess) -> None:
    layer = p.call(p.item("Conv2D"), (1, 2))
    out = p.probe("forward", layer, what="Conv2D forward", X=torch.ones(6, 8))
    assert expect_tensor(out, "Conv2D").shape == (6, 7)


def check_comp_conv2d(p: SubmissionProcess) -> None:
    conv = Layer("LazyConv2d", (1,), (("kernel_size", 3), ("padding", 1), ("stride", 2)))
    out = p.call(p.item("comp_conv2d"), conv, torch.rand(8, 8))
    assert expect_tensor(out, "comp_conv2d").shape == (4, 4)


def check_multi_in(p: SubmissionProcess) -> None:
    equal(
        reference.corr2d_multi_in(X_2CH, K_2CH),
        p.call(p.item("corr2d_multi_in"), X_2CH, K_2CH),
        "multi_in",
    )


def check_multi_in_out(p: SubmissionProcess) -> None:
    K = torch.stack((K_2CH, K_2CH + 1, K_2CH + 2))
    expected = reference.corr2d_multi_in_out(X_2CH, K)
    equal(expected, p.call(p.item("corr2d_multi_in_out"), X_2CH, K), "multi_in_out")


def check_1x1(p: SubmissionProcess) -> None:
    X, K = torch.randn(3, 3, 3), torch.randn(2, 3, 1, 1)
    equal(
        reference.corr2d_multi_in_out_1x1(X, K),
        p.call(p.item("corr2d_multi_in_out_1x1"), X, K),
        "1x1",
    )


def check_pool2d(p: SubmissionProcess) -> None:
    pool2d = p.item("pool2d")
    equal(reference.pool2d(X3, (2, 2)), p.call(pool2d, X3, (2, 2)), "pool2d max")
    equal(reference.pool2d(X3, (2, 2), "avg"), p.call(pool2d, X3, (2, 2), "avg"), "pool2d avg")


def check_init_cnn(p: SubmissionProcess) -> None:
    specs = [Layer("Linear", (40, 30)), Layer("Conv2d", (1, 2, 3))]
    result = p.probe("apply_init", p.item("init_cnn"), what="init_cnn", specs=specs)
    before, after = result["before"], result["after"]
    assert not torch.equal(before["0.weight"], after["0.weight"])
    bound = (6 / (40 + 30)) ** 0.5
    assert float(after["0.weight"].abs().max()) <= bound


def shape_of(p: SubmissionProcess, model, X_shape) -> tuple:
    return p.probe("layers", model, what="a forward pass", X=torch.zeros(X_shape))["output_shape"]


def check_lenet(p: SubmissionProcess) -> None:
    assert shape_of(p, p.call(p.item("LeNet")), (2, 1, 28, 28)) == (2, 10)


def check_layer_summary(p: SubmissionProcess) -> None:
    specs = [Layer("Flatten"), Layer("Linear", (4, 3))]
    p.probe(
        "summary", p.item("layer_summary"), what="layer_summary", specs=specs, X_shape=(2, 2, 2)
    )
    assert p.last_stdout.splitlines() == [
        "Flatten output shape:\t torch.Size([2, 4])",
        "Linear output shape:\t torch.Size([2, 3])",
    ]


def check_vgg_block(p: SubmissionProcess) -> None:
    block = p.call(p.item("vgg_block"), 2, 8)
    out = p.probe("forward", block, what="vgg_block", X=torch.zeros(1, 1, 8, 8))
    assert expect_tensor(out, "vgg_block").shape == (1, 8, 4, 4)


def check_vgg(p: SubmissionProcess) -> None:
    model = p.call(p.item("VGG"), ((1, 8), (1, 16)), num_classes=5)
    assert shape_of(p, model, (1, 1, 32, 32)) == (1, 5)


def check_residual(p: SubmissionProcess) -> None:
    block = p.call(p.item("Residual"), 6, use_1x1conv=True, strides=2)
    assert shape_of(p, block, (4, 3, 6, 6)) == (4, 6, 3, 3)


def check_resnet(p: SubmissionProcess) -> None:
    model = p.call(p.item("ResNet"), ((1, 64), (1, 16)), num_classes=5)
    assert shape_of(p, model, (2, 1, 32, 32)) == (2, 5)


def check_resnet18(p: SubmissionProcess) -> None:
    assert shape_of(p, p.call(p.item("ResNet18")), (2, 1, 32, 32)) == (2, 10)


ITEM_CHECKS: dict[str, Callable[[SubmissionProcess], None]] = {
    "corr2d": check_corr2d,
    "Conv2D": check_conv2d,
    "comp_conv2d": check_comp_conv2d,
    "corr2d_multi_in": check_multi_in,
    "corr2d_multi_in_out": check_multi_in_out,
    "corr2d_multi_in_out_1x1": check_1x1,
    "pool2d": check_pool2d,
    "init_cnn": check_init_cnn,
    "LeNet": check_lenet,
    "layer_summary": check_layer_summary,
    "vgg_block": check_vgg_block,
    "VGG": check_vgg,
    "Residual": check_residual,
    "ResNet": check_resnet,
    "ResNet18": check_resnet18,
}
