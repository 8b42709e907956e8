"""Known-good stand-ins for the homework items that other items build on, for grading those others.

When the checks of `VGG` run, the student's `vgg_block` is replaced by this module's in that item's
child process, so a mistake in `vgg_block` costs `vgg_block`'s points and not `VGG`'s as well; likewise
`corr2d` under `Conv2D` and `corr2d_multi_in`, `corr2d_multi_in` under `corr2d_multi_in_out`, `Residual`
under `ResNet`, and `ResNet`'s methods under `ResNet18`. The code is the book's (d2l ships all of it).
Items whose stand-ins do not clash share one child (`children`): two children per submission
instead of six.

This module is not mounted in the sandbox, so student code cannot import it. A child that needs
stand-ins gets the source of exactly those it needs (`source_for`) and runs it in a scope of its
own: an item graded in a child never finds a stand-in for itself there to call or subclass.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path
from typing import Any

from torch import Tensor, nn
from torch.nn import functional as F

from d2lcompat import torch as d2l

corr2d = d2l.corr2d


def corr2d_multi_in(X: Tensor, K: Tensor) -> Tensor:
    return sum(corr2d(x, k) for x, k in zip(X, K, strict=True))  # type: ignore[return-value]


def vgg_block(num_convs: int, out_channels: int) -> nn.Sequential:
    layers: list[nn.Module] = []
    for _ in range(num_convs):
        layers += [nn.LazyConv2d(out_channels, kernel_size=3, padding=1), nn.ReLU()]
    layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
    return nn.Sequential(*layers)


class Residual(nn.Module):
    def __init__(self, num_channels: int, use_1x1conv: bool = False, strides: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.LazyConv2d(num_channels, kernel_size=3, padding=1, stride=strides)
        self.conv2 = nn.LazyConv2d(num_channels, kernel_size=3, padding=1)
        self.conv3 = (
            nn.LazyConv2d(num_channels, kernel_size=1, stride=strides) if use_1x1conv else None
        )
        self.bn1 = nn.LazyBatchNorm2d()
        self.bn2 = nn.LazyBatchNorm2d()

    def forward(self, X: Tensor) -> Tensor:
        Y = F.relu(self.bn1(self.conv1(X)))
        Y = self.bn2(self.conv2(Y))
        if self.conv3 is not None:
            X = self.conv3(X)
        return F.relu(Y + X)


def resnet_b1(self: Any) -> nn.Sequential:
    return nn.Sequential(
        nn.LazyConv2d(64, kernel_size=7, stride=2, padding=3),
        nn.LazyBatchNorm2d(),
        nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2, padding=1),
    )


def resnet_block(
    self: Any, num_residuals: int, num_channels: int, first_block: bool = False
) -> nn.Sequential:
    blocks = []
    for i in range(num_residuals):
        if i == 0 and not first_block:
            blocks.append(Residual(num_channels, use_1x1conv=True, strides=2))
        else:
            blocks.append(Residual(num_channels))
    return nn.Sequential(*blocks)


def resnet_init(self: Any, arch: Any, lr: float = 0.1, num_classes: int = 10) -> None:
    d2l.Classifier.__init__(self)
    self.save_hyperparameters()
    self.net = nn.Sequential(resnet_b1(self))
    for i, b in enumerate(arch):
        num_residuals, num_channels = b
        self.net.add_module(f"b{i + 2}", resnet_block(self, num_residuals, num_channels, i == 0))
    self.net.add_module(
        "last",
        nn.Sequential(nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(), nn.LazyLinear(num_classes)),
    )
    self.net.apply(d2l.init_cnn)


SUBSTITUTIONS: dict[str, dict[str, str]] = {
    "Conv2D": {"corr2d": "corr2d"},
    "corr2d_multi_in": {"corr2d": "corr2d"},
    "corr2d_multi_in_out": {"corr2d": "corr2d", "corr2d_multi_in": "corr2d_multi_in"},
    "VGG": {"vgg_block": "vgg_block"},
    "ResNet": {"Residual": "Residual"},
    "ResNet18": {
        "Residual": "Residual",
        "ResNet.__init__": "resnet_init",
        "ResNet.b1": "resnet_b1",
        "ResNet.block": "resnet_block",
    },
}
"""For each item, what its child's namespace gets instead of the student's (a global name, or
`Class.attribute` for a method of a class the student defined): the name of this module's
stand-in for it."""

PRELUDE = """\
from typing import Any
import torch
from torch import Tensor, nn
from torch.nn import functional as F
from d2l import torch as d2l
"""
"""What the stand-ins' source needs in scope, as the child imports it (`d2l` is `d2lcompat`)."""


def children() -> list[tuple[str, ...]]:
    """The items of SUBSTITUTIONS in as few groups as can share a child: one child's stand-ins are
    the union of its items' needs, and never replace (a method of) an item graded in that child."""
    groups: list[tuple[dict[str, Any], list[str]]] = []
    for item, needs in SUBSTITUTIONS.items():
        for stand_ins, items in groups:
            merged = {**stand_ins, **needs}
            if not any(target.partition(".")[0] in (*items, item) for target in merged):
                stand_ins.update(needs)
                items.append(item)
                break
        else:
            groups.append((dict(needs), [item]))
    return [tuple(items) for _, items in groups]


def source_for(items: list[str]) -> tuple[str, dict[str, str]]:
    """The stand-ins that the dependencies of `items` need, as source for the child to run:
    (this module's definitions of those names and of what they use, in this module's order, after
    `PRELUDE`; {target: stand-in name})."""
    targets: dict[str, str] = {}
    for item in items:
        targets.update(SUBSTITUTIONS.get(item, {}))
    definitions = _definitions()
    needed: set[str] = set()
    pending = list(targets.values())
    while pending:
        name = pending.pop()
        if name not in needed:
            needed.add(name)
            pending += definitions[name][1]
    parts = [text for name, (text, _) in definitions.items() if name in needed]
    return PRELUDE + "\n\n".join(parts) + "\n", targets


@functools.cache
def _definitions() -> dict[str, tuple[str, frozenset[str]]]:
    """This module's stand-ins, in order: {name: (source, the other stand-ins it uses)}."""
    source = Path(__file__).read_text(encoding="utf-8")
    stand_ins = {name for needs in SUBSTITUTIONS.values() for name in needs.values()}
    found: dict[str, tuple[str, frozenset[str]]] = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            names = [node.name]
        elif isinstance(node, ast.Assign):
            names = [ast.unparse(target) for target in node.targets]
        else:
            continue
        used = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
        for name in set(names) & stand_ins:
            text = ast.get_source_segment(source, node) or ""
            found[name] = (text, frozenset(used & stand_ins - {name}))
    missing = stand_ins - set(found)
    if missing:
        raise AssertionError(f"stand-ins without a definition here: {sorted(missing)}")
    return found
