"""The data side of the d2l package: `DataModule`, `FashionMNIST` (book section 4.2) and a synthetic stand-in.

`FashionMNIST` reads the real dataset with torchvision from a folder the user names (argument `root`,
else `$D2L_DATA_DIR`, else the book's `../data`) and downloads only when allowed (`download=True` or
`$D2L_DOWNLOAD=1`). When the files are absent it raises `DatasetNotFoundError`, naming the folder and the
files it expects. `SyntheticFashionMNIST` is a deterministic, learnable dataset with Fashion-MNIST's
shapes and ten classes, for tests and offline smoke runs; it always warns that it is not the real data.
`$D2L_SYNTHETIC_DATA=1` makes `FashionMNIST` itself use the stand-in (with the same warning).
"""

from __future__ import annotations

import gzip
import os
import shutil
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch.nn import functional as F
from torch.utils.data import DataLoader, Dataset, TensorDataset

from d2lcompat.module import HyperParameters

FASHION_MNIST_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)
TEXT_LABELS = (
    "t-shirt",
    "trouser",
    "pullover",
    "dress",
    "coat",
    "sandal",
    "shirt",
    "sneaker",
    "bag",
    "ankle boot",
)


class DatasetNotFoundError(FileNotFoundError):
    """The dataset's files are not where they were looked for, and downloading was not allowed."""


class SyntheticDataWarning(UserWarning):
    """Synthetic stand-in data is in use: accuracy says nothing about the real dataset."""


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


class DataModule(HyperParameters):
    """The base class of data (book section 3.2.3)."""

    root: str
    num_workers: int
    batch_size: int
    train: Dataset[Any]
    val: Dataset[Any]

    def __init__(self, root: str = "../data", num_workers: int = 0) -> None:
        self.save_hyperparameters()

    def get_dataloader(self, train: bool) -> DataLoader[Any]:
        raise NotImplementedError

    def train_dataloader(self) -> DataLoader[Any]:
        return self.get_dataloader(train=True)

    def val_dataloader(self) -> DataLoader[Any]:
        return self.get_dataloader(train=False)

    def get_tensorloader(
        self, tensors: Sequence[torch.Tensor], train: bool, indices: slice = slice(0, None)
    ) -> DataLoader[Any]:
        dataset = TensorDataset(*(a[indices] for a in tensors))
        return DataLoader(dataset, self.batch_size, shuffle=train)


class FashionMNIST(DataModule):
    """Fashion-MNIST (book section 4.2): 60,000 training and 10,000 validation 1x28x28 images, 10 classes.

    Batches are `(X, y)` with X of shape (batch_size, 1, *resize) in [0, 1] and y of dtype int64.
    """

    def __init__(
        self,
        batch_size: int = 64,
        resize: tuple[int, int] = (28, 28),
        *,
        root: str | os.PathLike[str] | None = None,
        download: bool | None = None,
    ) -> None:
        data_root = str(root if root is not None else os.environ.get("D2L_DATA_DIR", "../data"))
        super().__init__(root=data_root)
        self.batch_size = batch_size
        self.resize = resize
        if _env_flag("D2L_SYNTHETIC_DATA"):
            stand_in = SyntheticFashionMNIST(batch_size, resize)
            self.train, self.val = stand_in.train, stand_in.val
            return
        allow_download = _env_flag("D2L_DOWNLOAD") if download is None else download
        import torchvision
        from torchvision import transforms

        if not allow_download:
            prepare_raw_files(Path(self.root))
        trans = transforms.Compose([transforms.Resize(resize), transforms.ToTensor()])
        self.train = torchvision.datasets.FashionMNIST(
            root=self.root, train=True, transform=trans, download=allow_download
        )
        self.val = torchvision.datasets.FashionMNIST(
            root=self.root, train=False, transform=trans, download=allow_download
        )

    def text_labels(self, indices: Sequence[int] | torch.Tensor) -> list[str]:
        """The names of the classes with the given indices."""
        return [TEXT_LABELS[int(i)] for i in indices]

    def get_dataloader(self, train: bool) -> DataLoader[Any]:
        data = self.train if train else self.val
        return DataLoader(data, self.batch_size, shuffle=train, num_workers=self.num_workers)


