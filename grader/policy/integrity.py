""" "From scratch": the rubric's `[integrity]` table, which torch operations an item must not use,
and what using one costs.

```toml
[integrity]
action = "deduct"          # "flag": staff reports only; "deduct": `deduct` of the item's points;
deduct = 0.5               # "zero": all of the item's points
[integrity.forbidden]      # per item: operation groups (below) or operation names
corr2d = ["convolution"]
pool2d = ["pooling"]
```

The operations come from the child: while the checks call an item that has a rule, the child
records every torch operation that ran (`grader.child.operations`), aliases and layers included
(`nn.MaxPool2d` runs `max_pool2d`), and the parent keeps those the rule forbids
(`ScoreBook.operations`). The consequence is an adjustment of the item, recomputed with late work
and manual points whenever a class's files are rebuilt, and shown to the student with the
section that teaches the loop. The recording is best effort: code that switches torch's function
modes off escapes it, which costs the student nothing but earns them nothing either.
Pure: no torch, no pytest.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from grader.errors import ConfigurationError
from grader.scoring import Adjustment, ScoreBook, by_item

Action = Literal["flag", "deduct", "zero"]
ACTIONS: tuple[Action, ...] = ("flag", "deduct", "zero")

GROUPS: dict[str, frozenset[str]] = {
    "convolution": frozenset(
        {
            "conv1d",
            "conv2d",
            "conv3d",
            "conv_transpose1d",
            "conv_transpose2d",
            "conv_transpose3d",
            "convolution",
            "_convolution",
            "conv_tbc",
        }
    ),
    "pooling": frozenset(
        {
            f"{kind}_pool{d}d{suffix}"
            for kind in ("max", "avg", "lp", "adaptive_max", "adaptive_avg", "fractional_max")
            for d in (1, 2, 3)
            for suffix in ("", "_with_indices")
        }
    ),
}
"""Named groups of operations, by the last part of their name (`torch.nn.functional.conv2d`)."""

SECTIONS = {
    "corr2d": "7.2.1, the loops of `corr2d`",
    "corr2d_multi_in": "7.4.1, a sum of `corr2d` over the input channels",
    "corr2d_multi_in_out": "7.4.2, a stack of `corr2d_multi_in` over the output channels",
    "corr2d_multi_in_out_1x1": "7.4.3, the 1x1 convolution as a matrix multiplication",
    "pool2d": "7.5.1, the loops of `pool2d`",
}
"""Where the book teaches each item written by hand, for the student's feedback."""


@dataclass(frozen=True)
class IntegrityPolicy:
    action: Action = "flag"
    deduct: float = 0.5
    """The fraction of the item's points taken off under `deduct`."""
    forbidden: dict[str, frozenset[str]] = field(default_factory=dict)
    """Per item, the operations it must not use (groups expanded)."""

    def found(self, item: str, operations: Iterable[str]) -> list[str]:
        """The operations of `operations` (full names) that the rule for `item` forbids."""
        banned = self.forbidden.get(item, frozenset())
        return sorted({name for name in operations if name.rsplit(".", 1)[-1] in banned})


def load_integrity_policy(table: Mapping[str, Any] | None, where: str) -> IntegrityPolicy | None:
    """The policy in a rubric's `[integrity]` table (None without one); raises ConfigurationError
    naming the key at fault."""
    if table is None:
        return None
    action = table.get("action", "flag")
    if action not in ACTIONS:
        raise ConfigurationError(
            f"{where}: action must be one of {', '.join(ACTIONS)}, not {action!r}"
        )
    deduct = table.get("deduct", 0.5)
    if not isinstance(deduct, int | float) or isinstance(deduct, bool) or not 0 < deduct <= 1:
        raise ConfigurationError(f"{where}: deduct must be a fraction in (0, 1], not {deduct!r}")
    rules = table.get("forbidden", {})
    if not isinstance(rules, dict):
        raise ConfigurationError(f"{where}: [integrity.forbidden] must be a table of lists")
    forbidden: dict[str, frozenset[str]] = {}
    for item, names in rules.items():
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise ConfigurationError(f"{where}: forbidden.{item} must be a list of names")
        forbidden[item] = frozenset(
            operation for name in names for operation in GROUPS.get(name, frozenset({name}))
        )
    return IntegrityPolicy(action=action, deduct=float(deduct), forbidden=forbidden)


def adjustments(book: ScoreBook, policy: IntegrityPolicy | None) -> list[Adjustment]:
    """What the forbidden operations in `book` cost under `policy`: one adjustment per item that
    used one (none under `flag`, which staff see in their reports only)."""
    if policy is None or policy.action == "flag":
        return []
    earned = {item: total.points for item, total in by_item(book.results).items()}
    maxima = {item: total.max_points for item, total in by_item(book.results).items()}
    out = []
    for item, used in sorted(book.operations.items()):
        if not used or item not in earned:
            continue
        off = (
            earned[item]
            if policy.action == "zero"
            else min(earned[item], policy.deduct * maxima[item])
        )
        if off <= 0:
            continue
        out.append(Adjustment(item, -round(off, 6), comment(item, used), kind="integrity"))
    return out


def comment(item: str, used: list[str]) -> str:
    """What the student reads: the operation, and where the book writes the item by hand."""
    names = ", ".join(f"`{name}`" for name in used)
    section = SECTIONS.get(item, "the section that introduces it")
    return f"{item} uses {names}, which the homework asks you to write yourself: see {section}"
