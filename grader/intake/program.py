"""Turn a notebook's code cells into the program we grade: imports, definitions and constants, in order.

Each code cell has its IPython syntax (`%magic`, `!shell`, `x = !cmd`, `%%time` cells) neutralised by
IPython's own input transformer, then an `ast` pass keeps, in cell order: imports (and `try` blocks made
only of imports), function and class definitions (decorators included, so `@d2l.add_to_class(ResNet)`
applies where it stands), plain constant assignments (no calls, not to a homework item's name), and
assignments that compute a value a kept definition uses, directly or through another such value
(`relu = nn.ReLU()` used in `Residual.forward`), since the notebook ran them before calling that
definition. All other top-level work is dropped with a reason: training loops, `trainer.fit`, prints,
values no definition uses, and rebindings such as the homework's own `pool2d = nn.MaxPool2d(3)`. A cell
with a syntax error is split into its top-level statements; the ones that parse are kept, and each
broken one is reported with the names it seems to define. Nothing here executes student code.
"""

from __future__ import annotations

import ast
import re
import symtable
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache

from grader.intake.notebook import Cell
from grader.protocol.program import Statement, StatementKind

PYTHON_CELL_MAGICS = frozenset({"time", "timeit", "capture", "prun"})
"""Cell magics whose body is ordinary Python: the body is kept, the magic line dropped."""


@dataclass(frozen=True)
class Dropped:
    """A top-level statement we do not run, and why."""

    cell: int
    line: int
    reason: str
    excerpt: str
    names: tuple[str, ...] = ()
    """The names the statement would have bound (for a message about a name that is missing)."""


@dataclass(frozen=True)
class _Value:
    """An assignment that computes a value: kept only when a kept definition uses what it binds."""

    statement: Statement
    dropped: Dropped


_Entry = Statement | Dropped | _Value


@dataclass(frozen=True)
class BrokenCode:
    """A piece of a cell that does not parse, and the definitions it seems to hold."""

    cell: int
    line: int
    message: str
    names: tuple[str, ...]


@dataclass(frozen=True)
class Program:
    """What a submission's code cells amount to, in cell order."""

    statements: tuple[Statement, ...]
    dropped: tuple[Dropped, ...]
    broken: tuple[BrokenCode, ...]


def extract_program(cells: Iterable[Cell], protected: Sequence[str] = ()) -> Program:
    """The program of `cells`; assignments to a name in `protected` (the homework items) are dropped."""
    entries: list[_Entry] = []
    broken: list[BrokenCode] = []
    for cell in cells:
        if cell.kind != "code":
            continue
        magic: list[Dropped] = []
        source = _python_source(cell, magic)
        entries.extend(magic)
        if source is None:
            continue
        for chunk in _parse_chunks(source, cell.number, broken):
            for node in chunk.tree.body:
                entries.append(_classify(node, chunk, cell.number, frozenset(protected)))
    needed = _values_needed(entries)
    statements: list[Statement] = []
    dropped: list[Dropped] = []
    for index, entry in enumerate(entries):
        if isinstance(entry, _Value):
            if index in needed:
                statements.append(entry.statement)
            else:
                dropped.append(entry.dropped)
        elif isinstance(entry, Statement):
            statements.append(entry)
        else:
            dropped.append(entry)
    return Program(tuple(statements), tuple(dropped), tuple(broken))


def _values_needed(entries: Sequence[_Entry]) -> set[int]:
    """The indices of the `_Value` entries that kept definitions use, directly or through other
    values; a worklist over names, so linear in the program's size."""
    binders: defaultdict[str, list[int]] = defaultdict(list)
    for index, entry in enumerate(entries):
        if isinstance(entry, _Value):
            for name in entry.statement.names:
                binders[name].append(index)
    if not binders:
        return set()
    # symtable only where a value's name appears in the text at all (most definitions use none)
    words = re.compile(r"\b(?:" + "|".join(map(re.escape, binders)) + r")\b")
    pending = deque(
        name
        for entry in entries
        if isinstance(entry, Statement)
        and entry.kind in ("def", "class")
        and words.search(entry.source)
        for name in _global_names(entry.source)
    )
    seen: set[str] = set()
    needed: set[int] = set()
    while pending:
        name = pending.popleft()
        if name in seen:
            continue
        seen.add(name)
        for index in binders.get(name, ()):
            if index not in needed:
                needed.add(index)
                value = entries[index]
                assert isinstance(value, _Value)
                pending.extend(_global_names(value.statement.source))
    return needed


