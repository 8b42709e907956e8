"""TOML on every Python the grader supports: the standard library's `tomllib` from 3.11, its
original, `tomli`, on 3.10 (Gradescope's Ubuntu 22.04 image gives `python3` 3.10)."""

from __future__ import annotations

import sys

if sys.version_info >= (3, 11):
    from tomllib import TOMLDecodeError, loads
else:  # pragma: no cover - exercised by the py310 tox environment
    from tomli import TOMLDecodeError, loads

__all__ = ["TOMLDecodeError", "loads"]
