"""`python -m reference`: print the homework's outputs as the reference computes them.

Runs every printed cell of the homework that needs no dataset (7.2 to 8.6), seeded, on the CPU. The
VGG-11 summary at 224x224 builds a 129M-parameter model, so it is slow.
"""

from __future__ import annotations

import torch
from torch import nn

import reference as r


def section(title: str) -> None:
    print(f"\n== {title}")


def main() -> None:
    torch.manual_seed(0)
    section("7.2 cross-correlation")
    X = torch.tensor([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0, 7.0, 8.0]])
    print(r.corr2d(X, torch.tensor([[0.0, 1.0], [2.0, 3.0]])))
    edges = torch.ones((6, 8))
    edges[:, 2:6] = 0
    K = torch.tensor([[1.0, -1.0]])
    Y = r.corr2d(edges, K)
    print(Y)
    print(r.corr2d(edges.t(), K))
    kernel, _ = r.learn_kernel(edges, Y, print_every=2)
    print(kernel)

    section("7.3 padding and stride")
    X8 = torch.rand(size=(8, 8))
    for layer in (
        dict(kernel_size=3, padding=1),
        dict(kernel_size=(5, 3), padding=(2, 1)),
        dict(kernel_size=3, padding=1, stride=2),
        dict(kernel_size=(3, 5), padding=(0, 1), stride=(3, 4)),
    ):
        print(layer, r.comp_conv2d(nn.LazyConv2d(1, **layer), X8).shape)

    section("7.4 multiple channels")
    X2 = torch.stack((X, X + 1))
    K2 = torch.tensor([[[0.0, 1.0], [2.0, 3.0]], [[1.0, 2.0], [3.0, 4.0]]])
    print(r.corr2d_multi_in(X2, K2))
    print(r.corr2d_multi_in_out(X2, torch.stack((K2, K2 + 1, K2 + 2), 0)))

    section("7.5 pooling")
    print(r.pool2d(X, (2, 2)))
    print(r.pool2d(X, (2, 2), "avg"))

    section("7.6 LeNet")
    r.LeNet().layer_summary((1, 1, 28, 28))
    section("8.2 VGG-11")
    r.VGG(arch=r.VGG11).layer_summary((1, 1, 224, 224))
    section("8.6 ResNet-18")
    r.ResNet18().layer_summary((1, 1, 96, 96))


if __name__ == "__main__":
    main()
