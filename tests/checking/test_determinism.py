"""Hypothesis draws a check's examples from its seed alone, whatever the process has imported.

Hypothesis mixes into its draws the literal constants of every "local" module loaded in the process
(files outside site-packages and outside test folders). Which of those are loaded depends on how the
grader is installed (editable or not), on the order in which checks and reports are imported, and,
in the grader's own tests, on which tests ran first; so without `grader.checking.determinism` the
same check tried different examples in different processes, and a replayed plan disagreed with the
engine that ran after it.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings

from grader.checking import determinism
from grader.checking.strategies import images_and_kernels
from grader.replay import plans


@settings(derandomize=True, database=None, max_examples=30, deadline=None)
@given(pair=images_and_kernels())
def _property(pair):
    pass


def _drawn() -> list[list[float]]:
    return [[t.flatten().tolist() for t in example["pair"]] for example in plans._draw(_property)]


def test_importing_a_module_full_of_constants_changes_no_draw(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    determinism.pin_constant_pool()
    before = _drawn()
    floats = ", ".join(f"{i / 8 - 9.5:.3f}" for i in range(150))  # in the strategies' range
    (tmp_path / "lots_of_constants.py").write_text(f"VALUES = [{floats}]\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module("lots_of_constants")
    try:
        assert _drawn() == before
    finally:
        sys.modules.pop(module.__name__, None)


def test_pinning_twice_is_pinning_once() -> None:
    determinism.pin_constant_pool()
    determinism.pin_constant_pool()
    assert determinism.pinned()