def _global_names(source: str) -> frozenset[str]:
    """The global names `source` (top-level statements) reads when it runs or when what it defines
    is called: names its functions and methods read without binding them, and what its own top
    level reads (decorators, bases, defaults, a value's expression)."""
    try:
        table = symtable.symtable(source, "<cell>", "exec")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return frozenset()
    names: set[str] = set()
    tables = [table]
    while tables:
        scope = tables.pop()
        top = scope.get_type() == "module"  # a str, or a StrEnum from 3.13
        for symbol in scope.get_symbols():
            if symbol.is_referenced() and (top or symbol.is_global()):
                names.add(symbol.get_name())
        tables.extend(scope.get_children())
    return frozenset(names)


@cache
def _transformer() -> object:
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager()  # type: ignore[no-untyped-call]


def _python_source(cell: Cell, dropped: list[Dropped]) -> str | None:
    """The cell as plain Python, or None (with a Dropped entry) for a cell magic that is not Python."""
    source = cell.source
    stripped = source.lstrip()
    offset = 0
    if stripped.startswith("%%"):
        first_line, _, body = stripped.partition("\n")
        magic = first_line[2:].split(maxsplit=1)[0] if first_line[2:].strip() else ""
        if magic not in PYTHON_CELL_MAGICS:
            dropped.append(Dropped(cell.number, 1, f"cell magic %%{magic}: not Python", first_line))
            return None
        offset = source[: len(source) - len(stripped)].count("\n") + 1
        source = body
    if "%" in source or "!" in source or "?" in source:
        source = _ipython_to_python(source)
    # Blank lines in front keep line numbers those of the cell.
    return "\n" * offset + source


PIECE_LINES = 20
"""After the whole cell failed to transform, it is transformed in pieces of about this many lines."""


def _ipython_to_python(source: str) -> str:
    """`source` with its IPython syntax made Python by IPython's transformer; what it cannot
    transform is left as it is, and the parse that follows reports the problem.

    The transformer is third-party code run on the student's text, so any exception it raises
    means "not transformed". It rewrites one construct per pass and gives up after a few hundred
    (a cell of 600 `%time` lines) after re-reading the cell on each pass. So a cell with more
    than `PIECE_LINES` lines that may hold IPython syntax, or one it gives up on, is transformed in
    pieces cut at top-level statement starts, each small enough to finish: linear in the cell's
    length."""
    transform = _transformer().transform_cell  # type: ignore[attr-defined]
    lines = source.split("\n")
    if sum(any(c in line for c in "%!?") for line in lines) <= PIECE_LINES:
        try:
            return str(transform(source))
        except Exception:
            pass
    pieces: list[list[str]] = [[]]
    for i, line in enumerate(lines):
        at_start = _starts_statement(line, lines[i - 1] if i else "")
        if at_start and len(pieces[-1]) >= PIECE_LINES:
            pieces.append([])
        pieces[-1].append(line)
    out = []
    for piece in pieces:
        text = "\n".join(piece)
        try:
            transformed = str(transform(text))
        except Exception:
            transformed = text
        if transformed.endswith("\n") and not text.endswith("\n"):
            transformed = transformed[:-1]
        out.append(transformed)
    return "\n".join(out)


@dataclass(frozen=True)
class _Chunk:
    tree: ast.Module
    lines: list[str]


PARSE_BUDGET = 16
"""After a syntax error, the pieces tried may add up to this many times the cell's length (plus
`PARSE_BUDGET_FLOOR` characters); past that, each remaining piece is tried alone."""
PARSE_BUDGET_FLOOR = 2**20


