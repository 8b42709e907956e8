"""Book section 8.2, "Networks Using Blocks (VGG)": `vgg_block` and `VGG`."""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

from d2lcompat import torch as d2l

VGGArch = Sequence[tuple[int, int]]
"""A VGG architecture: one (num_convs, out_channels) pair per block."""

VGG11: VGGArch = ((1, 64), (1, 128), (2, 256), (2, 512), (2, 512))
"""VGG-11 as in the book's `layer_summary` example (8.2.2)."""

VGG11_SMALL: VGGArch = ((1, 16), (1, 32), (2, 64), (2, 128), (2, 128))
"""The book's narrower VGG-11 for training on Fashion-MNIST (8.2.3): every width divided by four."""


def vgg_block(num_convs: int, out_channels: int) -> nn.Sequential:
    """`num_convs` 3x3 convolutions (padding 1) each followed by ReLU, then 2x2 max pooling, stride 2.

    Maps (N, c, h, w) to (N, out_channels, h // 2, w // 2) (book section 8.2.1).
    """
    layers: list[nn.Module] = []
    for _ in range(num_convs):
        layers.append(nn.LazyConv2d(out_channels, kernel_size=3, padding=1))
        layers.append(nn.ReLU())
    layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
    return nn.Sequential(*layers)


class VGG(d2l.Classifier):
    """VGG (book section 8.2.2): one `vgg_block` per (num_convs, out_channels) in `arch`, then the
    dense part Flatten, 4096-ReLU-Dropout(0.5), 4096-ReLU-Dropout(0.5), num_classes.

    With VGG11 on (N, 1, 224, 224) the blocks give (N, 64, 112, 112) ... (N, 512, 7, 7), then
    (N, 25088) -> (N, 4096) -> (N, 4096) -> (N, num_classes). `init_cnn` is applied to the layers at
    construction, when the Lazy layers are not yet sized; `apply_init` re-initialises them after a
    first forward pass, as the book's training cell does.
    """

    def __init__(self, arch: VGGArch, lr: float = 0.1, num_classes: int = 10) -> None:
        super().__init__()
        self.save_hyperparameters()
        conv_blks = []
        for num_convs, out_channels in arch:
            conv_blks.append(vgg_block(num_convs, out_channels))
        self.net = nn.Sequential(
            *conv_blks,
            nn.Flatten(),
            nn.LazyLinear(4096),
            nn.ReLU(),
            nn.Dropout(0.5),
            nn.LazyLinear(4096),
            nn.ReLU(),
            nn.Dropout(0.5),
            nn.LazyLinear(num_classes),
        )
        self.net.apply(d2l.init_cnn)
