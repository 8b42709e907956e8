"""Root conftest: registers the grading plugin and the Hypothesis profiles; nothing else.

`HYPOTHESIS_PROFILE` picks a profile; the default is `grading` (derandomized, no example database), so
every run, and every student, sees the same examples until a check fails.
"""

import os

from hypothesis import HealthCheck, settings

pytest_plugins = ["grader.plugin"]

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
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "grading"))
