"""Section 7.6: init_cnn, LeNet and layer_summary."""

import contextlib
import functools
import io

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from grader.checking.compare import check_equal, check_tensor, fail
from grader.checking.memo import remember
from grader.checking.mistakes import Diagnosis, Mistake, diagnose
from grader.checks.models import (
    POOLS,
    check_layer_argument,
    check_layer_types,
    check_output_shapes,
    layers,
    smoke_train,
    structure_hint,
    top_layers,
)
from grader.protocol.channel import Layer

LENET_TYPES = ["Conv2d", "Sigmoid", "AvgPool2d", "Conv2d", "Sigmoid", "AvgPool2d", "Flatten",
               "Linear", "Sigmoid", "Linear", "Sigmoid", "Linear"]  # fmt: skip
LENET_SHAPES = [(1, 6, 28, 28), (1, 6, 28, 28), (1, 6, 14, 14), (1, 16, 10, 10), (1, 16, 10, 10),
                (1, 16, 5, 5), (1, 400), (1, 120), (1, 120), (1, 84), (1, 84), (1, 10)]  # fmt: skip


@pytest.fixture(scope="module")
def lenet(LeNet):
    return LeNet(what="LeNet()")


@pytest.fixture(scope="module")
def lenet_layers(lenet, process):
    return layers(process, lenet, (1, 1, 28, 28), "LeNet() on a 1x1x28x28 input")


def test_init_cnn_gives_xavier_uniform_weights(init_cnn, process):
    """init_cnn draws Linear and Conv2d weights uniformly within Xavier's bound sqrt(6 / (fan_in + fan_out))."""
    specs = [Layer("Conv2d", (4, 10, 5)), Layer("Linear", (300, 200))]
    result = process.probe("apply_init", init_cnn.remote, what="net.apply(init_cnn)", specs=specs)
    for key, fan_in, fan_out in (("0.weight", 4 * 25, 10 * 25), ("1.weight", 300, 200)):
        before, after = result["before"][key], result["after"][key]
        bound = (6 / (fan_in + fan_out)) ** 0.5
        what = (
            f"init_cnn on {'nn.Conv2d(4, 10, 5)' if key == '0.weight' else 'nn.Linear(300, 200)'}"
        )
        if torch.equal(before, after):
            fail(
                what,
                "the weight did not change",
                "",
                "expected new Xavier-uniform values",
                "call nn.init.xavier_uniform_(module.weight) for nn.Linear and nn.Conv2d layers",
            )
        largest, std = float(after.abs().max()), float(after.std())
        if largest > bound * 1.0001 or not 0.8 < std / (bound / 3**0.5) < 1.2:
            hint = (
                "use xavier_uniform_, not xavier_normal_"
                if largest > bound
                else "use nn.init.xavier_uniform_"
            )
            fail(
                what,
                "the weights are not Xavier-uniform",
                "",
                f"expected values within ±{bound:.4f} with standard deviation {bound / 3**0.5:.4f}, "
                f"got largest {largest:.4f} and standard deviation {std:.4f}",
                hint,
            )


def test_init_cnn_leaves_biases_and_other_layers_alone(init_cnn, process):
    """init_cnn changes only the weights of Linear and Conv2d layers: biases and BatchNorm stay as they were."""
    specs = [Layer("Conv2d", (2, 3, 3)), Layer("BatchNorm2d", (3,)), Layer("Linear", (5, 4))]
    result = process.probe("apply_init", init_cnn.remote, what="net.apply(init_cnn)", specs=specs)
    for key in ("0.bias", "1.weight", "1.bias", "2.bias"):
        if not torch.equal(result["before"][key], result["after"][key]):
            fail(
                "init_cnn",
                f"changed {key}",
                "",
                "only the weights of nn.Linear and nn.Conv2d layers may change",
                "test type(module) == nn.Linear or type(module) == nn.Conv2d, and set module.weight only",
            )


def test_lenet_has_the_books_layers_in_order(lenet_layers):
    """LeNet's net is conv, sigmoid, average pool, conv, sigmoid, average pool, flatten, then three dense layers with sigmoids."""
    check_layer_types(LENET_TYPES, lenet_layers, "LeNet().net")


