"""A student's submission as the grader sees it: which homework items it defines, where, and what was left out.

`parse_submission` reads a file's bytes (see `notebook`) and extracts its program (see `extract`). Each
of the 15 homework items then has one status: defined (with its cell and line), missing, or broken (its
cell has a syntax error); `require` turns the last two into the student-facing `MissingDefinition` or
`BrokenDefinition`, never a `None` that fails later. This module runs no student code.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from grader.errors import BrokenDefinition, MissingDefinition, SubmissionError, UnreadableSubmission
from grader.intake.notebook import read_cells
from grader.intake.program import Program, extract_program
from grader.protocol.program import Definition

HOMEWORK_ITEMS: tuple[str, ...] = (
    "corr2d",
    "Conv2D",
    "comp_conv2d",
    "corr2d_multi_in",
    "corr2d_multi_in_out",
    "corr2d_multi_in_out_1x1",
    "pool2d",
    "init_cnn",
    "LeNet",
    "layer_summary",
    "vgg_block",
    "VGG",
    "Residual",
    "ResNet",
    "ResNet18",
)
"""The homework's items, in the order the homework defines them."""

MAX_SUBMISSION_BYTES = 256 * 1024 * 1024
"""Files larger than this are refused unread (a notebook of the homework is well under 1 MB of code)."""
MAX_CODE_CHARACTERS = 2_000_000
"""The homework's code is about 10 kB; intake is linear in the code's length (`grader.intake.program`),
and this bound keeps a hostile notebook's intake to seconds (a whole file may be far larger: outputs
are dropped as it is read)."""

ItemStatus = Literal["defined", "missing", "broken"]


@dataclass(frozen=True)
class Submission:
    """One student's program and the status of each homework item in it."""

    name: str
    program: Program
    definitions: Mapping[str, Definition]
    problems: Mapping[str, SubmissionError] = field(default_factory=dict)
    labels: Mapping[int, str] = field(default_factory=dict)
    """Each cell's `Cell.label` by its number: how messages cite a cell."""

    def cell(self, number: int) -> str:
        """Cell `number` as the student can find it (`In [12]`, or its first line)."""
        return self.labels.get(number, f"cell {number}")

    def status(self, item: str) -> ItemStatus:
        if item in self.definitions:
            return "defined"
        return "broken" if isinstance(self.problems.get(item), BrokenDefinition) else "missing"

    def require(self, item: str) -> Definition:
        """The item's definition; raises MissingDefinition or BrokenDefinition when there is none."""
        if item in self.definitions:
            return self.definitions[item]
        raise self.problems.get(item) or MissingDefinition(item)


def parse_submission(data: bytes, name: str, items: Sequence[str] = HOMEWORK_ITEMS) -> Submission:
    """The submission in the file `name` with content `data`; raises UnreadableSubmission."""
    if len(data) > MAX_SUBMISSION_BYTES:
        raise UnreadableSubmission(
            name, f"it is {len(data) // 2**20} MB, more than a notebook of this homework can be"
        )
    cells = read_cells(data, name)
    code = sum(len(cell.source) for cell in cells if cell.kind == "code")
    if code > MAX_CODE_CHARACTERS:
        raise UnreadableSubmission(
            name,
            f"its code cells hold {code // 1000:,} kB of text, more than this homework's code can "
            f"be ({MAX_CODE_CHARACTERS // 1000:,} kB); remove generated or pasted data from them",
        )
    program = extract_program(cells, protected=items)
    labels = {cell.number: cell.label for cell in cells if cell.kind == "code"}
    definitions: dict[str, Definition] = {}
    positions: dict[str, tuple[int, int]] = {}
    for statement in program.statements:
        if statement.kind in ("def", "class"):
            for item in statement.names:
                if item in items:
                    kind: Literal["def", "class"] = "class" if statement.kind == "class" else "def"
                    definitions[item] = Definition(
                        item, kind, statement.cell, statement.line, statement.decorators
                    )
                    positions[item] = (statement.cell, statement.line)
    problems: dict[str, SubmissionError] = {}
    for broken in program.broken:
        for item in broken.names:
            # A broken cell after the last good definition is the student's latest word on the item.
            if item in items and (broken.cell, broken.line) > positions.get(item, (0, 0)):
                definitions.pop(item, None)
                problems[item] = BrokenDefinition(
                    item,
                    labels.get(broken.cell, f"cell {broken.cell}"),
                    broken.line,
                    broken.message,
                )
    return Submission(name, program, definitions, problems, labels)


def load_submission(path: Path, items: Sequence[str] = HOMEWORK_ITEMS) -> Submission:
    """`parse_submission` on a file; raises UnreadableSubmission for what cannot be read as one."""
    try:
        if path.is_dir():
            raise UnreadableSubmission(path.name, "it is a folder; grade a folder as a batch")
        size = path.stat().st_size
        if size > MAX_SUBMISSION_BYTES:
            raise UnreadableSubmission(
                path.name, f"it is {size // 2**20} MB, more than a notebook of this homework can be"
            )
        data = path.read_bytes()
    except OSError as error:
        raise UnreadableSubmission(
            path.name, f"it could not be opened ({error.strerror})"
        ) from None
    return parse_submission(data, path.name, items)