def prepare_raw_files(root: Path) -> Path:
    """Check that Fashion-MNIST's raw files are under `root`, unpacking `.gz` copies if need be.

    Returns the raw folder; raises DatasetNotFoundError naming the folder and the missing files.
    """
    raw = root / "FashionMNIST" / "raw"
    missing = []
    for name in FASHION_MNIST_FILES:
        target, packed = raw / name, raw / f"{name}.gz"
        if target.is_file():
            continue
        if packed.is_file():
            with gzip.open(packed, "rb") as src, target.open("wb") as dst:
                shutil.copyfileobj(src, dst)
            continue
        missing.append(name)
    if missing:
        raise DatasetNotFoundError(
            f"Fashion-MNIST was not found in {raw.resolve()}: missing "
            + ", ".join(missing)
            + " (each may also be given as a .gz file). Put the four files there, pass "
            "root=... or set D2L_DATA_DIR to the folder that holds FashionMNIST/raw, allow a download "
            "with download=True or D2L_DOWNLOAD=1, or set D2L_SYNTHETIC_DATA=1 to use a synthetic "
            "stand-in."
        )
    return raw


def synthetic_fashion_mnist(
    num_examples: int, *, seed: int = 0, resize: tuple[int, int] = (28, 28)
) -> tuple[torch.Tensor, torch.Tensor]:
    """`num_examples` images (N, 1, *resize) in [0, 1] and labels (N,), the same for the same seed.

    Each class is a fixed smooth 28x28 prototype (the same for every seed); an example is its class's
    prototype, randomly brightened, shifted by up to two pixels and with pixel noise, so a small CNN
    learns it in a few steps but cannot memorise a single template.
    """
    prototypes = _class_prototypes()
    generator = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 10, (num_examples,), generator=generator)
    X = prototypes[y]
    brightness = 0.6 + 0.4 * torch.rand((num_examples, 1, 1), generator=generator)
    X = X * brightness
    shifts = torch.randint(-2, 3, (num_examples, 2), generator=generator)
    X = torch.stack(
        [
            torch.roll(x, (int(dh), int(dw)), dims=(0, 1))
            for x, (dh, dw) in zip(X, shifts, strict=True)
        ]
    )
    X = (X + 0.15 * torch.randn(X.shape, generator=generator)).clamp(0.0, 1.0).unsqueeze(1)
    if tuple(resize) != (28, 28):
        X = F.interpolate(X, size=tuple(resize), mode="bilinear", align_corners=False)
    return X, y


def _class_prototypes() -> torch.Tensor:
    """Ten fixed smooth 28x28 patterns in [0, 1], one per class."""
    generator = torch.Generator().manual_seed(20241)
    coarse = torch.rand((10, 1, 7, 7), generator=generator)
    smooth = F.interpolate(coarse, size=(28, 28), mode="bilinear", align_corners=False)
    return smooth.squeeze(1)


class SyntheticFashionMNIST(DataModule):
    """A synthetic stand-in for `FashionMNIST` with its shapes, dtypes and ten classes; warns when made."""

    def __init__(
        self,
        batch_size: int = 64,
        resize: tuple[int, int] = (28, 28),
        *,
        num_train: int = 2048,
        num_val: int = 512,
        seed: int = 0,
    ) -> None:
        super().__init__()
        self.batch_size = batch_size
        self.resize = resize
        self.seed = seed
        warnings.warn(
            "using SyntheticFashionMNIST, a synthetic stand-in for Fashion-MNIST: losses and "
            "accuracies say nothing about the real dataset",
            SyntheticDataWarning,
            stacklevel=2,
        )
        self.train = TensorDataset(*synthetic_fashion_mnist(num_train, seed=seed, resize=resize))
        self.val = TensorDataset(*synthetic_fashion_mnist(num_val, seed=seed + 1, resize=resize))

    text_labels = FashionMNIST.text_labels

    def get_dataloader(self, train: bool) -> DataLoader[Any]:
        data = self.train if train else self.val
        generator = torch.Generator().manual_seed(self.seed)
        return DataLoader(data, self.batch_size, shuffle=train, generator=generator)
