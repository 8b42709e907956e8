"""One engine for every way of grading: run `pytest grader` on a submission, in this process.

`grade(path, ...)` runs pytest in-process (`pytest.main`) on the checks in `grader/checks`, with the
plugin, and returns the `ScoreBook`. Passing a started `Sandbox` reuses its warm template across many
submissions. The CLI and the tests call this; `pytest grader --submission PATH` is the same run.
`GradingSession` runs the same checks with the same plugin for submission after submission in one
pytest session (the batch workers use it).
"""

from __future__ import annotations

import contextlib
import gc
import io
import os
import queue
import threading
from pathlib import Path
from typing import Literal, Protocol

import pytest

from grader.plugin import CHECKS_DIR, RUBRIC, SANDBOX, SCOREBOOK, is_check
from grader.sandbox.launcher import Sandbox, launched
from grader.scoring import CheckResult, ScoreBook

ROOT = CHECKS_DIR.parent.parent


class Listener(Protocol):
    """Told of each check as it starts and ends, so that a self-check shows its progress while a
    slow or hanging item runs rather than only when grading ends."""

    def started(self, item: str) -> None: ...

    def finished(self, result: CheckResult) -> None: ...


class _Telling:
    """Plugin hooks that tell a `Listener` of each check as it starts and ends (none: silent)."""

    listener: Listener | None = None
    _config: pytest.Config | None = None
    _told = 0

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        if self.listener is None or not is_check(item):
            return
        self._config = item.config
        entry = item.config.stash[RUBRIC].entry(getattr(item, "originalname", item.name))
        if entry is not None:
            self.listener.started(entry.item)

    def pytest_runtest_logfinish(self, nodeid: str) -> None:
        if self.listener is None or self._config is None:
            return
        results = self._config.stash[SCOREBOOK].results
        for result in results[self._told :]:
            self.listener.finished(result)
        self._told = len(results)


class _Context(_Telling):
    """A plugin object that hands the run a warm sandbox and takes its score book back."""

    def __init__(self, sandbox: Sandbox | None, listener: Listener | None = None) -> None:
        self.sandbox = sandbox
        self.book: ScoreBook | None = None
        self.listener = listener

    def pytest_configure(self, config: pytest.Config) -> None:
        if self.sandbox is not None:
            config.stash[SANDBOX] = self.sandbox

    def pytest_collection_finish(self) -> None:
        freeze_imports()

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        self.book = config.stash.get(SCOREBOOK, None)


class _Queued:
    """A `Listener` for the session's thread: it queues what it is told for the caller's thread,
    which tells the caller's own listener (a notebook's display belongs to the cell's thread)."""

    def __init__(self) -> None:
        self.events: queue.Queue[tuple[str, str | CheckResult]] = queue.Queue()

    def started(self, item: str) -> None:
        self.events.put(("started", item))

    def finished(self, result: CheckResult) -> None:
        self.events.put(("finished", result))

    def tell(self, listener: Listener) -> None:
        while True:
            try:
                kind, event = self.events.get_nowait()
            except queue.Empty:
                return
            if kind == "started" and isinstance(event, str):
                listener.started(event)
            elif isinstance(event, CheckResult):
                listener.finished(event)


PLAIN_IMPORTS = ("hypothesis",)
"""Packages imported before pytest starts, so that its assertion rewriting leaves them alone.

pytest rewrites the asserts of every module of a package that provides a plugin (Hypothesis
does), compiling each from source; it keeps the result in `__pycache__`, except where bytecode
is not written (`PYTHONDONTWRITEBYTECODE`, as in many containers and CI jobs) or the folder is
read-only. There, every grading run compiled Hypothesis's 95 modules again. Rewriting a
library's asserts changes only the messages of its own assertion errors; the checks are still
rewritten."""


def _import_plainly() -> None:
    import importlib

    for name in PLAIN_IMPORTS:
        importlib.import_module(name)


IMPORTED_FIRST = (*PLAIN_IMPORTS, "_hypothesis_globals", "grader.plugin")
"""What pytest finds imported already and would warn about: these packages, the module that
Hypothesis's distribution also ships, and our plugin (this module imports it)."""


def _arguments(visibility: str, extra_args: tuple[str, ...], quiet: bool) -> list[str]:
    _import_plainly()
    return [
        str(CHECKS_DIR),
        # Named here too: an installed grader has no root conftest to name it.
        "-p",
        "grader.plugin",
        f"--visibility={visibility}",
        f"--rootdir={ROOT}",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:randomly",
        "-p",
        "no:benchmark",
        # These two end every session with a full garbage collection (slow with torch loaded)
        # to report exceptions raised in __del__ or threads; a grading run has no use for them.
        "-p",
        "no:unraisableexception",
        "-p",
        "no:threadexception",
        "-p",
        "no:logging",  # checks log nothing; capturing it costs a handler swap per phase
        *(
            f"-Wignore:Module already imported so cannot be rewritten; {name}"
            ":pytest.PytestAssertRewriteWarning"
            for name in IMPORTED_FIRST
        ),
        *(["-q", "--no-header", "--tb=no", "-o", "console_output_style=classic"] if quiet else []),
        *extra_args,
    ]


