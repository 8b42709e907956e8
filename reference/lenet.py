"""Book section 7.6, "Convolutional Neural Networks (LeNet)": `init_cnn`, `LeNet`, `layer_summary`."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from d2lcompat import torch as d2l


def init_cnn(module: nn.Module) -> None:
    """Xavier-uniform initialisation of the weights of `nn.Linear` and `nn.Conv2d` layers only (7.6.1).

    Biases and every other layer type (BatchNorm, Lazy layers not yet sized) are left as they are.
    """
    if type(module) is nn.Linear or type(module) is nn.Conv2d:
        nn.init.xavier_uniform_(module.weight)


class LeNet(d2l.Classifier):
    """LeNet-5 for 1x28x28 images (book section 7.6.1), with sigmoid activations and average pooling.

    Shapes for a batch of N:
      (N, 1, 28, 28) -> conv 5x5, pad 2 -> (N, 6, 28, 28) -> avgpool 2 -> (N, 6, 14, 14)
      -> conv 5x5 -> (N, 16, 10, 10) -> avgpool 2 -> (N, 16, 5, 5)
      -> flatten -> (N, 400) -> (N, 120) -> (N, 84) -> (N, num_classes)
    With 10 classes it has 61,706 parameters.
    """

    def __init__(self, lr: float = 0.1, num_classes: int = 10) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.net = nn.Sequential(
            nn.LazyConv2d(6, kernel_size=5, padding=2),
            nn.Sigmoid(),
            nn.AvgPool2d(kernel_size=2, stride=2),
            nn.LazyConv2d(16, kernel_size=5),
            nn.Sigmoid(),
            nn.AvgPool2d(kernel_size=2, stride=2),
            nn.Flatten(),
            nn.LazyLinear(120),
            nn.Sigmoid(),
            nn.LazyLinear(84),
            nn.Sigmoid(),
            nn.LazyLinear(num_classes),
        )


def layer_summary(self: d2l.Classifier, X_shape: Sequence[int]) -> None:
    """Print each top-level layer of `self.net` with its output shape for a random input (7.6.1).

    The book adds this to `d2l.Classifier` with `@d2l.add_to_class`; d2l ships it there, so the
    reference keeps it a plain function: `layer_summary(model, (1, 1, 28, 28))` prints the same lines as
    `model.layer_summary((1, 1, 28, 28))`, one per layer: `<class name> output shape:\\t <torch.Size>`.
    """
    X = torch.randn(*X_shape)
    for layer in self.net:  # type: ignore[attr-defined]
        X = layer(X)
        print(layer.__class__.__name__, "output shape:\t", X.shape)
