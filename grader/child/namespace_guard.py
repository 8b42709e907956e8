"""Whether a namespace changed since we last looked, told by CPython's dict version tag (PEP 509).

The child restores about 3,000 attributes of torch, numpy, builtins and its own modules after every
request (see `grader.child.serve.Restorer`); comparing them one by one after each of the hundreds of
requests per submission adds up. CPython 3.11 gives every dict a 64-bit version that takes a new,
larger value on each mutation (PEP 509), so comparing 13 numbers tells whether any scan is needed.
The version is read through ctypes at its offset in `PyDictObject`; `watch` first checks on dicts of
its own that the number it reads does move with each kind of mutation (on a module's and on a
class's namespace), and answers None where it does not (another interpreter, a later CPython that
dropped versions), in which case the caller scans every time. A wrong reading can only cost speed,
never a restore: a version that moves when nothing changed makes the caller scan, and each kind of
change is checked to move it.
"""

from __future__ import annotations

import ctypes
import gc
import sys
import types
from collections.abc import Callable, Mapping
from typing import Any

# PyObject_HEAD (refcount, type), then ma_used, then ma_version_tag.
_OFFSET = 3 * ctypes.sizeof(ctypes.c_ssize_t)


class Versions:
    """The current version tags of some namespaces, read on demand."""

    def __init__(self, dicts: list[dict[str, Any]]) -> None:
        self._cells = [ctypes.c_uint64.from_address(id(d) + _OFFSET) for d in dicts]
        self._dicts = dicts  # kept alive: the cells point into them

    def read(self, index: int) -> int:
        return int(self._cells[index].value)


def underlying(namespace: Mapping[str, Any]) -> dict[str, Any] | None:
    """The dict behind `namespace` (a module's `__dict__`, or the mappingproxy of a class's)."""
    if type(namespace) is dict:
        return namespace
    if isinstance(namespace, types.MappingProxyType):
        inner = gc.get_referents(namespace)
        if len(inner) == 1 and type(inner[0]) is dict:
            return inner[0]
    return None


def watch(namespaces: list[Mapping[str, Any]]) -> Versions | None:
    """Version readers for `namespaces`, or None where versions cannot be read reliably here."""
    if sys.implementation.name != "cpython" or not _works():
        return None
    dicts = [underlying(n) for n in namespaces]
    if any(d is None for d in dicts):
        return None
    return Versions([d for d in dicts if d is not None])


def _works() -> bool:
    """Whether the number read moves on every kind of change to a module's and a class's dict."""
    module = types.ModuleType("probe")
    module.keep = 1  # type: ignore[attr-defined]
    probe_class = type("Probe", (), {"keep": 1})
    changes: list[Callable[[], object]] = [
        lambda: setattr(module, "added", 1),
        lambda: setattr(module, "keep", 2),
        lambda: module.__dict__.update(keep=3),
        lambda: delattr(module, "added"),
        lambda: setattr(probe_class, "added", 1),
        lambda: setattr(probe_class, "keep", 2),
        lambda: delattr(probe_class, "added"),
    ]
    targets = [module.__dict__] * 4 + [underlying(vars(probe_class))] * 3
    for change, target in zip(changes, targets, strict=True):
        if target is None:
            return False
        versions = Versions([target])
        before = versions.read(0)
        change()
        if versions.read(0) == before:
            return False
    return True


__all__ = ["Versions", "underlying", "watch"]
