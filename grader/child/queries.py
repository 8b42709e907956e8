"""Probes: what the parent may ask of a model or function in the child, answered as plain data.

A model object cannot cross the process boundary, so each question the homework checks need is a
probe here: the layers of a model with their key arguments, output shapes and parameter counts; its
state dict; loading a state dict and running a forward pass; a few training steps with their losses;
and an init function applied to layers built from specs. Runs in the child, on student objects.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator, Mapping
from types import MappingProxyType
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from grader.protocol.channel import Layer

LAYER_TYPES = frozenset(
    {
        "Conv2d", "LazyConv2d", "Linear", "LazyLinear", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d",
        "BatchNorm2d", "LazyBatchNorm2d", "ReLU", "Sigmoid", "Flatten", "Dropout", "Sequential", "Identity",
    }
)  # fmt: skip
"""The torch.nn layers the parent may ask the child to build."""

KEY_ARGUMENTS = (
    "in_channels", "out_channels", "kernel_size", "stride", "padding", "in_features", "out_features",
    "p", "num_features", "output_size", "bias", "groups", "affine",
)  # fmt: skip

_TORCH_LAYERS: Mapping[str, type] = MappingProxyType(
    {
        name: value
        for name, value in vars(nn).items()
        if isinstance(value, type) and issubclass(value, nn.Module)
    }
)
"""torch.nn's own layer classes by name, taken when the template imports this module (before any
student code runs): a student's class that borrows one of these names is described as not torch's."""


NOT_TORCHS = " (not torch.nn's)"
"""Appended to the type of a layer whose class has the name of one of torch.nn's but is another."""


def build_layer(spec: Layer) -> nn.Module:
    """`torch.nn.<spec.type>(*spec.args, **spec.kwargs)` for a whitelisted type."""
    if spec.type not in LAYER_TYPES:
        raise ValueError(f"layer type {spec.type!r} is not allowed")
    args = [build_layer(a) if isinstance(a, Layer) else a for a in spec.args]
    module: nn.Module = getattr(nn, spec.type)(*args, **dict(spec.kwargs))
    return module


def run(name: str, target: Any, options: dict[str, Any]) -> Any:
    try:
        probe = PROBES[name]
    except KeyError:
        raise ValueError(f"unknown probe {name!r}") from None
    return probe(target, **options)


UNSIZED = (nn.parameter.UninitializedParameter, nn.parameter.UninitializedBuffer)
"""What a Lazy layer holds until a forward pass sizes it: no values to count or send."""


def _describe_layer(module: nn.Module) -> dict[str, Any]:
    name = type(module).__name__
    if name in _TORCH_LAYERS and type(module) is not _TORCH_LAYERS[name]:
        name += NOT_TORCHS
    info: dict[str, Any] = {"type": name}
    for key in KEY_ARGUMENTS:
        value = getattr(module, key, None)
        if key == "bias":
            value = isinstance(value, torch.Tensor)
        if isinstance(value, bool | int | float | tuple):
            info[key] = value
    info["num_params"] = sum(p.numel() for p in module.parameters() if not isinstance(p, UNSIZED))
    return info


_Draws = list[tuple[torch.Tensor, tuple[Any, ...], dict[str, Any]]]
"""Initialisations asked for and not made: (tensor, args, kwargs) of each call."""


@contextlib.contextmanager
def _init_replaced(**functions: Callable[..., torch.Tensor]) -> Iterator[None]:
    """`torch.nn.init.<name>` replaced by the given functions while the block runs."""
    saved = {name: getattr(nn.init, name) for name in functions}
    for name, function in functions.items():
        setattr(nn.init, name, function)
    try:
        yield
    finally:
        for name, function in saved.items():
            setattr(nn.init, name, function)


def _skip(tensor: torch.Tensor, *args: Any, **kwargs: Any) -> torch.Tensor:
    return tensor


@contextlib.contextmanager
def _kaiming_deferred() -> Iterator[_Draws]:
    """Lazy layers sized here do not draw their Kaiming-uniform weights; the draws asked for are
    listed instead. For a pass whose Linear and Conv2d weights are redrawn right after (Xavier, as
    the book's `apply_init` does): drawing the 16.7 million weights of VGG's dense layers only to
    draw them again is slow. Biases are drawn as usual (their bound depends on the weight's shape,
    not its values)."""
    deferred: _Draws = []

    def defer(tensor: torch.Tensor, *args: Any, **kwargs: Any) -> torch.Tensor:
        deferred.append((tensor, args, kwargs))
        return tensor

    with _init_replaced(kaiming_uniform_=defer):
        yield deferred