def grade(
    path: Path,
    *,
    sandbox: Sandbox | None = None,
    visibility: Literal["public", "all"] = "all",
    report_dir: Path | None = None,
    extra_args: tuple[str, ...] = (),
    quiet: bool = True,
    listener: Listener | None = None,
) -> ScoreBook:
    """Grade the submission at `path`; returns its ScoreBook (checks in the order they ran).

    Without a `sandbox`, one is launched first thing (`grader.sandbox.launcher.launched`) and closed at the
    end: its template imports torch while pytest starts, imports torch and collects the checks."""
    owned = launched() if sandbox is None else None
    args = [
        *_arguments(visibility, extra_args, quiet),
        # Absolute: pytest runs from the grader's root, not the caller's working directory; a
        # symlink keeps its own name, which is the one the student and the reports know.
        f"--submission={os.path.abspath(path)}",
        *([f"--grade-report={report_dir}"] if report_dir is not None else []),
    ]
    context = _Context(sandbox or owned, listener)
    try:
        code, output = _main_at_root(args, context, quiet=quiet)
    finally:
        if owned is not None:
            owned.close()
    if code == pytest.ExitCode.INTERRUPTED:
        raise KeyboardInterrupt  # pytest took the Ctrl-C; the caller decides what it means
    if code == pytest.ExitCode.NO_TESTS_COLLECTED:
        from grader.errors import GraderError

        raise GraderError(f"no check matches the selection {' '.join(extra_args)!r}")
    if context.book is None or code not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        from grader.errors import HarnessError

        raise HarnessError(f"grading {path} stopped with {code!r}:\n{output[-3000:]}")
    return context.book


def _main_at_root(
    args: list[str], plugin: object, *, quiet: bool = True
) -> tuple[int | pytest.ExitCode, str]:
    """`pytest.main(args)` with `plugin`, run from the repository root; its exit code, and what
    it printed when `quiet` (kept for the error message rather than shown)."""
    output = io.StringIO()
    redirect = contextlib.redirect_stdout(output) if quiet else contextlib.nullcontext()
    previous = os.getcwd()
    try:
        os.chdir(ROOT)
        with redirect:
            return pytest.main(args, plugins=[plugin]), output.getvalue()
    finally:
        os.chdir(previous)


_FROZEN: list[bool] = []


def freeze_imports() -> None:
    """Once per process, when the checks are collected: put what is there (torch, pytest,
    Hypothesis, the checks) out of the garbage collector's sight, without a collection first.

    A full collection otherwise scans those 200,000-odd objects: a self-check ran several, each
    longer as imports went on, the last one while grading, where it now scans only what grading
    made. Garbage in reference cycles at that moment (a little, from imports) is kept for the
    process's life; doing this once bounds it. `settle` goes further for a process that grades many
    submissions."""
    if not _FROZEN:
        _FROZEN.append(True)
        gc.freeze()


def settle() -> None:
    """For a process that grades many submissions, once the first is graded: collect garbage once
    and freeze what survives (torch, the checks, the example plans) out of the collector's sight, so
    later collections scan only the objects of the submission at hand, not torch's and the checks'
    every time."""
    gc.collect()
    gc.freeze()


class _Planner:
    """A plugin object that plans every collected property check (`grader.replay.plans.plan`)."""

    def __init__(self) -> None:
        self.planned: list[str] = []

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        from grader.replay import plans as replay

        functions = [item.obj for item in session.items if isinstance(item, pytest.Function)]
        for test in dict.fromkeys(f for f in functions if replay.is_property(f)):  # each once
            replay.plan(test, on_disk=True)  # no student code runs here
            self.planned.append(test.__name__)


def draw_plans(visibility: Literal["public", "all"] = "all") -> list[str]:
    """Draw the example plans of the property checks and keep them on disk (`grader.replay.cache`)
    without grading anything, as a container image or a CI cache is built; the checks planned."""
    planner = _Planner()
    code, output = _main_at_root(
        [*_arguments(visibility, (), quiet=True), "--collect-only"], planner
    )
    if code != pytest.ExitCode.OK:
        from grader.errors import HarnessError

        raise HarnessError(f"collecting the checks stopped with {code!r}:\n{output[-3000:]}")
    return planner.planned


