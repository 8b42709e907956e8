"""Section 8.2: vgg_block and VGG."""

import pytest

from grader.checking.compare import check_equal
from grader.checking.mistakes import Diagnosis
from grader.checks.models import (
    check_layer_argument,
    check_layer_types,
    check_output_shapes,
    layers,
    top_layers,
)

SMALL_ARCH = ((1, 8), (2, 16))
DENSE = ["Flatten", "Linear", "ReLU", "Dropout", "Linear", "ReLU", "Dropout", "Linear"]


@pytest.fixture(scope="module")
def block_layers(vgg_block, process):
    block = vgg_block(2, 8, what="vgg_block(2, 8)")
    return layers(process, block, (1, 3, 8, 10), "vgg_block(2, 8) on a 1x3x8x10 input")


def test_vgg_block_is_convolutions_with_relus_then_max_pooling(block_layers):
    """vgg_block(2, 8) is conv 3x3, ReLU, conv 3x3, ReLU, then 2x2 max pooling with stride 2."""
    check_layer_types(
        ["Conv2d", "ReLU", "Conv2d", "ReLU", "MaxPool2d"], block_layers, "vgg_block(2, 8)"
    )
    top = top_layers(block_layers)
    for conv in (top[0], top[2]):
        check_layer_argument(conv, "kernel_size", 3, "vgg_block's convolutions")
        check_layer_argument(
            conv,
            "padding",
            1,
            "vgg_block's convolutions",
            hint=Diagnosis(
                "missing padding", "padding=1 keeps the size, so only the pooling halves it"
            ),
        )
        check_layer_argument(conv, "out_channels", 8, "vgg_block(2, 8)'s convolutions")
    check_layer_argument(top[4], "kernel_size", 2, "vgg_block's pooling")
    check_layer_argument(top[4], "stride", 2, "vgg_block's pooling")


def test_vgg_block_halves_height_and_width(block_layers):
    """vgg_block(2, 8) maps a 1x3x8x10 input to 1x8x4x5: same size through the convolutions, halved by the pool."""
    check_equal(
        (1, 8, 4, 5),
        block_layers["output_shape"],
        what="vgg_block(2, 8) on a 1x3x8x10 input",
        problem="wrong output shape",
        hint="3x3 convolutions with padding=1, then MaxPool2d(kernel_size=2, stride=2)",
    )


@pytest.mark.parametrize("num_convs", [1, 3])
def test_vgg_block_has_num_convs_convolutions(vgg_block, process, num_convs):
    """vgg_block({num_convs}, 4) has {num_convs} convolution(s), each followed by a ReLU."""
    info = layers(
        process,
        vgg_block(num_convs, 4, what=f"vgg_block({num_convs}, 4)"),
        (1, 2, 6, 6),
        f"vgg_block({num_convs}, 4)",
    )
    check_layer_types(
        ["Conv2d", "ReLU"] * num_convs + ["MaxPool2d"], info, f"vgg_block({num_convs}, 4)"
    )


@pytest.fixture(scope="module")
def small_vgg(VGG, process):
    model = VGG(SMALL_ARCH, num_classes=5, what=f"VGG(arch={SMALL_ARCH}, num_classes=5)")
    return layers(
        process,
        model,
        (1, 1, 32, 32),
        f"VGG(arch={SMALL_ARCH}, num_classes=5) on a 1x1x32x32 input",
        meta=True,
    )


def test_vgg_has_a_block_per_stage_and_the_dense_layers(small_vgg):
    """VGG is one vgg_block per (num_convs, channels) pair, then Flatten and Linear-ReLU-Dropout twice and the output layer."""
    check_layer_types(
        ["Sequential"] * len(SMALL_ARCH) + DENSE, small_vgg, f"VGG(arch={SMALL_ARCH})"
    )
    top = top_layers(small_vgg)
    dense = top[len(SMALL_ARCH) :]
    check_layer_argument(dense[1], "out_features", 4096, "VGG's first dense layer")
    check_layer_argument(dense[4], "out_features", 4096, "VGG's second dense layer")
    check_layer_argument(dense[7], "out_features", 5, "VGG's output layer (num_classes=5)")
    for dropout in (dense[3], dense[6]):
        check_layer_argument(dropout, "p", 0.5, "VGG's dropout")


def test_vgg_output_shapes_follow_the_architecture(small_vgg):
    """On 1x1x32x32, VGG's blocks give 8x16x16 then 16x8x8, flattened to 1024, then 4096, 4096 and 5."""
    expected = [(1, 8, 16, 16), (1, 16, 8, 8), (1, 1024), (1, 4096), (1, 4096), (1, 4096), (1, 4096), (1, 4096),
                (1, 4096), (1, 5)]  # fmt: skip
    check_output_shapes(
        expected, small_vgg, f"VGG(arch={SMALL_ARCH}, num_classes=5) on a 1x1x32x32 input"
    )
