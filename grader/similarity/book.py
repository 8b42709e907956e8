"""What every student starts from, so that it never counts as shared: the book.

The book is the template notebook (its code and its prompts), the solved notebook and `reference/`
(the book's code, which the homework text prints), and the homework text itself
(`book/homework.txt`: its `In [n]:` code and its prose). Staff can add their own starter code or
notes (`similarity --book FILE`). Every k-gram of the book is excluded before fingerprints are
chosen (`grader.similarity.fingerprints.winnow`), so a student who kept the book's code or quoted
a prompt shares nothing by doing so. Read once per comparison; never imports `reference/`.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from grader.errors import GraderError, UnreadableSubmission
from grader.intake.notebook import read_cells
from grader.similarity.fingerprints import CODE, PROSE, gram_hashes
from grader.similarity.tokens import code_tokens, imported_names, prose_tokens

ROOT = Path(__file__).resolve().parents[2]
HOMEWORK_TEXT = Path(__file__).with_name("book") / "homework.txt"
_PROMPT = re.compile(r"^In \[[ \d]*\]: ?")


@dataclass(frozen=True)
class Book:
    code_hashes: frozenset[int]
    prose_hashes: frozenset[int]
    imported: frozenset[str]
    """The names the book imports: kept as written in every submission's code."""
    sources: tuple[str, ...]
    """What the book was read from, for the report."""


def default_sources() -> list[Path]:
    """The template, the solved notebook, `reference/`'s modules and the homework text, where
    they are (a checkout has them all; an installed grader has the homework text and `reference`)."""
    found = [ROOT / "submissions" / name for name in ("homework.ipynb", "solved.ipynb")]
    spec = importlib.util.find_spec("reference")
    if spec is not None and spec.submodule_search_locations:
        for folder in spec.submodule_search_locations:
            found.extend(sorted(Path(folder).glob("*.py")))
    found.append(HOMEWORK_TEXT)
    return [path for path in found if path.is_file()]


def read_book(extra: Sequence[Path] = ()) -> Book:
    """The book from `default_sources()` and the files in `extra` (notebooks, `.py`, or text
    with `In [n]:` code as the homework text has it)."""
    code: list[str] = []
    prose: list[str] = []
    sources = [*default_sources(), *extra]
    for path in extra:
        if not path.is_file():
            raise GraderError(f"no book file {path} (from --book)")
    for path in sources:
        pieces = _pieces(path)
        code.extend(pieces[0])
        prose.extend(pieces[1])
    imported = imported_names("\n".join(code))
    code_hashes: set[int] = set()
    for source in code:
        code_hashes.update(gram_hashes(code_tokens(source, imported), CODE))
    prose_hashes: set[int] = set()
    for text in prose:
        prose_hashes.update(gram_hashes(prose_tokens(text), PROSE))
    return Book(frozenset(code_hashes), frozenset(prose_hashes), imported, tuple(map(str, sources)))


def _pieces(path: Path) -> tuple[list[str], list[str]]:
    """The code and the prose of a book file, each cell or block a piece of its own."""
    data = path.read_bytes()
    if path.suffix.lower() in (".ipynb", ".py"):
        try:
            cells = read_cells(data, path.name)
        except UnreadableSubmission as error:
            raise GraderError(f"the book file {path} could not be read: {error}") from None
        return (
            [c.source for c in cells if c.kind == "code"],
            [c.source for c in cells if c.kind == "markdown"],
        )
    return _homework_text(data.decode("utf-8", "replace"))


def _homework_text(text: str) -> tuple[list[str], list[str]]:
    """The homework text's code (blocks whose first line is `In [n]: `, the prompt and the
    continuation indent removed) and its prose (everything outside blocks)."""
    code: list[str] = []
    prose: list[str] = []
    outside: list[str] = []
    for index, block in enumerate(text.split("```")):
        if index % 2 == 0:
            outside.append(block)
            continue
        lines = block.strip("\n").split("\n")
        if lines and _PROMPT.match(lines[0]):
            width = len(_PROMPT.match(lines[0]).group())  # type: ignore[union-attr]
            code.append("\n".join(_dedent(line, width) for line in lines))
    prose.extend(piece for piece in "\n".join(outside).split("\n\n") if piece.strip())
    return code, prose


def _dedent(line: str, width: int) -> str:
    match = _PROMPT.match(line)
    if match:
        return line[match.end() :]
    return line[width:] if line[:width].strip() == "" else line.lstrip()