def test_lenet_layers_have_the_books_sizes_and_padding(lenet_layers):
    """LeNet's convolutions are 6 and 16 channels of 5x5 (the first with padding 2), its pools 2x2 with stride 2, its dense layers 120, 84 and 10 wide."""
    # Layers by kind, so that a wrong activation or pooling type fails only the check of the
    # layer types, which names it.
    top = top_layers(lenet_layers)
    kinds = {
        "convolutions": [layer for layer in top if layer["type"] == "Conv2d"],
        "pooling layers": [layer for layer in top if layer["type"] in POOLS],
        "dense layers": [layer for layer in top if layer["type"] == "Linear"],
    }
    hint = structure_hint(LENET_TYPES, [layer["type"] for layer in top])
    for kind, count in (("convolutions", 2), ("pooling layers", 2), ("dense layers", 3)):
        check_equal(
            count,
            len(kinds[kind]),
            what=f"LeNet().net's {kind}",
            problem="wrong number of layers",
            hint=hint,
        )
    (conv1, conv2), (pool1, pool2) = kinds["convolutions"], kinds["pooling layers"]
    check_layer_argument(conv1, "out_channels", 6, "LeNet's first convolution")
    check_layer_argument(conv1, "kernel_size", 5, "LeNet's first convolution")
    check_layer_argument(
        conv1,
        "padding",
        2,
        "LeNet's first convolution",
        hint=Diagnosis(
            "missing padding", "padding=2 keeps the 28x28 size, as the book's summary shows"
        ),
    )
    check_layer_argument(conv2, "out_channels", 16, "LeNet's second convolution")
    check_layer_argument(conv2, "padding", 0, "LeNet's second convolution")
    for pool in (pool1, pool2):
        check_layer_argument(pool, "kernel_size", 2, "LeNet's pooling")
        check_layer_argument(pool, "stride", 2, "LeNet's pooling")
    for layer, width in zip(kinds["dense layers"], (120, 84, 10), strict=True):
        check_layer_argument(layer, "out_features", width, "LeNet's dense layers")


def test_lenet_output_shapes_match_the_books_summary(lenet_layers):
    """On a 1x1x28x28 input, every layer of LeNet gives the output shape of the book's layer summary."""
    check_output_shapes(
        LENET_SHAPES,
        lenet_layers,
        "LeNet() on a 1x1x28x28 input",
        hint="compare with the book's summary: 28x28 after the first convolution needs padding=2",
    )


def test_lenet_has_61706_parameters(lenet_layers):
    """LeNet for 10 classes has 61,706 parameters."""
    check_equal(
        61_706, lenet_layers["num_params"], what="LeNet()", problem="wrong number of parameters"
    )


def test_lenet_takes_lr_and_num_classes(LeNet, process):
    """LeNet(lr=0.05, num_classes=7) saves lr and outputs 7 scores per image."""
    model = LeNet(lr=0.05, num_classes=7, what="LeNet(lr=0.05, num_classes=7)")
    info = layers(
        process, model, (2, 1, 28, 28), "LeNet(lr=0.05, num_classes=7) on a 2x1x28x28 input"
    )
    check_equal(
        (2, 7),
        info["output_shape"],
        what="LeNet(lr=0.05, num_classes=7)",
        problem="wrong output shape",
        hint="the last layer is nn.LazyLinear(num_classes)",
    )
    check_equal(
        0.05,
        process.attribute(model, "lr", what="LeNet(lr=0.05).lr"),
        what="LeNet(lr=0.05).lr",
        problem="the learning rate was not saved",
        hint="call self.save_hyperparameters() in __init__",
    )