class GradingSession:
    """Grades submission after submission in one pytest session, for a process that grades many.

    `grade()` pays pytest's configuration, plugin registration and the collection of the 64 checks
    for every submission. Here a thread of its own runs `pytest.main` once; its test loop takes one
    submission at a time and runs every collected check on it, with the fixtures of session scope
    made and torn down per submission (`grader.plugin.run_submission`), so each submission is graded
    as in a session of its own. The terminal reporter and output capturing are off (a grading run
    prints nothing, and a long-lived capture would hold the process's file descriptors). The checks
    and options are fixed for the session's life: keep one session per set of `extra_args`. If the
    session fails, the submission at hand raises `HarnessError` and the next one starts a fresh
    session.
    """

    def __init__(
        self,
        sandbox: Sandbox,
        *,
        visibility: Literal["public", "all"] = "all",
        extra_args: tuple[str, ...] = (),
    ) -> None:
        self.sandbox = sandbox
        self._args = [
            *_arguments(visibility, extra_args, quiet=False),
            "-p",
            "no:terminal",
            "-o",
            "addopts=",  # the project's addopts are terminal options
            "--capture=no",
        ]
        self._jobs: queue.Queue[_Job | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._loop: _Loop | None = None
        self._cwd: str | None = None
        """The caller's working directory: pytest returns to its own start (the repository root)
        when its session ends, which would move every later relative path of the caller."""

    def __enter__(self) -> GradingSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        """Start pytest and collect the checks now rather than at the first `grade` (while a
        launched sandbox's template starts, say)."""
        self._running()

    def grade(
        self, path: Path, *, report_dir: Path | None = None, listener: Listener | None = None
    ) -> ScoreBook:
        """Grade the submission at `path`, as `grade(path, sandbox=...)` would; `listener` is
        told of each check in this (the caller's) thread."""
        from grader.errors import HarnessError

        loop = self._running()
        reply: queue.Queue[ScoreBook | BaseException] = queue.Queue(maxsize=1)
        queued = _Queued() if listener is not None else None
        self._jobs.put(_Job(Path(os.path.abspath(path)), report_dir, reply, queued))
        while True:
            try:
                outcome = reply.get(timeout=0.05 if queued else 1.0)
                break
            except queue.Empty:
                if queued is not None and listener is not None:
                    queued.tell(listener)
                if loop.ended.is_set() and reply.empty():
                    raise HarnessError(f"grading {path} stopped: {loop.why()}") from None
        if queued is not None and listener is not None:
            queued.tell(listener)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    def close(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            self._jobs.put(None)
            self._thread.join()
        self._thread = None
        if self._cwd is not None:
            os.chdir(self._cwd)

    def _running(self) -> _Loop:
        from grader.errors import HarnessError

        if self._loop is not None and self._thread is not None and self._thread.is_alive():
            return self._loop
        self._jobs = queue.Queue()
        loop = self._loop = _Loop(self.sandbox, self._jobs)
        self._thread = threading.Thread(
            target=loop.run, args=(self._args,), name="hw2-grading-session", daemon=True
        )
        previous = self._cwd = os.getcwd()
        os.chdir(ROOT)  # as grade() runs pytest; only while pytest starts (collection included)
        try:
            self._thread.start()
            while not (loop.ready.wait(0.05) or loop.ended.is_set()):
                pass
        finally:
            os.chdir(previous)
        if not loop.ready.is_set():
            raise HarnessError(f"the grading session did not start: {loop.why()}")
        return loop


class _Job:
    def __init__(
        self,
        path: Path,
        report_dir: Path | None,
        reply: queue.Queue[ScoreBook | BaseException],
        listener: _Queued | None = None,
    ) -> None:
        self.path, self.report_dir, self.reply = path, report_dir, reply
        self.listener = listener


class _Loop(_Telling):
    """The session's plugin: its test loop grades the submissions it is given."""

    def __init__(self, sandbox: Sandbox, jobs: queue.Queue[_Job | None]) -> None:
        self.sandbox = sandbox
        self.jobs = jobs
        self.ready = threading.Event()
        self.ended = threading.Event()
        self.errors: list[str] = []
        self.exit: object = None

    def run(self, args: list[str]) -> None:
        try:
            self.exit = pytest.main(args, plugins=[self])
        except BaseException as error:  # a failure of ours; the waiting caller is told
            self.exit = error
        finally:
            self.ended.set()

    def why(self) -> str:
        return f"{self.exit!r}" + ("".join(f"\n{e}" for e in self.errors))[-3000:]

    def pytest_configure(self, config: pytest.Config) -> None:
        config.stash[SANDBOX] = self.sandbox

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.errors.append(report.longreprtext)

    def pytest_collection_finish(self) -> None:
        freeze_imports()

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session) -> bool:
        from grader.errors import HarnessError
        from grader.plugin import run_submission

        self.ready.set()
        while (job := self.jobs.get()) is not None:
            if self.errors or not session.items:
                problem = "no checks were collected" if not self.errors else self.why()
                job.reply.put(HarnessError(f"grading {job.path} stopped: {problem}"))
                continue
            self.listener, self._told = job.listener, 0
            try:
                job.reply.put(run_submission(session, job.path, job.report_dir))
            except BaseException as error:
                job.reply.put(HarnessError(f"grading {job.path} failed: {error!r}"))
                return True  # the session's state is in doubt: the next job starts a fresh one
        return True
