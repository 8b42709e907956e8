"""One engine for every way of grading: run `pytest grader` on a submission, in this process.

`grade(path, ...)` runs pytest in-process (`pytest.main`) on the checks in `grader/checks`, with the
plugin, and returns the `ScoreBook`. Passing a started `Sandbox` reuses its warm template across many
submissions. The CLI and the tests call this; `pytest grader --submission PATH` is the same run.
"""

from __future__ import annotations

import contextlib
import gc
import io
import os
from pathlib import Path
from typing import Literal

import pytest

from grader.plugin import CHECKS_DIR, SANDBOX, SCOREBOOK
from grader.sandbox import Sandbox
from grader.scoring import ScoreBook

ROOT = CHECKS_DIR.parent.parent


class _Context:
    """A plugin object that hands the run a warm sandbox and takes its score book back."""

    def __init__(self, sandbox: Sandbox | None) -> None:
        self.sandbox = sandbox
        self.book: ScoreBook | None = None

    def pytest_configure(self, config: pytest.Config) -> None:
        if self.sandbox is not None:
            config.stash[SANDBOX] = self.sandbox

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        self.book = config.stash.get(SCOREBOOK, None)


def grade(
    path: Path,
    *,
    sandbox: Sandbox | None = None,
    visibility: Literal["public", "all"] = "all",
    report_dir: Path | None = None,
    extra_args: tuple[str, ...] = (),
    quiet: bool = True,
) -> ScoreBook:
    """Grade the submission at `path`; returns its ScoreBook (checks in the order they ran)."""
    args = [
        str(CHECKS_DIR),
        f"--submission={path}",
        f"--visibility={visibility}",
        f"--rootdir={ROOT}",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:randomly",
        "-p",
        "no:benchmark",
        # These two end every session with a full garbage collection (0.1-0.3 s with torch loaded)
        # to report exceptions raised in __del__ or threads; a grading run has no use for them.
        "-p",
        "no:unraisableexception",
        "-p",
        "no:threadexception",
        "-p",
        "no:logging",  # checks log nothing; capturing it costs a handler swap per phase
        *(["-q", "--no-header", "--tb=no", "-o", "console_output_style=classic"] if quiet else []),
        *([f"--grade-report={report_dir}"] if report_dir is not None else []),
        *extra_args,
    ]
    context = _Context(sandbox)
    output = io.StringIO()
    redirect = contextlib.redirect_stdout(output) if quiet else contextlib.nullcontext()
    previous = os.getcwd()
    try:
        os.chdir(ROOT)
        with redirect:
            code = pytest.main(args, plugins=[context])
    finally:
        os.chdir(previous)
    if context.book is None or code not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        from grader.errors import HarnessError

        raise HarnessError(f"grading {path} stopped with {code!r}:\n{output.getvalue()[-3000:]}")
    return context.book


def settle() -> None:
    """For a process that grades many submissions, once the first is graded: collect garbage once
    and freeze what survives (torch, the checks, the example plans) out of the collector's sight, so
    later collections scan only the objects of the submission at hand (0.1-0.3 s each otherwise)."""
    gc.collect()
    gc.freeze()
