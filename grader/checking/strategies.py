"""Hypothesis strategies for the homework's inputs: images, kernels, channel stacks, pool windows.

Sides stay small (students' loops are slow) and shapes are deliberately non-square as often as
square, so code that mixes up height and width fails. Values are float32 in [-10, 10]; every draw is
a `torch.Tensor`. Nothing here runs student code.
"""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import strategies as st
from hypothesis.extra import numpy as nps

VALUES = st.floats(-10, 10, width=32, allow_nan=False, allow_infinity=False)


def _tensor(draw: st.DrawFn, shape: tuple[int, ...]) -> torch.Tensor:
    return torch.from_numpy(draw(nps.arrays(np.float32, shape, elements=VALUES)))


@st.composite
def images_and_kernels(draw: st.DrawFn, *, max_side: int = 8) -> tuple[torch.Tensor, torch.Tensor]:
    """An image (h, w) and a kernel (kh, kw) that fits inside it."""
    h, w = draw(st.integers(1, max_side)), draw(st.integers(1, max_side))
    kh, kw = draw(st.integers(1, h)), draw(st.integers(1, w))
    return _tensor(draw, (h, w)), _tensor(draw, (kh, kw))


@st.composite
def images_kernels_and_positions(
    draw: st.DrawFn, *, max_side: int = 8
) -> tuple[torch.Tensor, torch.Tensor, tuple[int, int]]:
    """An image (h, w), a kernel (kh, kw) that fits inside it and a position (i, j) in the kernel."""
    X, K = draw(images_and_kernels(max_side=max_side))
    kh, kw = K.shape
    return X, K, (draw(st.integers(0, kh - 1)), draw(st.integers(0, kw - 1)))


@st.composite
def multi_channel_inputs(
    draw: st.DrawFn, *, max_side: int = 6, max_channels: int = 3, out_channels: bool = False
) -> tuple[torch.Tensor, torch.Tensor]:
    """X (c_i, h, w) and K (c_i, kh, kw), or K (c_o, c_i, kh, kw) with `out_channels=True`."""
    c_i = draw(st.integers(1, max_channels))
    h, w = draw(st.integers(1, max_side)), draw(st.integers(1, max_side))
    kh, kw = draw(st.integers(1, h)), draw(st.integers(1, w))
    k_shape: tuple[int, ...] = (c_i, kh, kw)
    if out_channels:
        k_shape = (draw(st.integers(1, max_channels)), *k_shape)
    return _tensor(draw, (c_i, h, w)), _tensor(draw, k_shape)


@st.composite
def one_by_one_inputs(
    draw: st.DrawFn, *, max_side: int = 6, max_channels: int = 4
) -> tuple[torch.Tensor, torch.Tensor]:
    """X (c_i, h, w) and a 1x1 kernel K (c_o, c_i, 1, 1)."""
    c_i, c_o = draw(st.integers(1, max_channels)), draw(st.integers(1, max_channels))
    h, w = draw(st.integers(1, max_side)), draw(st.integers(1, max_side))
    return _tensor(draw, (c_i, h, w)), _tensor(draw, (c_o, c_i, 1, 1))


@st.composite
def images_and_pool_sizes(
    draw: st.DrawFn, *, max_side: int = 8
) -> tuple[torch.Tensor, tuple[int, int]]:
    """An image (h, w) and a pooling window (p_h, p_w) that fits inside it."""
    h, w = draw(st.integers(1, max_side)), draw(st.integers(1, max_side))
    return _tensor(draw, (h, w)), (draw(st.integers(1, h)), draw(st.integers(1, w)))