def _parse_chunks(source: str, cell: int, broken: list[BrokenCode]) -> list[_Chunk]:
    """The cell parsed whole, or, after a syntax error, piece by piece at top-level statement starts.

    From each start, the piece is extended over the next starts until it parses (a docstring or a
    bracket can hold lines that look like starts). Extending from every start over every later
    one is quadratic in the cell's statements (a 4 kB cell of 1,000 broken lines would be parsed a
    million times), so the characters parsed are bounded by `PARSE_BUDGET` times the cell's length:
    once spent, a piece that does not parse alone is reported as broken."""
    lines = source.split("\n")
    try:
        return [_Chunk(ast.parse(source), lines)]
    except SyntaxError:
        pass
    except (ValueError, RecursionError, MemoryError) as error:
        broken.append(BrokenCode(cell, 1, f"cannot be parsed ({type(error).__name__})", ()))
        return []
    starts = [
        i for i, line in enumerate(lines) if _starts_statement(line, lines[i - 1] if i else "")
    ]
    starts.append(len(lines))
    budget = PARSE_BUDGET * len(source) + PARSE_BUDGET_FLOOR
    chunks = []
    i = 0
    while i < len(starts) - 1:
        first_error: tuple[str, int] | None = None
        parsed = False
        j = i + 1
        while j < len(starts):
            text = "\n".join(lines[starts[i] : starts[j]])
            budget -= len(text)
            try:
                chunks.append(_Chunk(_parse_at(text, starts[i]), lines))
                parsed = True
                break
            except SyntaxError as error:
                if first_error is None:
                    first_error = (error.msg, (error.lineno or 1) + starts[i])
            except (ValueError, RecursionError, MemoryError):
                if first_error is None:
                    first_error = ("cannot be parsed", starts[i] + 1)
            if budget <= 0:
                break
            j += 1
        if parsed:
            i = j
            continue
        piece = "\n".join(lines[starts[i] : starts[i + 1]])
        message, line = first_error or ("cannot be parsed", starts[i] + 1)
        broken.append(BrokenCode(cell, line, message, _defined_names(piece)))
        i += 1
    return chunks


def _parse_at(text: str, offset: int) -> ast.Module:
    """`text`, which starts at line `offset + 1` of its cell, parsed with the cell's line numbers."""
    return ast.increment_lineno(ast.parse(text), offset)


_CONTINUATION = re.compile(r"(else|elif|except|finally|case)\b|[)\]}#]")
_DEFINITION = re.compile(r"^(?:async\s+def|def|class)\s+([A-Za-z_]\w*)", re.MULTILINE)


def _starts_statement(line: str, previous: str) -> bool:
    """Whether `line` may begin a top-level statement (not indented, not a continuation)."""
    if not line or line[0].isspace() or _CONTINUATION.match(line):
        return False
    return not previous.startswith("@")


def _defined_names(text: str) -> tuple[str, ...]:
    return tuple(_DEFINITION.findall(text))


def _classify(node: ast.stmt, chunk: _Chunk, cell: int, protected: frozenset[str]) -> _Entry:
    first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
    last = node.end_lineno or node.lineno
    source = "\n".join(chunk.lines[first - 1 : last])
    excerpt = chunk.lines[node.lineno - 1].strip()[:80]

    def keep(
        kind: StatementKind, names: tuple[str, ...], decorators: tuple[str, ...] = ()
    ) -> Statement:
        text = source if last > first or kind in ("def", "class") else _segment(chunk, node)
        return Statement(kind, names, text, cell, first, decorators)

    def drop(reason: str) -> Dropped:
        # An expression binds nothing (most drops: prints, calls); an assignment its targets.
        if isinstance(node, ast.Expr):
            names: tuple[str, ...] = ()
        elif isinstance(node, ast.Assign):
            names = tuple(n for t in node.targets for n in _bound_names(t))
        elif isinstance(node, ast.AnnAssign | ast.AugAssign):
            names = _bound_names(node.target)
        else:
            names = _bound_names(node)
        return Dropped(cell, node.lineno, reason, excerpt, names)

    if isinstance(node, ast.Import | ast.ImportFrom):
        return keep("import", _import_names(node))
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        decorators = tuple(ast.unparse(d) for d in node.decorator_list)
        return keep("class" if isinstance(node, ast.ClassDef) else "def", (node.name,), decorators)
    if isinstance(node, ast.Try) and node.body and all(_is_import(n) for n in node.body):
        return keep("import", tuple(name for n in node.body for name in _import_names(n)))
    if isinstance(node, ast.Assign | ast.AnnAssign):
        return _classify_assignment(node, protected, keep, drop)
    if isinstance(node, ast.Expr) and "get_ipython()" in ast.unparse(node):
        return drop("IPython magic or shell command: not run by the grader")
    if isinstance(node, ast.Expr):
        return drop("top-level expression: not run by the grader")
    if isinstance(node, ast.For | ast.AsyncFor | ast.While):
        return drop("top-level loop: not run by the grader")
    return drop(f"top-level {type(node).__name__.lower()} statement: not run by the grader")


