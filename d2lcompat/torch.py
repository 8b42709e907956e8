"""`from d2l import torch as d2l`: the names the homework's chapters (3-8) use from the d2l package.

This is a facade over `d2lcompat.module`, `.data`, `.trainer` and `.devices`; see those for the code.
"""

from d2lcompat.data import (
    DataModule,
    DatasetNotFoundError,
    FashionMNIST,
    SyntheticDataWarning,
    SyntheticFashionMNIST,
    synthetic_fashion_mnist,
)
from d2lcompat.devices import cpu, gpu, num_gpus, try_all_gpus, try_gpu
from d2lcompat.module import (
    Classifier,
    HyperParameters,
    Module,
    ProgressBoard,
    add_to_class,
    corr2d,
    init_cnn,
)
from d2lcompat.trainer import Trainer

__all__ = [
    "Classifier",
    "DataModule",
    "DatasetNotFoundError",
    "FashionMNIST",
    "HyperParameters",
    "Module",
    "ProgressBoard",
    "SyntheticDataWarning",
    "SyntheticFashionMNIST",
    "Trainer",
    "add_to_class",
    "corr2d",
    "cpu",
    "gpu",
    "init_cnn",
    "num_gpus",
    "synthetic_fashion_mnist",
    "try_all_gpus",
    "try_gpu",
]
