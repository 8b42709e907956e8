"""Hypothesis's profiles for grading, registered when this module is imported and loaded by the
plugin wherever the checks run (a checkout, the kit, or an installed package, which has no root
conftest).

`HYPOTHESIS_PROFILE` picks a profile; the default is `grading` (derandomized, no example database),
so every run, and every student, sees the same examples until a check fails.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "grading",
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=20,
    print_blob=False,
    report_multiple_bugs=False,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.register_profile("dev", max_examples=10, deadline=None, database=None)


def load() -> None:
    """Load the profile `HYPOTHESIS_PROFILE` names (default `grading`)."""
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "grading"))
