"""The d2l `Trainer` (book sections 3.4 and 6.7): fits a `Module` to a `DataModule`.

It follows the book's loop (SGD steps per batch, validation after each epoch, optional gradient
clipping) and moves model and batches to the first GPU when `num_gpus` asks for one and one is present.
Progress is recorded in `model.board.data`, never drawn.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch.utils.data import DataLoader

from d2lcompat import devices
from d2lcompat.data import DataModule
from d2lcompat.module import HyperParameters, Module


class Trainer(HyperParameters):
    """Train a model for `max_epochs` epochs (on the GPU when asked and present)."""

    max_epochs: int
    gradient_clip_val: float
    train_dataloader: DataLoader[Any]
    val_dataloader: DataLoader[Any] | None
    model: Module
    optim: torch.optim.Optimizer

    def __init__(self, max_epochs: int, num_gpus: int = 0, gradient_clip_val: float = 0) -> None:
        self.save_hyperparameters()
        self.gpus = [devices.gpu(i) for i in range(min(num_gpus, devices.num_gpus()))]
        self.epoch = 0
        self.train_batch_idx = 0
        self.val_batch_idx = 0

    def prepare_data(self, data: DataModule) -> None:
        self.train_dataloader = data.train_dataloader()
        self.val_dataloader = data.val_dataloader()
        self.num_train_batches = len(self.train_dataloader)
        self.num_val_batches = len(self.val_dataloader) if self.val_dataloader is not None else 0

    def prepare_model(self, model: Module) -> None:
        model.trainer = self
        model.board.xlim = [0, self.max_epochs]
        if self.gpus:
            model.to(self.gpus[0])
        self.model = model

    def fit(self, model: Module, data: DataModule) -> None:
        self.prepare_data(data)
        self.prepare_model(model)
        self.optim = model.configure_optimizers()
        self.epoch = 0
        self.train_batch_idx = 0
        self.val_batch_idx = 0
        for epoch in range(self.max_epochs):
            self.epoch = epoch
            self.fit_epoch()

    def prepare_batch(self, batch: Sequence[torch.Tensor]) -> list[torch.Tensor]:
        if self.gpus:
            return [a.to(self.gpus[0]) for a in batch]
        return list(batch)

    def fit_epoch(self) -> None:
        self.model.train()
        for batch in self.train_dataloader:
            loss = self.model.training_step(self.prepare_batch(batch))
            self.optim.zero_grad()
            with torch.no_grad():
                loss.backward()  # type: ignore[no-untyped-call]
                if self.gradient_clip_val > 0:
                    self.clip_gradients(self.gradient_clip_val, self.model)
                self.optim.step()
            self.train_batch_idx += 1
        if self.val_dataloader is None:
            return
        self.model.eval()
        for batch in self.val_dataloader:
            with torch.no_grad():
                self.model.validation_step(self.prepare_batch(batch))
            self.val_batch_idx += 1

    def clip_gradients(self, grad_clip_val: float, model: Module) -> None:
        """Scale all gradients down so that their joint norm is at most `grad_clip_val`."""
        params = [p for p in model.parameters() if p.requires_grad and p.grad is not None]
        norm = torch.sqrt(sum((torch.sum(p.grad**2) for p in params), torch.tensor(0.0)))  # type: ignore[operator]
        if norm > grad_clip_val:
            for param in params:
                assert param.grad is not None
                param.grad[:] *= grad_clip_val / norm
