"""The homework solved as the book solves it: every item the grader judges, by its homework name.

One module per book section (7.2 `cross_correlation`, 7.3 `padding`, 7.4 `channels`, 7.5 `pooling`,
7.6 `lenet`, 8.2 `vgg`, 8.6 `resnet`). The models subclass the d2l-compatible `Classifier` of
`d2lcompat`, the only part of `grader` this package imports. Importing it prints nothing.
"""

from reference.channels import corr2d_multi_in, corr2d_multi_in_out, corr2d_multi_in_out_1x1
from reference.cross_correlation import Conv2D, corr2d, corr2d_fast, learn_kernel
from reference.lenet import LeNet, init_cnn, layer_summary
from reference.padding import comp_conv2d, conv_output_size
from reference.pooling import pool2d, pool2d_fast
from reference.resnet import RESNET18, Residual, ResNet, ResNet18
from reference.vgg import VGG, VGG11, VGG11_SMALL, vgg_block

ITEMS = (
    "corr2d",
    "Conv2D",
    "comp_conv2d",
    "corr2d_multi_in",
    "corr2d_multi_in_out",
    "corr2d_multi_in_out_1x1",
    "pool2d",
    "init_cnn",
    "LeNet",
    "layer_summary",
    "vgg_block",
    "VGG",
    "Residual",
    "ResNet",
    "ResNet18",
)
"""The homework's items, in the order the homework defines them."""

__all__ = [
    "ITEMS",
    "RESNET18",
    "VGG",
    "VGG11",
    "VGG11_SMALL",
    "Conv2D",
    "LeNet",
    "ResNet",
    "ResNet18",
    "Residual",
    "comp_conv2d",
    "conv_output_size",
    "corr2d",
    "corr2d_fast",
    "corr2d_multi_in",
    "corr2d_multi_in_out",
    "corr2d_multi_in_out_1x1",
    "init_cnn",
    "layer_summary",
    "learn_kernel",
    "pool2d",
    "pool2d_fast",
    "vgg_block",
]
