"""Root conftest: the Hypothesis profiles (grading: derandomized, no example database; dev: fast).

`HYPOTHESIS_PROFILE` picks one; the default is `grading`, so every run gives the same examples.
"""

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "grading",
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=50,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", max_examples=10, deadline=None, database=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "grading"))
