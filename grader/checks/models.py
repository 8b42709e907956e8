"""Helpers the model checks share: the layers probe as data, structure comparisons with named
mistakes, and training smoke runs on the synthetic Fashion-MNIST stand-in."""

import json
import math
from dataclasses import dataclass
from pathlib import Path

import torch

from grader.checking.compare import check_equal, fail
from grader.checking.memo import remember
from grader.checking.mistakes import Diagnosis
from grader.child.queries import NOT_TORCHS

ACTIVATIONS = {"ReLU", "Sigmoid", "Tanh", "LeakyReLU", "GELU"}
POOLS = {"MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "AdaptiveMaxPool2d"}


def layers(process, model, X_shape, what, train=False, fast_init=False, meta=False, run=True):
    """The layers probe: {"layers": [...], "top": [...], "output_shape": ..., "num_params": ...}.

    For large models used only once: `fast_init=True` skips drawing random weights for Lazy
    layers; `meta=True` walks a twin of the model made by the same call on torch's meta device
    (shapes without memory or arithmetic) where the student's code runs there, and falls back to
    the fast walk of the model itself. The meta device pays Python for each operation, so it wins
    where activations or weights are large (VGG at 224x224: no arithmetic on them, no memory to
    page in) and loses on small inputs through many layers (ResNet18 at 64x64), where that
    per-operation overhead outweighs the cheap arithmetic; see benchmarks/README.md. With
    `run=False` the model is described without being run (`grader.child.queries.layers`): what a
    model whose forward pass fails was built with."""
    options = {"X": torch.zeros(X_shape), "train": train, "fast_init": fast_init or meta}
    if not run:
        options["run"] = False
    if meta and model.recipe[0] == "call":
        _, function, args, kwargs, _ = model.recipe
        options["build"] = (function, args, kwargs)
    return process.probe("layers", model, what=what, **options)


def top_layers(info):
    by_name = {layer["name"]: layer for layer in info["layers"]}
    return [by_name[name] for name in info["top"]]


def structure_hint(expected, got):
    """Name the mistake behind two different sequences of layer types, if it is a known one."""
    borrowed = [kind for kind in got if kind.endswith(NOT_TORCHS)]
    if borrowed:
        name = borrowed[0].removesuffix(NOT_TORCHS)
        return f"use torch.nn's own {name} (nn.{name}), not a class of the same name"
    if len(expected) != len(got):
        missing = [t for t in set(expected) if expected.count(t) > got.count(t)]
        if "Dropout" in missing:
            return Diagnosis(
                "missing Dropout",
                "the dense part is Linear, ReLU, Dropout(0.5), twice, then the output layer",
            )
        if missing:
            return Diagnosis(
                "missing layers",
                f"the book's network has {len(expected)} layers here, with {', '.join(sorted(missing))}",
            )
        return f"the book's network has {len(expected)} layers here, not {len(got)}"
    for want, have in zip(expected, got, strict=True):
        if want != have and want in ACTIVATIONS and have in ACTIVATIONS:
            return Diagnosis("wrong activation", f"the book uses {want} here, not {have}")
        if want != have and want in POOLS and have in POOLS:
            return Diagnosis("wrong pooling", f"the book uses {want} here, not {have}")
    return None


def check_layer_types(expected, info, what):
    got = [layer["type"] for layer in top_layers(info)]
    check_equal(
        expected, got, what=what, problem="wrong layers", hint=structure_hint(expected, got)
    )


def check_layer_argument(layer, key, expected, what, hint=None):
    value = layer.get(key)
    if isinstance(expected, int) and isinstance(value, tuple) and len(set(value)) == 1:
        value = value[0]
    check_equal(expected, value, what=f"{what}: {key}", problem=f"wrong {key}", hint=hint)


def check_output_shapes(expected, info, what, hint=None):
    """The shapes the top-level layers give, each run of equal shapes once: a layer that keeps the
    shape (an activation, Dropout) missing or added is the layer types' check to name, not this."""
    got = [
        tuple(layer["output_shape"]) if layer["output_shape"] else None
        for layer in top_layers(info)
    ]
    check_equal(
        _changes(expected),
        _changes(got),
        what=what,
        problem="wrong output shapes, each shape once as the layers change it",
        hint=hint,
    )


def _changes(shapes):
    return [shape for i, shape in enumerate(shapes) if i == 0 or shape != shapes[i - 1]]


@remember
def synthetic_batch(n, side, seed=0):
    from d2lcompat.data import synthetic_fashion_mnist

    return synthetic_fashion_mnist(n, seed=seed, resize=(side, side))


@dataclass(frozen=True)
class SmokeRun:
    """A training smoke run: `steps` optimiser steps on one batch of `batch_size` synthetic images
    of `side` x `side`; it passes when the loss ends below `drop` times where it started."""

    side: int
    steps: int
    lr: float
    batch_size: int
    drop: float
    optimizer: str = "adam"


SMOKE_RUNS = {
    "LeNet": SmokeRun(side=28, steps=100, lr=0.01, batch_size=16, drop=0.95),
    "small VGG": SmokeRun(side=16, steps=3, lr=0.1, batch_size=8, drop=0.9, optimizer="sgd"),
    "ResNet18": SmokeRun(side=16, steps=3, lr=1e-3, batch_size=4, drop=2 / 3),
}
REFERENCE_LOSSES = Path(__file__).with_name("reference_losses.json")
"""The book's models' losses in each smoke run (`python -m tests.support.reference_losses` writes
it; a test keeps it true), drawn beside the student's in the feedback."""


@remember
def reference_losses(name):
    try:
        return [float(v) for v in json.loads(REFERENCE_LOSSES.read_text())[name]]
    except (OSError, ValueError, KeyError, TypeError):
        return []


def smoke_train(process, model, what, name, record=None):
    """The smoke run `SMOKE_RUNS[name]` of `model`, after the book's Xavier init; fail unless the
    loss ends below its `drop` times where it started, with no NaN or infinity on the way."""
    run = SMOKE_RUNS[name]
    side, steps, lr, batch_size = run.side, run.steps, run.lr, run.batch_size
    drop, optimizer = run.drop, run.optimizer
    X, y = synthetic_batch(batch_size, side)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    result = process.probe(
        "train_steps",
        model,
        what=what,
        X=X,
        y=y,
        steps=steps,
        lr=lr,
        batch_size=batch_size,
        optimizer=optimizer,
        device=device,
        xavier=True,
        timeout=120.0,
    )
    losses = result["losses"]
    if record is not None:
        record("losses", losses)
        record("device", result["device"])
        record("reference_losses", reference_losses(name))
    if len(losses) < steps or not all(math.isfinite(v) for v in losses):
        fail(
            what,
            "the loss became infinite or NaN",
            "",
            f"losses: {[round(v, 3) for v in losses[:10]]}",
            "check the activations and the output layer; the loss must stay finite",
        )
    first, last = losses[0], min(losses[-2:])
    if not last < first * drop:
        fail(
            what,
            "the loss did not fall",
            "",
            f"{steps} {optimizer} steps on one batch: loss {first:.3f} at the start, {last:.3f} at the end",
            "a network of the book's shape fits one small batch quickly; check the layers and the forward pass",
        )
    return losses
