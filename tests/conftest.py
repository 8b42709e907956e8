"""Fixtures shared by the grader's own tests: one warm sandbox per test session, and golden files
(`--update-goldens` rewrites them from the current output)."""

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from grader.limits import Limits
from grader.sandbox import Sandbox

TEST_LIMITS = Limits(call_seconds=3.0, statement_seconds=3.0, memory_bytes=2 * 2**30, processes=64)


@pytest.fixture(scope="session")
def sandbox() -> Iterator[Sandbox]:
    """A warm sandbox with short time limits, so that hostile fixtures time out quickly."""
    with Sandbox(TEST_LIMITS) as box:
        yield box


GOLDEN = Path(__file__).parent / "golden"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-goldens", action="store_true", help="rewrite tests/golden/ from the output"
    )


@pytest.fixture
def golden(request: pytest.FixtureRequest) -> Callable[[str, str], None]:
    """Compare text with tests/golden/NAME (or write it there with --update-goldens)."""

    def compare(name: str, text: str) -> None:
        path = GOLDEN / name
        if request.config.getoption("update_goldens"):
            path.write_text(text, encoding="utf-8")
        assert path.read_text(encoding="utf-8") == text, (
            f"{name} changed; rerun with --update-goldens if intended"
        )

    return compare