@remember
def lenet_forward(state, X, activation="sigmoid", pool="avg"):
    """LeNet's forward pass, written with torch.nn.functional, for the given weights (in order);
    another `activation` (`relu`) or `pool` (`max`) gives a known mistake's network."""
    w = list(state.values())
    act = torch.sigmoid if activation == "sigmoid" else F.relu
    pooled = F.avg_pool2d if pool == "avg" else F.max_pool2d
    Y = pooled(act(F.conv2d(X, w[0], w[1], padding=2)), 2, 2)
    Y = pooled(act(F.conv2d(Y, w[2], w[3])), 2, 2).flatten(1)
    Y = act(F.linear(Y, w[4], w[5]))
    Y = act(F.linear(Y, w[6], w[7]))
    return F.linear(Y, w[8], w[9])


LENET_MISTAKES = (
    Mistake(
        "wrong activation",
        "the book's LeNet uses nn.Sigmoid(), not ReLU",
        functools.partial(lenet_forward, activation="relu"),
    ),
    Mistake(
        "wrong pooling",
        "the book's LeNet uses nn.AvgPool2d(kernel_size=2, stride=2), not max pooling",
        functools.partial(lenet_forward, pool="max"),
    ),
    Mistake(
        "wrong activation",
        "the book's LeNet uses nn.Sigmoid() and average pooling, not ReLU and max pooling",
        functools.partial(lenet_forward, activation="relu", pool="max"),
    ),
)


def test_lenet_forward_pass_is_the_books(lenet, lenet_layers, process):
    """With its own weights, LeNet computes what the book's LeNet computes with the same weights."""
    state = process.probe("state_dict", lenet, what="LeNet().state_dict()")
    if [tuple(t.shape) for t in state.values()] != [
        (6, 1, 5, 5),
        (6,),
        (16, 6, 5, 5),
        (16,),
        (120, 400),
        (120,),
        (84, 120),
        (84,),
        (10, 84),
        (10,),
    ]:
        fail(
            "LeNet().state_dict()",
            "wrong parameters",
            "",
            f"got {[tuple(t.shape) for t in state.values()]}",
            "the book's LeNet has two convolutions and three dense layers, each with a bias",
        )
    X = torch.rand(3, 1, 28, 28)
    got = process.probe("forward", lenet, what="LeNet()(X)", X=X)
    check_tensor(
        lenet_forward(state, X),
        got,
        what="LeNet()(X)",
        inputs={"X": X},
        hint=lambda tensor: diagnose(tensor, LENET_MISTAKES, state, X),
        atol=1e-4,
    )


@pytest.mark.slow
def test_lenet_loss_falls_in_a_short_training_run(LeNet, process, record_property):
    """A hundred Adam steps on 16 synthetic Fashion-MNIST images lower LeNet's loss, with no NaNs."""
    model = LeNet(what="LeNet()")
    smoke_train(
        process,
        model,
        "training LeNet",
        "LeNet",
        record=record_property,
    )


SUMMARY_SPECS = [Layer("Conv2d", (1, 2, 3), (("padding", 1),)), Layer("ReLU"), Layer("MaxPool2d", (2,)),
                 Layer("Flatten"), Layer("Linear", (2 * 2 * 3, 3))]  # fmt: skip


def expected_summary(specs, X_shape):
    net = nn.Sequential(*[getattr(nn, s.type)(*s.args, **dict(s.kwargs)) for s in specs])
    X = torch.randn(*X_shape)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        for layer in net:
            X = layer(X)
            print(layer.__class__.__name__, "output shape:\t", X.shape)
    return out.getvalue()


def test_layer_summary_prints_each_layer_with_its_output_shape(layer_summary, process):
    """layer_summary prints one line per layer of self.net: its class name, 'output shape:' and the shape."""
    process.probe(
        "summary",
        layer_summary.remote,
        what="model.layer_summary((1, 1, 4, 6))",
        specs=SUMMARY_SPECS,
        X_shape=(1, 1, 4, 6),
    )
    expected = expected_summary(SUMMARY_SPECS, (1, 1, 4, 6))
    check_equal(
        expected.splitlines(),
        process.last_stdout.splitlines(),
        what="model.layer_summary((1, 1, 4, 6))",
        problem="wrong printed summary",
        hint="for each layer in self.net: X = layer(X), then print(layer.__class__.__name__, 'output shape:\\t', X.shape)",
    )
