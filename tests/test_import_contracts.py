"""The trust line in the import graph: what each part of the grader may import, held by an AST walk
that also sees the imports inside functions.

* `grader.child` (the only code beside student code) imports only `grader.child`, `grader.protocol`
  and `d2lcompat`; the sandbox mounts exactly that code (`grader.sandbox.isolation.child_code`).
* `grader.protocol` is a leaf: nothing else of the grader.
* `reference` imports nothing from `grader`.
* `grader.reports`, `grader.scoring`, `grader.rubric`, `grader.policy` and `grader.similarity`
  import neither torch nor pytest, and
  `grader.intake` no torch, counting everything they import of ours in turn.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

import pytest

from grader.sandbox.isolation import child_code

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("grader", "reference", "d2lcompat")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {
    module_name(p): p for package in PACKAGES for p in sorted((ROOT / package).rglob("*.py"))
}


def imports_of(source: str, name: str = "") -> set[str]:
    """Every module an import statement anywhere in `source` names (functions' bodies included);
    `from a import b` counts as `a.b` when that is one of our modules."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = name.split(".")[: -node.level]
                base = ".".join([*package, base] if base else package)
            found.add(base)
            found.update(
                f"{base}.{alias.name}" for alias in node.names if f"{base}.{alias.name}" in MODULES
            )
    return found


def closure(start: Iterable[str]) -> set[str]:
    """`start` and every module they import, followed through our own modules."""
    seen: set[str] = set()
    pending = list(start)
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        if name in MODULES:
            pending += imports_of(MODULES[name].read_text(encoding="utf-8"), name)
    return seen


def ours(names: Iterable[str]) -> set[str]:
    return {n for n in names if n.split(".")[0] in PACKAGES}


def violations(name: str, imported: set[str]) -> list[str]:
    """What module `name` must not import, of `imported` (its direct imports)."""
    bad: list[str] = []
    if name.startswith("grader.child"):
        allowed = ("grader.child", "grader.protocol", "d2lcompat")
        bad += [m for m in ours(imported) if m != "grader" and not m.startswith(allowed)]
    if name.startswith("grader.protocol"):
        bad += [m for m in ours(imported) if not m.startswith("grader.protocol")]
    if name.startswith("reference"):
        bad += [m for m in imported if m.split(".")[0] == "grader"]
    return bad


@pytest.mark.parametrize("name", sorted(MODULES))
def test_each_module_imports_only_across_the_lines_it_may(name: str) -> None:
    imported = imports_of(MODULES[name].read_text(encoding="utf-8"), name)

    assert violations(name, imported) == []


@pytest.mark.parametrize(
    ("name", "source"),
    [
        ("grader.child.serve", "def f():\n    from grader.checks import test_pooling\n"),
        ("grader.child.queries", "import reference.vgg\n"),
        ("grader.child.execution", "from grader import scoring\n"),
        ("grader.child.serve", "from grader.reports import results\n"),
        ("grader.child.serve", "from grader.checking.standins import source_for\n"),
        ("grader.protocol.channel", "from grader.errors import HarnessError\n"),
        ("reference.vgg", "import grader\n"),
        ("reference.lenet", "def g():\n    from d2lcompat import torch\n    import grader.child\n"),
    ],
)
def test_the_contract_catches_a_crossing(name: str, source: str) -> None:
    assert violations(name, imports_of(source, name))


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("grader.reports", ("torch", "pytest", "_pytest")),
        ("grader.scoring", ("torch", "pytest", "_pytest")),
        ("grader.rubric", ("torch", "pytest", "_pytest")),
        ("grader.policy", ("torch", "pytest", "_pytest")),
        ("grader.intake", ("torch",)),
        ("grader.similarity", ("torch", "pytest", "_pytest")),
    ],
)
def test_pure_parts_import_no_torch_nor_pytest_even_through_our_modules(
    package: str, forbidden: tuple[str, ...]
) -> None:
    start = [m for m in MODULES if m == package or m.startswith(package + ".")]
    assert start
    reached = closure(start)

    assert sorted(m for m in reached if m.split(".")[0] in forbidden) == []


def test_the_sandbox_mounts_exactly_what_the_child_imports_of_ours() -> None:
    needed = ours(closure(["grader.child.template"])) - {"grader"}
    mounted = child_code()

    for name in needed:
        path = MODULES[name]
        assert any(path == m or path.is_relative_to(m) for m in mounted), name
    assert ROOT / "grader" / "checks" not in mounted
    assert not [m for m in mounted if m.name in ("checking", "reference", "tests", "replay")]


def test_the_plugin_and_the_cli_start_without_torch() -> None:
    """A grading process launches the sandbox's template, which imports torch, and imports torch
    itself meanwhile; a plugin or CLI that imported torch first would make the two wait in turn."""
    import subprocess
    import sys

    code = "import sys, grader.plugin, grader.cli; print('torch' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)

    assert done.stdout.strip() == "False", done.stderr
