"""Book section 7.2, "Convolutions for Images": `corr2d`, `Conv2D` and learning a kernel (7.2.4).

`corr2d` loops as the book does, because the grader compares students' loops with it; `corr2d_fast` is
the same operation through `torch.nn.functional.conv2d`, for large inputs.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn import functional as F


def corr2d(X: Tensor, K: Tensor) -> Tensor:
    """Two-dimensional cross-correlation (book section 7.2.1).

    X has shape (h, w) and K shape (kh, kw); the result has shape (h - kh + 1, w - kw + 1) and, as in
    the book, dtype float32 whatever the inputs' dtype.
    """
    h, w = K.shape
    Y = torch.zeros((X.shape[0] - h + 1, X.shape[1] - w + 1))
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X[i : i + h, j : j + w] * K).sum()
    return Y


def corr2d_fast(X: Tensor, K: Tensor) -> Tensor:
    """`corr2d` without Python loops: the same shapes, values equal up to float rounding."""
    return F.conv2d(X.float()[None, None], K.float()[None, None])[0, 0]


class Conv2D(nn.Module):
    """A convolutional layer with a learnable kernel and scalar bias (book section 7.2.2).

    `kernel_size` is a (kh, kw) tuple; the weight starts uniform in [0, 1), the bias at zero. The
    forward pass maps (h, w) to (h - kh + 1, w - kw + 1).
    """

    def __init__(self, kernel_size: tuple[int, int]) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.rand(kernel_size))
        self.bias = nn.Parameter(torch.zeros(1))

    def forward(self, x: Tensor) -> Tensor:
        return corr2d(x, self.weight) + self.bias


def learn_kernel(
    X: Tensor,
    Y: Tensor,
    kernel_size: tuple[int, int] = (1, 2),
    lr: float = 3e-2,
    num_epochs: int = 10,
    *,
    print_every: int | None = None,
) -> tuple[Tensor, list[float]]:
    """Learn the kernel that maps X to Y by gradient descent on the squared error (book section 7.2.4).

    X has shape (h, w) and Y shape (h - kh + 1, w - kw + 1). Returns the learned kernel, of shape
    `kernel_size`, and the summed squared error of each epoch (measured before that epoch's step).
    With `print_every=2` it prints the book's log lines ("epoch 2, loss 10.896"). Seed torch first for
    a repeatable start: the kernel is initialised at random, as `nn.LazyConv2d` does.
    """
    conv2d = nn.LazyConv2d(1, kernel_size=kernel_size, bias=False)
    X = X.reshape((1, 1, *X.shape))
    Y = Y.reshape((1, 1, *Y.shape))
    losses = []
    for i in range(num_epochs):
        Y_hat = conv2d(X)
        loss = (Y_hat - Y) ** 2
        conv2d.zero_grad()
        loss.sum().backward()
        assert conv2d.weight.grad is not None
        conv2d.weight.data[:] -= lr * conv2d.weight.grad
        losses.append(float(loss.sum().detach()))
        if print_every and (i + 1) % print_every == 0:
            print(f"epoch {i + 1}, loss {losses[-1]:.3f}")
    return conv2d.weight.data.reshape(kernel_size), losses