@contextlib.contextmanager
def _torch_fills_its_own_memory() -> Iterator[None]:
    """Deterministic mode's filling of new memory (`torch.empty` and every kernel's output) with
    NaN, off while the block runs. The filling keeps student code that reads memory it never wrote
    deterministic; a backward pass and an optimiser step are torch's own kernels, which write every
    element they allocate, so they go without it: otherwise gradients and kernel workspaces are
    filled at every step, a large share of a LeNet or ResNet18 smoke run (see CHANGELOG.md). The
    forward pass and the loss, where student code runs, keep it (a student's own autograd Function
    or backward hook, which this homework has no use for, would run without it)."""
    from torch.utils import deterministic

    previous = deterministic.fill_uninitialized_memory  # type: ignore[attr-defined]
    deterministic.fill_uninitialized_memory = False  # type: ignore[attr-defined]
    try:
        yield
    finally:
        deterministic.fill_uninitialized_memory = previous  # type: ignore[attr-defined]


def _no_random_init() -> contextlib.AbstractContextManager[None]:
    return _init_replaced(kaiming_uniform_=_skip, uniform_=_skip)


Build = tuple[Callable[..., Any], list[Any] | tuple[Any, ...], dict[str, Any]]
"""The call that made a model: (class or function, args, kwargs)."""


def layers(
    model: nn.Module,
    X: torch.Tensor,
    train: bool = False,
    fast_init: bool = False,
    build: Build | None = None,
    run: bool = True,
) -> dict[str, Any]:
    """Every submodule of `model` (dotted names, in registration order) with its key arguments, the
    shape of its first output for input X, and its parameter count; plus the model's output shape.
    With `run=False` the model is not run (no output shapes; Lazy layers stay unsized): what a
    model whose forward pass fails was built with.

    `top` lists the names of the top-level layers of `model.net` (or of the model without one).
    With `fast_init`, Lazy layers sized by this pass skip drawing random initial weights (their values
    are left uninitialised): for shape walks of large models that are used only once. `build`,
    the call that made `model`, first asks for the walk of a twin on the meta device (see
    `meta_walk`); the walk of `model` itself is the fallback.
    """
    if build is not None and run:
        walked = meta_walk(build, X, train)
        if walked is not None:
            return walked
    if fast_init:
        with _no_random_init():
            return layers(model, X, train)
    net = getattr(model, "net", model)
    if not isinstance(net, nn.Module):
        raise TypeError(f"the model's net is a {type(net).__name__}, not a torch.nn.Module")
    shapes: dict[str, tuple[int, ...]] = {}
    hooks = []
    for path, module in model.named_modules():
        if module is not model:

            def hook(_m: nn.Module, _in: Any, out: Any, path: str = path) -> None:
                if path not in shapes and isinstance(out, torch.Tensor):
                    shapes[path] = tuple(out.shape)

            hooks.append(module.register_forward_hook(hook))
    model.train(train)
    out = None
    try:
        if run:
            with torch.no_grad():
                out = model(X)
    finally:
        for h in hooks:
            h.remove()
    prefix = "net." if net is not model else ""
    entries = []
    for path, module in model.named_modules():
        if module is model:
            continue
        entry = _describe_layer(module)
        entry.update(
            name=path, output_shape=shapes.get(path), leaf=not any(True for _ in module.children())
        )
        entries.append(entry)
    top = [prefix + name for name, _ in net.named_children()]
    return {
        "layers": entries,
        "top": top,
        "output_shape": tuple(out.shape) if isinstance(out, torch.Tensor) else None,
        # A Lazy layer the forward pass never used holds no parameters yet (nor may be counted).
        "num_params": sum(p.numel() for p in model.parameters() if not isinstance(p, UNSIZED)),
    }


def meta_walk(build: Build, X: torch.Tensor, train: bool) -> dict[str, Any] | None:
    """`layers` of a twin of the model, made by the same call with torch's meta device as the
    default, walked with a meta input: tensors there have shapes and no data, so a layer costs no
    memory and no arithmetic (VGG-11's walk at 224x224 allocates and fills 0.5 GB of weights and
    runs 7.6 GFLOPs otherwise). Shapes, arguments and parameter counts are those of a walk on the
    CPU (by test). None when the student's code cannot run there: it makes a tensor on another
    device, reads a value (`.item()`, a comparison in an `if`), or uses an operation with no meta
    kernel; the caller then walks the model itself. The model itself is not touched either way."""
    function, args, kwargs = build
    try:
        with torch.device("meta"):
            twin = function(*args, **kwargs)
            if not isinstance(twin, nn.Module):
                return None
            return layers(twin, X.to("meta"), train)
    except Exception:
        return None


def state_dict(model: nn.Module) -> dict[str, torch.Tensor]:
    """The model's state dict (after a forward pass has sized any Lazy layers), without the entries
    of Lazy layers the forward pass never used: they hold no values yet."""
    return {
        key: value for key, value in model.state_dict().items() if not isinstance(value, UNSIZED)
    }


def load_and_forward(
    model: nn.Module, state: dict[str, torch.Tensor], X: torch.Tensor, train: bool = False
) -> torch.Tensor:
    """Load `state` (strictly: same names and shapes) into the model, then run it on X."""
    model.load_state_dict(state, strict=True)
    model.train(train)
    with torch.no_grad():
        out: torch.Tensor = model(X)
    return out


