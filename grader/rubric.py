"""The rubric: how many points each check is worth, whether students may see it, and what item it
grades. One data file, `grader/rubric.toml`; this module reads and validates it.

The file has one table per homework item, mapping each check (its test function's name) to
`{ points = N, visibility = "public" | "hidden" }`. Public checks live in `grader/checks/`, hidden
ones in `grader/checks/hidden/`, so a student kit can leave the hidden ones out. An optional `[late]`
table holds the late policy (`grader.policy.late`), applied to a class's grades, not to checks; an
optional `[integrity]` table, the operations items must not use (`grader.policy.integrity`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from grader import tomlreader
from grader.errors import ConfigurationError
from grader.policy.integrity import IntegrityPolicy, load_integrity_policy
from grader.policy.late import LatePolicy, load_policy
from grader.scoring import Visibility

RUBRIC_PATH = Path(__file__).with_name("rubric.toml")


@dataclass(frozen=True)
class RubricEntry:
    check_id: str
    item: str
    points: float
    visibility: Visibility


class RubricError(ConfigurationError, ValueError):
    """The rubric file is malformed; the message says where."""


@dataclass(frozen=True)
class Rubric:
    entries: dict[str, RubricEntry]

    def entry(self, check_id: str) -> RubricEntry | None:
        return self.entries.get(check_id)

    def item_totals(self) -> dict[str, float]:
        totals: dict[str, float] = {}
        for entry in self.entries.values():
            totals[entry.item] = totals.get(entry.item, 0.0) + entry.points
        return totals

    def total(self, visibility: Visibility | None = None) -> float:
        return sum(
            e.points
            for e in self.entries.values()
            if visibility is None or e.visibility == visibility
        )


LATE = "late"
"""The table of the late policy, beside the items' tables."""
INTEGRITY = "integrity"
"""The table of the "from scratch" rules (`grader.policy.integrity`), beside the items' tables."""


def load_integrity(path: Path = RUBRIC_PATH) -> IntegrityPolicy | None:
    """The rubric's `[integrity]` policy; None when it has none."""
    return load_integrity_policy(_policy_table(path, INTEGRITY), f"{path}: [{INTEGRITY}]")


def load_late_policy(path: Path = RUBRIC_PATH) -> LatePolicy | None:
    """The rubric's `[late]` policy; None when it has none. A malformed one raises, naming the key."""
    table = _policy_table(path, LATE)
    return None if table is None else load_policy(table, f"{path}: [{LATE}]")


def _policy_table(path: Path, name: str) -> dict[str, Any] | None:
    """The rubric's table `name` beside the items' (None when it has none)."""
    try:
        data = tomlreader.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomlreader.TOMLDecodeError) as error:
        raise RubricError(f"cannot read the rubric {path}: {error}") from None
    table = data.get(name)
    if table is not None and not isinstance(table, dict):
        raise RubricError(f"{path}: [{name}] must be a table")
    return table


def load_rubric(path: Path = RUBRIC_PATH) -> Rubric:
    """The rubric in `path`; raises RubricError naming the file and the entry at fault."""
    try:
        data = tomlreader.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomlreader.TOMLDecodeError) as error:
        raise RubricError(f"cannot read the rubric {path}: {error}") from None
    entries: dict[str, RubricEntry] = {}
    for item, checks in data.items():
        if item in (LATE, INTEGRITY):
            continue
        if not isinstance(checks, dict):
            raise RubricError(f"{path}: [{item}] must be a table of checks")
        for check_id, spec in checks.items():
            where = f"{path}: {item}.{check_id}"
            if not isinstance(spec, dict):
                raise RubricError(f"{where} must be {{ points = N, visibility = ... }}")
            points = spec.get("points")
            visibility = spec.get("visibility", "public")
            if not isinstance(points, int | float) or isinstance(points, bool) or points <= 0:
                raise RubricError(f"{where}: points must be a positive number, not {points!r}")
            if visibility not in ("public", "hidden"):
                raise RubricError(
                    f"{where}: visibility must be public or hidden, not {visibility!r}"
                )
            if check_id in entries:
                raise RubricError(
                    f"{where}: the check is already listed under {entries[check_id].item}"
                )
            entries[check_id] = RubricEntry(
                check_id, item, float(points), cast(Visibility, visibility)
            )
    return Rubric(entries)
