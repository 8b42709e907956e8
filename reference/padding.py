"""Book section 7.3, "Padding and Stride": `comp_conv2d` and the output-size formula."""

from __future__ import annotations

from collections.abc import Callable

from torch import Tensor


def comp_conv2d(conv2d: Callable[[Tensor], Tensor], X: Tensor) -> Tensor:
    """Apply a convolutional layer to a single-channel 2-D input (book section 7.3.1).

    X has shape (h, w); it is given batch and channel axes of size one, passed through `conv2d`, and
    the result is returned without them, with shape (h_out, w_out).
    """
    X = X.reshape((1, 1, *X.shape))
    Y = conv2d(X)
    return Y.reshape(Y.shape[2:])


def conv_output_size(size: int, kernel: int, padding: int = 0, stride: int = 1) -> int:
    """The output size along one axis: floor((size + 2 * padding - kernel) / stride) + 1 (7.3.2)."""
    return (size + 2 * padding - kernel) // stride + 1
