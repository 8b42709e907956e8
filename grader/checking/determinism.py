"""Hypothesis draws the same examples for a check in every process, whatever that process imported.

Grading is derandomized so that every student, every rerun and the self-check try the same examples
(the guarantee `grader.replay.plans` builds on). Hypothesis, however, also draws now and then from a
pool of the literal constants it finds in the "local" modules loaded in the process: every file
outside site-packages and outside test folders. That pool depends on how the grader was installed
(editable or not), on which checks, reports and helpers happen to be imported before a draw, and
it grows while a process runs; so the same check could try other examples in the next process, or
later in the same one. `pin_constant_pool` fixes the pool to empty: Hypothesis's own constants (the
edge values of each type) stay, the local ones never enter. It is applied when the grading plugin
is configured, before any check runs.
"""

from __future__ import annotations

from typing import Any

_PINNED: list[bool] = []


def _empty_pool() -> Any:
    from hypothesis.internal.constants_ast import Constants

    return Constants()


def pin_constant_pool() -> None:
    """Make Hypothesis's pool of local constants empty for the rest of the process."""
    from hypothesis.internal.conjecture import providers

    if not hasattr(providers, "_get_local_constants"):  # a Hypothesis without the pool
        return
    empty = _empty_pool()
    providers._get_local_constants = lambda: empty
    providers.CONSTANTS_CACHE.cache.clear()
    if not _PINNED:
        _PINNED.append(True)


def pinned() -> bool:
    """Whether the pool is pinned in this process (for a test, and for staff diagnostics)."""
    from hypothesis.internal.conjecture import providers

    if not hasattr(providers, "_get_local_constants"):
        return True
    return bool(_PINNED) and len(providers._get_local_constants()) == 0
