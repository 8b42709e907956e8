"""Fixtures shared by the grader's own tests: one warm sandbox per test session."""

from collections.abc import Iterator

import pytest

from grader.limits import Limits
from grader.sandbox import Sandbox

TEST_LIMITS = Limits(call_seconds=3.0, statement_seconds=3.0, memory_bytes=2 * 2**30, processes=64)


@pytest.fixture(scope="session")
def sandbox() -> Iterator[Sandbox]:
    """A warm sandbox with short time limits, so that hostile fixtures time out quickly."""
    with Sandbox(TEST_LIMITS) as box:
        yield box