def _classify_assignment(
    node: ast.Assign | ast.AnnAssign,
    protected: frozenset[str],
    keep: Callable[[StatementKind, tuple[str, ...]], Statement],
    drop: Callable[[str], Dropped],
) -> _Entry:
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    flat = [e for t in targets for e in (t.elts if isinstance(t, ast.Tuple | ast.List) else [t])]
    if not all(isinstance(t, ast.Name) for t in flat) or node.value is None:
        return drop("assignment to something other than a plain name: not run by the grader")
    names = tuple(t.id for t in flat if isinstance(t, ast.Name))
    hits = [name for name in names if name in protected]
    if hits:
        return drop(
            f"rebinds `{hits[0]}`, which must be your definition: not run, your `{hits[0]}` is graded"
        )
    if _is_constant(node.value):
        return keep("constant", names)
    return _Value(
        keep("value", names),
        drop("computes a value that none of your definitions uses: not run by the grader"),
    )


def _bound_names(node: ast.AST) -> tuple[str, ...]:
    """The names a top-level statement (or an assignment's target) binds at the top level (not
    inside what it defines)."""
    names: list[tuple[int, int, str]] = []
    pending: list[ast.AST] = [node]
    while pending:
        current = pending.pop()
        if isinstance(current, ast.Name) and isinstance(current.ctx, ast.Store):
            names.append((current.lineno, current.col_offset, current.id))
        elif isinstance(current, ast.alias):
            name = (current.asname or current.name).split(".")[0]
            names.append((current.lineno, current.col_offset, name))
        if current is node or not isinstance(current, _NEW_SCOPE):
            pending.extend(ast.iter_child_nodes(current))
    return tuple(dict.fromkeys(name for *_, name in sorted(names)))


_NEW_SCOPE = (
    ast.FunctionDef,
    ast.AsyncFunctionDef,
    ast.ClassDef,
    ast.Lambda,
    ast.ListComp,
    ast.SetComp,
    ast.DictComp,
    ast.GeneratorExp,
)


_NOT_CONSTANT = (
    ast.Call,
    ast.Lambda,
    ast.ListComp,
    ast.SetComp,
    ast.DictComp,
    ast.GeneratorExp,
    ast.Await,
    ast.Yield,
    ast.YieldFrom,
    ast.NamedExpr,
)


def _is_constant(value: ast.expr) -> bool:
    """An expression without calls: literals, names, attributes, subscripts, arithmetic."""
    return not any(isinstance(n, _NOT_CONSTANT) for n in ast.walk(value))


def _is_import(node: ast.stmt) -> bool:
    return isinstance(node, ast.Import | ast.ImportFrom)


def _import_names(node: ast.stmt) -> tuple[str, ...]:
    if not isinstance(node, ast.Import | ast.ImportFrom):
        return ()
    return tuple((alias.asname or alias.name).split(".")[0] for alias in node.names)


def _segment(chunk: _Chunk, node: ast.stmt) -> str:
    """The exact source of a one-line statement (which may share its line with others)."""
    line = chunk.lines[node.lineno - 1]
    encoded = line.encode()
    end = node.end_col_offset if node.end_col_offset is not None else len(encoded)
    return encoded[node.col_offset : end].decode()
