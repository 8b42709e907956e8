"""Example plans: the examples Hypothesis tries on a passing property check, drawn once per process.

Grading runs Hypothesis derandomized and without a database, so the examples it tries on a check do
not depend on the code under test until one of them fails: the engine draws them from a generator
seeded by the check's digest. Every passing submission therefore sees the same examples, and drawing
them (hundreds of array draws through the engine) costs the parent more time than running them. So
the first time a process meets a property check, `plan` runs the engine once with a recorder in
place of the check's body and the seed the check itself would get, and keeps the arguments it drew
(on disk too, for the next process: `grader.replay.cache`);
`passes` then runs the body on copies of them, in order, under the same per-example seeding of
`random` and NumPy that Hypothesis applies. When every example passes, that is Hypothesis's verdict.
When one fails, the caller runs the check through Hypothesis itself, which tries the same examples,
fails on the same one and shrinks it: a failing submission still gets Hypothesis's minimal example.
The student's calls a replay makes are made ahead in one request where `grader.replay.scripts` can.
"""

from __future__ import annotations

import functools
import inspect
import random
from collections.abc import Callable
from typing import Any

from hypothesis.internal.entropy import deterministic_PRNG
from hypothesis.internal.reflection import function_digest

from grader.protocol import values

Plan = list[dict[str, Any]]

_PLANS: dict[int, tuple[Callable[..., Any], Plan]] = {}


def is_property(test: Callable[..., Any]) -> bool:
    """Whether `test` is a Hypothesis property test (wrapped by `@given`)."""
    return bool(getattr(test, "is_hypothesis_test", False)) and hasattr(test, "hypothesis")


@functools.cache
def fixture_names(test: Callable[..., Any]) -> tuple[str, ...]:
    """The arguments pytest passes to a property check (Hypothesis draws the others)."""
    return tuple(inspect.signature(test).parameters)


def plan(test: Callable[..., Any], *, on_disk: bool = False) -> Plan:
    """The drawn arguments of every example Hypothesis tries on `test` when it passes, in order.

    With `on_disk`, a plan kept by an earlier process is read (and one drawn here is kept): only
    where no student code can have written the cache (see `grader.replay.cache`)."""
    known = _PLANS.get(id(test))
    if known is not None and known[0] is test:
        return known[1]
    from grader.replay import cache as plancache

    drawn = plancache.load(test) if on_disk else None
    if drawn is None:
        drawn = _draw(test)
        if on_disk:
            plancache.store(test, drawn)
    _PLANS[id(test)] = (test, drawn)
    return drawn


def _draw(test: Callable[..., Any]) -> Plan:
    """Run Hypothesis's engine on `test` with a recorder for its body; the arguments it drew."""
    fixtures = fixture_names(test)
    drawn: Plan = []

    def recorder(*args: Any, **kwargs: Any) -> None:
        drawn.append({k: values.fresh(v) for k, v in kwargs.items() if k not in fixtures})

    handle: Any = test.hypothesis  # type: ignore[attr-defined]
    original = handle.inner_test
    test_any: Any = test
    previous_seed = test_any._hypothesis_internal_use_seed
    handle.inner_test = recorder
    # The seed a derandomized run derives from the check's own body, not the recorder's.
    test_any._hypothesis_internal_use_seed = int.from_bytes(function_digest(original), "big")
    try:
        test(**dict.fromkeys(fixtures))
    finally:
        handle.inner_test = original
        test_any._hypothesis_internal_use_seed = previous_seed
    return drawn


def passes(test: Callable[..., Any], fixtures: dict[str, Any], *, on_disk: bool = False) -> bool:
    """Run `test`'s body on every planned example (`plan(test, on_disk=...)`); False at the first
    one that raises, and when the examples could not be drawn (Hypothesis, run next, then reports
    whatever went wrong)."""
    body = test.hypothesis.inner_test  # type: ignore[attr-defined]
    try:
        examples = plan(test, on_disk=on_disk)
    except Exception:
        return False
    from grader.replay import scripts as prefetch

    script = prefetch.start(test, fixtures)
    passed = False
    try:
        with deterministic_PRNG():  # Hypothesis's seeding, and the states it puts back afterwards
            for example in examples:
                _reseed()
                body(**fixtures, **values.fresh(example))
        passed = True
    except Exception:
        return False
    finally:
        if script is not None:
            prefetch.finish(test, script, passed=passed)
    return True


_SEEDED = random.Random(0).getstate()


def _reseed() -> None:
    """Start an example as `deterministic_PRNG` starts each one: `random` and NumPy's global
    generator seeded with 0 (cheaper than entering it per example, which saves and restores
    every generator it manages)."""
    import numpy

    random.setstate(_SEEDED)
    numpy.random.seed(0)


__all__ = ["Plan", "fixture_names", "is_property", "passes", "plan"]
