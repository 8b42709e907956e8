"""Device helpers of the d2l package (book section 6.7): `cpu`, `gpu`, `num_gpus`, `try_gpu`.

Only `num_gpus` asks the driver anything, and it never initialises a CUDA context, so calling these
before a fork is safe.
"""

from __future__ import annotations

import torch


def cpu() -> torch.device:
    """The CPU device."""
    return torch.device("cpu")


def gpu(i: int = 0) -> torch.device:
    """The i-th GPU device (it need not exist)."""
    return torch.device(f"cuda:{i}")


def num_gpus() -> int:
    """How many CUDA devices this process can see."""
    return torch.cuda.device_count()


def try_gpu(i: int = 0) -> torch.device:
    """The i-th GPU if it exists, else the CPU."""
    if num_gpus() >= i + 1:
        return gpu(i)
    return cpu()


def try_all_gpus() -> list[torch.device]:
    """Every GPU, or `[cpu()]` when there is none."""
    return [gpu(i) for i in range(num_gpus())] or [cpu()]
