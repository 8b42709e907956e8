"""A program as it crosses to the child: the statements to run and where each item is defined.

Intake (`grader.intake`) makes these from a notebook; the child (`grader.child`) runs them. They
live here, in the protocol, because both sides need them and the child may import nothing of the
intake.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

StatementKind = Literal["import", "def", "class", "constant", "value"]
"""`value`: an assignment that computes something a kept definition uses (`relu = nn.ReLU()`)."""


@dataclass(frozen=True)
class Statement:
    """A top-level statement we keep: its source, where it stands, and the names it binds."""

    kind: StatementKind
    names: tuple[str, ...]
    source: str
    cell: int
    line: int
    decorators: tuple[str, ...] = ()


@dataclass(frozen=True)
class Definition:
    """Where an item is (last) defined: cell and line, as a `def` or `class`, with its decorators."""

    item: str
    kind: Literal["def", "class"]
    cell: int
    line: int
    decorators: tuple[str, ...] = ()

    @property
    def where(self) -> str:
        return f"cell {self.cell}, line {self.line}"
