"""Book section 8.6, "Residual Networks (ResNet) and ResNeXt": `Residual`, `ResNet`, `ResNet18`.

The book's ResNet is ResNet v1 with basic blocks: a stage that downsamples does so with stride 2 in
its first 3x3 convolution and a strided 1x1 projection on the shortcut, as torchvision's `BasicBlock`
does (the v1/v1.5 difference concerns bottleneck blocks only).
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn
from torch.nn import functional as F

from d2lcompat import torch as d2l

ResNetArch = Sequence[tuple[int, int]]
"""A ResNet architecture: one (num_residuals, num_channels) pair per stage after the stem."""

RESNET18: ResNetArch = ((2, 64), (2, 128), (2, 256), (2, 512))
"""ResNet-18's four stages (8.6.3)."""


class Residual(nn.Module):
    """The residual block of ResNet (book section 8.6.2).

    conv3x3(stride) -> BN -> ReLU -> conv3x3 -> BN, plus the input (through a 1x1 convolution with the
    same stride when `use_1x1conv`), then ReLU. Maps (N, c, h, w) to
    (N, num_channels, ceil(h / strides), ceil(w / strides)); without the 1x1 convolution the input must
    already have `num_channels` channels and `strides` must be 1.
    """

    def __init__(self, num_channels: int, use_1x1conv: bool = False, strides: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.LazyConv2d(num_channels, kernel_size=3, padding=1, stride=strides)
        self.conv2 = nn.LazyConv2d(num_channels, kernel_size=3, padding=1)
        self.conv3: nn.Module | None
        if use_1x1conv:
            self.conv3 = nn.LazyConv2d(num_channels, kernel_size=1, stride=strides)
        else:
            self.conv3 = None
        self.bn1 = nn.LazyBatchNorm2d()
        self.bn2 = nn.LazyBatchNorm2d()

    def forward(self, X: Tensor) -> Tensor:
        Y = F.relu(self.bn1(self.conv1(X)))
        Y = self.bn2(self.conv2(Y))
        if self.conv3 is not None:
            X = self.conv3(X)
        Y += X
        return F.relu(Y)


class ResNet(d2l.Classifier):
    """ResNet (book section 8.6.3): the stem `b1`, one stage per (num_residuals, num_channels) in
    `arch`, then global average pooling, Flatten and a linear layer to `num_classes`.

    The stem maps (N, 1, h, w) to (N, 64, h / 4, w / 4); every stage but the first halves the size and
    projects its shortcut. The top-level layers are named b1, b2, ..., last.
    """

    def __init__(self, arch: ResNetArch, lr: float = 0.1, num_classes: int = 10) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.net = nn.Sequential(self.b1())
        for i, b in enumerate(arch):
            self.net.add_module(f"b{i + 2}", self.block(*b, first_block=(i == 0)))
        self.net.add_module(
            "last",
            nn.Sequential(nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(), nn.LazyLinear(num_classes)),
        )
        self.net.apply(d2l.init_cnn)

    def b1(self) -> nn.Sequential:
        """The stem: 7x7 convolution with 64 channels, stride 2, BN, ReLU, 3x3 max pooling, stride 2."""
        return nn.Sequential(
            nn.LazyConv2d(64, kernel_size=7, stride=2, padding=3),
            nn.LazyBatchNorm2d(),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=3, stride=2, padding=1),
        )

    def block(
        self, num_residuals: int, num_channels: int, first_block: bool = False
    ) -> nn.Sequential:
        """A stage of `num_residuals` blocks; unless `first_block`, the first one halves the size."""
        blk = []
        for i in range(num_residuals):
            if i == 0 and not first_block:
                blk.append(Residual(num_channels, use_1x1conv=True, strides=2))
            else:
                blk.append(Residual(num_channels))
        return nn.Sequential(*blk)


class ResNet18(ResNet):
    """ResNet-18 (book section 8.6.3): on (N, 1, 96, 96) its stages give 64x24x24, 64x24x24,
    128x12x12, 256x6x6, 512x3x3, then (N, num_classes)."""

    def __init__(self, lr: float = 0.1, num_classes: int = 10) -> None:
        super().__init__(RESNET18, lr, num_classes)
