"""Run an extracted program's statements, in order, in a namespace, and find the homework items in it.

This executes student code, so only the sandboxed child process (and the grader's own tests, on
trusted fixtures) may call it. Each statement is compiled on its own under the file name `<cell N>`
with its cell's line numbers, so a traceback points at the student's cell and line; a statement that
raises costs only the names it binds. `from __future__` imports carry to the statements after them,
as they do across a notebook's cells.
"""

from __future__ import annotations
import __future__

import ast
import linecache
import traceback
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from grader.protocol.program import Definition, Statement


@dataclass(frozen=True)
class StatementFailure:
    """A kept statement that raised when run: where, the names it would have bound, and the error."""

    cell: int
    line: int
    names: tuple[str, ...]
    error: str


def execute_program(
    statements: Iterable[Statement], namespace: dict[str, Any]
) -> list[StatementFailure]:
    """Run `statements` in order in `namespace`; returns the ones that raised."""
    failures = []
    flags = 0
    for statement in statements:
        try:
            flags = execute_statement(statement, namespace, flags)
        except Exception as error:
            failures.append(
                StatementFailure(statement.cell, statement.line, statement.names, _describe(error))
            )
    return failures


def execute_statement(statement: Statement, namespace: dict[str, Any], flags: int = 0) -> int:
    """Run one statement in `namespace` with the `__future__` compiler `flags` in force.

    Returns the flags in force after it; raises whatever the statement raises.
    """
    filename = f"<cell {statement.cell}>"
    text = "\n" * (statement.line - 1) + statement.source + "\n"
    _remember_source(filename, text)
    exec(compile(text, filename, "exec", flags=flags, dont_inherit=True), namespace)
    if statement.kind == "import" and statement.source.startswith("from __future__"):
        flags |= _future_flags(statement.source)
    return flags


def find_item(namespace: dict[str, Any], definition: Definition) -> Any:
    """The object an item's definition made: the name's value, or for a function decorated with
    `add_to_class(Cls)` (which binds the name to None), the method it added to `Cls`.

    Raises LookupError when there is none.
    """
    value = namespace.get(definition.item)
    if value is not None:
        return value
    for decorator in definition.decorators:
        target = _add_to_class_target(decorator)
        if target is None:
            continue
        try:
            cls = eval(compile(target, "<decorator>", "eval", dont_inherit=True), namespace)
        except Exception as error:
            raise LookupError(f"its decorator's class `{target}` is not defined") from error
        if hasattr(cls, definition.item):
            return getattr(cls, definition.item)
    raise LookupError(f"`{definition.item}` is None after its cell ran")


def _add_to_class_target(decorator: str) -> str | None:
    """For `d2l.add_to_class(X)` or `add_to_class(X)`, the source of X; else None."""
    try:
        node = ast.parse(decorator, mode="eval").body
    except SyntaxError:
        return None
    if not (isinstance(node, ast.Call) and len(node.args) == 1):
        return None
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    return ast.unparse(node.args[0]) if name == "add_to_class" else None


def _future_flags(source: str) -> int:
    flags = 0
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module == "__future__":
            for alias in node.names:
                feature = getattr(__future__, alias.name, None)
                flags |= getattr(feature, "compiler_flag", 0)
    return flags


def _remember_source(filename: str, text: str) -> None:
    """Let tracebacks show the student's lines for `<cell N>` (merged with the cell's other statements)."""
    cached = linecache.cache.get(filename, ())
    lines = text.splitlines(keepends=True)
    if len(cached) == 4:
        # Several statements of one cell: keep their lines where they stand.
        merged = list(cached[2]) + ["\n"] * max(0, len(lines) - len(cached[2]))
        for i, line in enumerate(lines):
            if line.strip():
                merged[i] = line
        lines = merged
    linecache.cache[filename] = (len(text), None, lines, filename)


def student_frames(error: BaseException, last: int | None = None) -> str:
    """The student's frames of `error`'s traceback (ours are left out), the `last` ones, each as
    its file, line, function and source line. Without the column markers (`~~~^^^`) that
    `traceback.format_list` adds from Python 3.11 on, and differently in 3.13: a message must read
    the same on every Python, or a rerun on another would change what a student is told."""
    frames = [
        f for f in traceback.extract_tb(error.__traceback__) if f.filename.startswith("<cell ")
    ]
    shown = frames[-last:] if last else frames
    return "".join(
        f'  File "{f.filename}", line {f.lineno}, in {f.name}\n'
        + (f"    {f.line.strip()}\n" if f.line and f.line.strip() else "")
        for f in shown
    )


def _describe(error: Exception) -> str:
    """The exception and the student's frames of its traceback (ours are left out)."""
    return (
        student_frames(error) + "".join(traceback.format_exception_only(type(error), error)).strip()
    )


def install_stand_ins(namespace: dict[str, Any], source: str, targets: dict[str, str]) -> None:
    """Run the grader's stand-ins (`grader.checking.standins.source_for`) in a scope of their own
    and put each where `targets` says: a global name of `namespace`, or `Class.attribute` for a
    method of a class the program defined."""
    import torch

    torch.manual_seed(0)
    scope: dict[str, Any] = {"__name__": "<stand-ins>"}
    exec(compile(source, "<stand-ins>", "exec", dont_inherit=True), scope)
    for target, name in targets.items():
        owner, _, attribute = target.partition(".")
        if not attribute:
            namespace[owner] = scope[name]
        elif isinstance(namespace.get(owner), type):
            setattr(namespace[owner], attribute, scope[name])
