"""The child's restorer: what student code changes in the protected namespaces is put back after
each request, and a namespace whose dict version has not moved is not scanned at all."""

import sys
import types

import pytest

from grader.child import namespace_guard as dictversion
from grader.child.serve import Restorer


def namespaces():
    module = types.ModuleType("protected")
    module.allclose = len  # type: ignore[attr-defined]
    module.helper = abs  # type: ignore[attr-defined]

    class Tensor:
        def __eq__(self, other):
            return self is other

        __hash__ = object.__hash__

    return module, Tensor


@pytest.fixture(params=["versions", "scan"])
def restorer_kind(request, monkeypatch):
    if request.param == "scan":
        monkeypatch.setattr(dictversion, "watch", lambda namespaces: None)
    return request.param


def test_replaced_removed_and_added_names_are_put_back(restorer_kind) -> None:
    module, Tensor = namespaces()
    original_eq = Tensor.__eq__
    restorer = Restorer(module, Tensor)

    module.allclose = lambda *a: True
    del module.helper
    Tensor.__eq__ = lambda self, other: True
    Tensor.__add__ = lambda self, other: 0
    module.lazily_imported = 1  # a module may gain names (submodules): those stay
    restorer.restore()

    assert module.allclose is len
    assert module.helper is abs
    assert Tensor.__eq__ is original_eq
    assert not hasattr(Tensor, "__add__")
    assert module.lazily_imported == 1


def test_a_patch_after_a_restore_is_caught_too(restorer_kind) -> None:
    module, Tensor = namespaces()
    restorer = Restorer(module, Tensor)
    module.allclose = min
    restorer.restore()

    module.allclose = max
    restorer.restore()

    assert module.allclose is len


def test_unchanged_namespaces_are_not_scanned(monkeypatch) -> None:
    module, Tensor = namespaces()
    restorer = Restorer(module, Tensor)
    scanned: list = []
    original = Restorer._changed
    monkeypatch.setattr(
        Restorer, "_changed", staticmethod(lambda t, *a: scanned.append(t) or original(t, *a))
    )

    restorer.restore()
    assert scanned == []

    module.allclose = min
    restorer.restore()
    restorer.restore()
    assert scanned == [module]  # once, when it changed; not again once put back


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="PEP 509 versions are CPython 3.11's")
def test_dict_versions_are_readable_here() -> None:
    module, Tensor = namespaces()

    assert dictversion.watch([vars(module), vars(Tensor)]) is not None
