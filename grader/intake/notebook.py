"""Read a submitted file into its ordered cells: `.ipynb` (nbformat 4.0-4.5, or older ones upgraded with
nbformat) or `.py` (plain, Jupytext percent format, or nbconvert's `# In[ ]:` script). Never executes.

Outputs are dropped while the JSON is decoded (each output object is replaced as soon as it is read), so
a notebook of large image outputs costs little more memory than its file. Anything that is not a
readable notebook or Python file raises `UnreadableSubmission` with a reason a student can act on.
"""

from __future__ import annotations

import codecs
import json
import re
from dataclasses import dataclass
from typing import Any, Literal

from grader.errors import UnreadableSubmission

CellKind = Literal["code", "markdown", "raw"]
NOTEBOOK_SUFFIXES = (".ipynb",)
PYTHON_SUFFIXES = (".py",)


@dataclass(frozen=True)
class Cell:
    """One cell: its 1-based position among all the notebook's cells, its kind and its source."""

    number: int
    kind: CellKind
    source: str
    execution_count: int | None = None
    """Jupyter's `In [n]` for a code cell that ran; None for one that did not, or in a script."""

    @property
    def label(self) -> str:
        """The cell as the student can find it: `In [12]` as Jupyter shows it, else its first line
        (a position counting markdown cells is no help in Jupyter or Colab)."""
        if self.execution_count is not None:
            return f"In [{self.execution_count}]"
        first = next((line.strip() for line in self.source.splitlines() if line.strip()), "")
        if not first:
            return f"cell {self.number} (empty)"
        return f"the cell starting `{first[:60]}{'...' if len(first) > 60 else ''}`"


def read_cells(data: bytes, name: str) -> list[Cell]:
    """The cells of the file `name` whose content is `data`, in order."""
    lower = name.lower()
    if lower.endswith(NOTEBOOK_SUFFIXES):
        return _notebook_cells(_decode(data, name), name)
    if lower.endswith(PYTHON_SUFFIXES):
        return _script_cells(_decode(data, name))
    suffix = ("." + lower.rsplit(".", 1)[-1]) if "." in lower.rsplit("/", 1)[-1] else "no extension"
    raise UnreadableSubmission(
        name, f"it is not a notebook ({suffix}); hand in the .ipynb file of the homework"
    )


def _decode(data: bytes, name: str) -> str:
    """Text of the file: UTF-8 (with or without BOM) or UTF-16 with BOM; line endings made `\\n`."""
    if not data:
        raise UnreadableSubmission(name, "the file is empty (0 bytes)")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    elif data.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    else:
        encoding = "utf-8"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as error:
        if encoding != "utf-16" and b"\x00" in data[:4096]:
            raise UnreadableSubmission(name, "it is a binary file, not a notebook") from None
        # utf-8-sig counts positions after its 3-byte BOM; utf-16 counts its BOM.
        position = error.start + (len(codecs.BOM_UTF8) if encoding == "utf-8-sig" else 0)
        label = "UTF-16" if encoding == "utf-16" else "UTF-8"
        line = data.count(b"\n", 0, position) + 1
        column = position - (data.rfind(b"\n", 0, position) + 1) + 1
        raise UnreadableSubmission(
            name,
            f"it is not {label} text: byte 0x{data[position]:02x} at line {line}, column "
            f"{column} (byte {position} from the start, counting from 0); save it from Jupyter "
            "again",
        ) from None
    if "\x00" in text:
        raise UnreadableSubmission(name, "it is a binary file, not a notebook")
    return _normalise_newlines(text)


def _normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _drop_output(obj: dict[str, Any]) -> dict[str, Any]:
    """JSON object hook: an output (anything with an `output_type`) becomes an empty stream output."""
    if "output_type" in obj:
        return {"output_type": "stream", "name": "stdout", "text": ""}
    return obj


def _notebook_cells(text: str, name: str) -> list[Cell]:
    try:
        raw = json.loads(text, object_hook=_drop_output)
    except json.JSONDecodeError as error:
        # json's messages end in "at" ("Unterminated string starting at") before its position.
        where = f"line {error.lineno}, column {error.colno}"
        what = f"{error.msg} {where}" if error.msg.endswith(" at") else f"{error.msg} at {where}"
        lines = text.split("\n")
        end = f"line {len(lines)}, column {len(lines[-1]) + 1}"
        raise UnreadableSubmission(
            name,
            f"it is not valid JSON: {what[0].lower()}{what[1:]} (the file ends at {end}); it "
            "may have been cut short or edited outside Jupyter",
        ) from None
    except RecursionError:
        raise UnreadableSubmission(name, "its JSON is nested too deeply to be a notebook") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("nbformat"), int):
        raise UnreadableSubmission(
            name, "it is JSON but not a Jupyter notebook (no nbformat version)"
        )
    if raw["nbformat"] < 4:
        raw = _upgrade(raw, name)
    if raw["nbformat"] != 4:
        raise UnreadableSubmission(
            name, f"it is a notebook of format {raw['nbformat']}, newer than this grader reads (4)"
        )
    cells = raw.get("cells")
    if not isinstance(cells, list):
        raise UnreadableSubmission(name, "it is a notebook without a list of cells")
    result = []
    for number, cell in enumerate(cells, start=1):
        if not isinstance(cell, dict):
            continue
        kind = cell.get("cell_type")
        source = cell.get("source", "")
        if isinstance(source, list) and all(isinstance(line, str) for line in source):
            source = "".join(source)
        count = cell.get("execution_count")
        if kind in ("code", "markdown", "raw") and isinstance(source, str):
            ran = count if isinstance(count, int) and not isinstance(count, bool) else None
            result.append(Cell(number, kind, _normalise_newlines(source), ran))
    return result


def _upgrade(raw: dict[str, Any], name: str) -> dict[str, Any]:
    """A notebook of format 1-3 upgraded to format 4 by nbformat."""
    import nbformat  # only old notebooks need it; the sandboxed child never imports it

    try:
        old = nbformat.reader.reads(json.dumps(raw))  # type: ignore[no-untyped-call]
        upgraded = nbformat.convert(old, 4)  # type: ignore[no-untyped-call]
    except Exception as error:  # nbformat raises many kinds on malformed old notebooks
        raise UnreadableSubmission(
            name,
            f"it is an old notebook (format {raw['nbformat']}) that could not be upgraded: {error}",
        ) from None
    result: dict[str, Any] = json.loads(json.dumps(upgraded))
    return result


_CELL_MARKER = re.compile(r"^# ?(%%|In\[[ \d]*\]:)(.*)$")


def _script_cells(text: str) -> list[Cell]:
    """Cells of a .py file: split at `# %%` (Jupytext percent) or `# In[ ]:` (nbconvert) markers."""
    cells: list[Cell] = []
    kind: CellKind = "code"
    lines: list[str] = []

    def flush() -> None:
        if lines or cells:
            cells.append(Cell(len(cells) + 1, kind, "\n".join(lines)))

    for line in text.split("\n"):
        marker = _CELL_MARKER.match(line)
        if marker is None:
            lines.append(line)
            continue
        flush()
        lines = []
        rest = marker.group(2).lower()
        kind = "markdown" if "[markdown]" in rest or "[md]" in rest else "code"
    flush()
    return [cell for cell in cells if cell.source.strip() or cell.kind != "code"] or [
        Cell(1, "code", "")
    ]