def forward(model: Callable[..., Any], X: torch.Tensor, train: bool = False) -> Any:
    if isinstance(model, nn.Module):
        model.train(train)
    with torch.no_grad():
        return model(X)


def train_steps(
    model: nn.Module,
    X: torch.Tensor,
    y: torch.Tensor,
    steps: int,
    lr: float,
    batch_size: int,
    optimizer: str = "sgd",
    device: str = "cpu",
    xavier: bool = False,
) -> dict[str, Any]:
    """`steps` optimiser steps on mini-batches of (X, y), cycling; the loss of each step.

    The loss is the model's own `loss(Y_hat, y)` when it has one (the d2l classifiers do), else
    cross-entropy. Stops early at the first non-finite loss. With `xavier`, the weights of Linear and
    Conv2d layers are first re-drawn Xavier-uniform, as the book's training cells do with `apply_init`.
    """
    target = torch.device(device)
    model.to(target)
    model.train()
    sizing: contextlib.AbstractContextManager[_Draws] = (
        _kaiming_deferred() if xavier else contextlib.nullcontext([])
    )
    with sizing as deferred:
        model(X[:batch_size].to(target))  # size the Lazy layers before the optimiser sees them
    if xavier:
        redrawn = set()
        for module in model.modules():
            if isinstance(module, nn.Linear | nn.Conv2d):
                nn.init.xavier_uniform_(module.weight)
                redrawn.add(id(module.weight))
        for tensor, args, kwargs in deferred:  # the rare weight that is not redrawn
            if id(tensor) not in redrawn:
                nn.init.kaiming_uniform_(tensor, *args, **kwargs)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = _optimizer(optimizer, params, lr)
    loss_fn = getattr(model, "loss", None)
    losses: list[float] = []
    n = X.shape[0]
    for step in range(steps):
        start = (step * batch_size) % n
        xb = X[start : start + batch_size].to(target)
        yb = y[start : start + batch_size].to(target)
        out = model(xb)
        loss = loss_fn(out, yb) if callable(loss_fn) else F.cross_entropy(out, yb)
        with _torch_fills_its_own_memory():
            opt.zero_grad()
            loss.backward()
            opt.step()
        value = float(loss.detach().cpu())
        losses.append(value)
        if not math.isfinite(value):
            break
    model.to("cpu")
    return {"losses": losses, "device": str(target)}


def _optimizer(name: str, params: list[nn.Parameter], lr: float) -> torch.optim.Optimizer:
    """Adam or SGD over `params`, fused where torch has fused kernels for them (floating-point
    parameters on the CPU or CUDA): one pass over each parameter per step instead of one per
    operation, which makes Adam on VGG's dense layers five times as fast."""
    kind = torch.optim.Adam if name == "adam" else torch.optim.SGD
    if all(p.is_floating_point() and p.device.type in ("cpu", "cuda") for p in params):
        try:
            return kind(params, lr=lr, fused=True)
        except (RuntimeError, TypeError, ValueError):  # a torch without these fused kernels
            pass
    return kind(params, lr=lr)


def apply_init(init: Callable[[nn.Module], Any], specs: list[nn.Module]) -> dict[str, Any]:
    """Build `nn.Sequential(*specs)`, record its state, apply `init` to every layer, record it again."""
    net = nn.Sequential(*specs)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    net.apply(init)
    return {
        "before": before,
        "after": dict(net.state_dict()),
        "types": [type(m).__name__ for m in net],
    }


def summary(function: Callable[..., Any], specs: list[nn.Module], X_shape: tuple[int, ...]) -> Any:
    """Call a student's `layer_summary(self, X_shape)` on a classifier whose net is built from specs."""
    from d2lcompat import torch as d2l

    model = d2l.Classifier()
    model.net = nn.Sequential(*specs)
    return function(model, X_shape)


def fit_kernel(
    layer: nn.Module, X: torch.Tensor, Y: torch.Tensor, steps: int, lr: float
) -> dict[str, Any]:
    """Gradient descent on the summed squared error of layer(X) against Y, as in book section 7.2.4."""
    losses: list[float] = []
    for _ in range(steps):
        loss = ((layer(X) - Y) ** 2).sum()
        layer.zero_grad()
        with _torch_fills_its_own_memory():
            loss.backward()
        with torch.no_grad():
            for param in layer.parameters():
                if param.grad is not None:
                    param.sub_(lr * param.grad)
        losses.append(float(loss.detach()))
    weight = getattr(layer, "weight", None)
    return {
        "weight": weight.detach() if isinstance(weight, torch.Tensor) else None,
        "losses": losses,
    }


PROBES: Mapping[str, Callable[..., Any]] = MappingProxyType(
    {
        "fit_kernel": fit_kernel,
        "layers": layers,
        "state_dict": state_dict,
        "load_and_forward": load_and_forward,
        "forward": forward,
        "train_steps": train_steps,
        "apply_init": apply_init,
        "summary": summary,
    }
)
"""Read-only: student code that reaches this module cannot swap a probe for one that answers what
it likes (and what it rebinds here is put back after each request: `grader.child.serve.Restorer`)."""
