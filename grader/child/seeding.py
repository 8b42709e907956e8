"""Seeding every generator a check or a student's code may draw from, cheaply enough to do it often.

`torch.manual_seed` seeds the CPU generator and then visits every backend; while CUDA (or XPU, MTIA)
is not initialized, each visit records a lazy call with a formatted stack, which is slow. Grading
seeds before every check in the parent and before every request in the child (hundreds of times per
submission), so `seed_everything` seeds the default generator directly, and CUDA's only once CUDA is
running (until then CUDA starts from its fixed default seed, which is just as deterministic).
"""

from __future__ import annotations

import random


def seed_everything(seed: int) -> None:
    """Seed Python's `random`, NumPy's global generator and torch's default (and CUDA) generators."""
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.default_generator.manual_seed(seed)
    if torch.cuda.is_initialized():  # type: ignore[no-untyped-call]
        torch.cuda.manual_seed_all(seed)
