"""Hidden checks (staff only): other sizes, class counts and architectures than the homework's, so
that hard-coded shapes fail, the full-size VGG-11 summary, and training smoke runs of VGG and ResNet18."""

import pytest
import torch

from grader.checking.compare import check_equal
from grader.checks.models import check_output_shapes, layers, smoke_train
from grader.checks.test_cross_correlation import check_corr2d

VGG11 = ((1, 64), (1, 128), (2, 256), (2, 512), (2, 512))


def test_corr2d_on_a_larger_non_square_image(corr2d):
    """corr2d on a 12x15 image with a 4x3 kernel matches conv2d."""
    X = torch.randn(12, 15)
    K = torch.randn(4, 3)
    check_corr2d(corr2d, X, K)


def test_lenet_works_for_other_class_counts_and_image_sizes(LeNet, process):
    """LeNet(num_classes=3) on 2x1x32x32 images outputs 2x3: nothing is fixed to 28x28 or 10 classes."""
    model = LeNet(num_classes=3, what="LeNet(num_classes=3)")
    info = layers(process, model, (2, 1, 32, 32), "LeNet(num_classes=3) on a 2x1x32x32 input")
    check_equal(
        (2, 3),
        info["output_shape"],
        what="LeNet(num_classes=3) on a 2x1x32x32 input",
        problem="wrong output shape",
        hint="use the Lazy layers and num_classes, so that no size is written into the code",
    )


def test_vgg_works_for_other_architectures_and_class_counts(VGG, process):
    """VGG(arch=((2, 4), (1, 8), (1, 8)), num_classes=7) on 1x1x40x48 gives 4x20x24, 8x10x12, 8x5x6, then 7 scores."""
    arch = ((2, 4), (1, 8), (1, 8))
    info = layers(
        process,
        VGG(arch, num_classes=7, what=f"VGG(arch={arch}, num_classes=7)"),
        (1, 1, 40, 48),
        "VGG on 1x1x40x48",
        meta=True,
    )
    expected = [(1, 4, 20, 24), (1, 8, 10, 12), (1, 8, 5, 6), (1, 240), (1, 4096), (1, 4096), (1, 4096), (1, 4096),
                (1, 4096), (1, 4096), (1, 7)]  # fmt: skip
    check_output_shapes(expected, info, f"VGG(arch={arch}, num_classes=7) on a 1x1x40x48 input")


@pytest.mark.slow
def test_vgg11_summary_at_224_matches_the_book(VGG, process):
    """VGG-11 on a 1x1x224x224 input gives the book's layer summary, 64x112x112 down to 512x7x7, then 25088, 4096, 4096, 10."""
    info = layers(
        process,
        VGG(VGG11, what="VGG(arch=VGG-11)"),
        (1, 1, 224, 224),
        "VGG-11 on a 1x1x224x224 input",
        meta=True,
    )
    expected = [(1, 64, 112, 112), (1, 128, 56, 56), (1, 256, 28, 28), (1, 512, 14, 14), (1, 512, 7, 7), (1, 25088),
                (1, 4096), (1, 4096), (1, 4096), (1, 4096), (1, 4096), (1, 4096), (1, 10)]  # fmt: skip
    check_output_shapes(expected, info, "VGG-11 on a 1x1x224x224 input")
    check_equal(
        128_806_154, info["num_params"], what="VGG-11", problem="wrong number of parameters"
    )


def test_resnet18_works_for_other_class_counts_and_image_sizes(ResNet18, process):
    """ResNet18(num_classes=4) on 2x1x64x64 images outputs 2x4."""
    info = layers(
        process,
        ResNet18(num_classes=4, what="ResNet18(num_classes=4)"),
        (2, 1, 64, 64),
        "ResNet18 on 2x1x64x64",
        train=True,
        fast_init=True,
    )
    check_equal(
        (2, 4),
        info["output_shape"],
        what="ResNet18(num_classes=4) on a 2x1x64x64 input",
        problem="wrong output shape",
    )


@pytest.mark.slow
def test_a_small_vgg_loss_falls_in_a_short_training_run(VGG, process, record_property):
    """Three SGD steps on 8 synthetic 16x16 images lower a small VGG's loss by a tenth, with no NaNs."""
    model = VGG(((1, 8), (1, 16)), lr=0.01, what="VGG(arch=((1, 8), (1, 16)))")
    smoke_train(
        process,
        model,
        "training a small VGG",
        "small VGG",
        record=record_property,
    )


@pytest.mark.slow
def test_resnet18_loss_falls_in_a_short_training_run(ResNet18, process, record_property):
    """Three Adam steps on 4 synthetic 16x16 images lower ResNet18's loss by a third, with no NaNs."""
    model = ResNet18(lr=0.01, what="ResNet18()")
    smoke_train(
        process,
        model,
        "training ResNet18",
        "ResNet18",
        record=record_property,
    )
