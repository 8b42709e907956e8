"""Fixtures shared by the grader's own tests: one warm sandbox per test session, golden files
(`--update-goldens` rewrites them from the current output), a cache of example plans
(`grader.replay.cache`) of the session's own, empty at its start, unless HW2_GRADER_CACHE names one,
and the list of requests the test's submission processes send."""

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from grader.sandbox.launcher import Sandbox
from grader.sandbox.limits import Limits
from grader.sandbox.process import SubmissionProcess

TEST_LIMITS = Limits(call_seconds=3.0, statement_seconds=3.0, memory_bytes=2 * 2**30, processes=64)


@pytest.fixture
def sent_requests(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The op of every request a `SubmissionProcess` sends during the test, in order."""
    sent: list[str] = []
    original = SubmissionProcess._send
    monkeypatch.setattr(
        SubmissionProcess,
        "_send",
        lambda self, op, args, **kw: sent.append(op) or original(self, op, args, **kw),
    )
    return sent


@pytest.fixture(scope="session")
def sandbox() -> Iterator[Sandbox]:
    """A warm sandbox with short time limits, so that hostile fixtures time out quickly."""
    with Sandbox(TEST_LIMITS) as box:
        yield box


GOLDEN = Path(__file__).parent / "golden"
_PLANS: list[str] = []


def pytest_configure(config: pytest.Config) -> None:
    if "HW2_GRADER_CACHE" not in os.environ:  # children (the CLI in a subprocess) inherit it
        _PLANS.append(tempfile.mkdtemp(prefix="hw2-test-plans-"))
        os.environ["HW2_GRADER_CACHE"] = _PLANS[0]


def pytest_unconfigure(config: pytest.Config) -> None:
    for folder in _PLANS:
        shutil.rmtree(folder, ignore_errors=True)
        os.environ.pop("HW2_GRADER_CACHE", None)


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
