"""One batch worker: a warm sandbox and a grading session per check selection, for its life.

The local pool (`grader.batch.local`) runs one in each worker process and Ray (`grader.batch.on_ray`)
one in each actor: a submission's bytes in, its ScoreBook out, and nothing written. The worker
launches its sandbox's template first and collects the checks while the template imports torch;
it waits for the template before its first submission, so that a sandbox that cannot start stops
the worker there, before any report, with what it launched closed.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from grader import grading
from grader.batch.cores import claim_core
from grader.sandbox import launcher
from grader.scoring import ScoreBook

if TYPE_CHECKING:
    from grader.sandbox.launcher import Sandbox


class Worker:
    """Grades submission after submission with one warm sandbox (see the module's docstring)."""

    def __init__(self, *, pin: bool = True) -> None:
        if pin:
            claim_core()  # before the sandbox starts, so that its children share the core
        self._sandbox: Sandbox | None = None
        self._sessions: dict[tuple[str, ...], grading.GradingSession] = {}
        self.graded = 0

    def launch(self) -> None:
        """Start the template's import of torch now (it is waited for at the first submission)."""
        if self._sandbox is None:
            self._sandbox = launcher.Sandbox()
            self._sandbox.launch()

    def start(self, select: tuple[str, ...] = ()) -> grading.GradingSession:
        """The session for `select`, started if need be (a sandbox or a session that cannot start
        raises)."""
        return self._sessions.get(select) or self._start(select)

    def grade(self, name: str, data: bytes, select: tuple[str, ...] = ()) -> ScoreBook:
        """Grade the submission `data` (a file named `name`) with the checks `select` picks."""
        session = self.start(select)
        with tempfile.TemporaryDirectory(prefix="hw2-worker-") as scratch:
            path = Path(scratch) / Path(name).name
            path.write_bytes(data)
            book = session.grade(path)
        self.graded += 1
        if self.graded == 1:
            grading.settle()
        return book

    def close(self) -> None:
        for session in self._sessions.values():
            session.close()
        self._sessions.clear()
        if self._sandbox is not None:
            self._sandbox.close()
            self._sandbox = None

    def _start(self, select: tuple[str, ...]) -> grading.GradingSession:
        fresh_sandbox = self._sandbox is None
        self.launch()
        assert self._sandbox is not None
        session = grading.GradingSession(self._sandbox, extra_args=select)
        try:
            session.start()
            self._sandbox.start()  # a sandbox that cannot start stops the worker here
        except BaseException:
            session.close()
            if fresh_sandbox or not self._sessions:
                self._sandbox.close()
                self._sandbox = None
            raise
        self._sessions[select] = session
        return session
