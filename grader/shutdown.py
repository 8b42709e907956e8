"""End a grading process without the interpreter's teardown, which is slow once torch is loaded.

A process that imported torch (and dynamo, which torch's optimisers pull in) spends a long time at
exit clearing its thousands of modules one by one and running the destructors of torch's libraries:
after the self-check has printed its score, the student waits for the prompt all that time, and
every batch worker pays it again after its last submission while the batch waits for it. None of it
is needed once the reports are written. So the command line ends its process with `leave`, and batch
workers with `leave_at_exit`: the exit handlers run as usual (temporary folders are removed, log
handlers flushed), the standard streams are flushed, and `os._exit` skips the rest. Where a thread
other than the main one is still running and not a daemon, `leave` exits the ordinary way: it might
be writing.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sys
import threading
from collections.abc import Callable
from typing import NoReturn

_LEAVING: list[Callable[[], None]] = []


def leave(code: int) -> NoReturn:
    """Exit with `code` after the exit handlers and a flush of stdout and stderr, skipping teardown."""
    others = [
        t
        for t in threading.enumerate()
        if t is not threading.main_thread() and t.is_alive() and not t.daemon
    ]
    if others:
        sys.exit(code)
    atexit._run_exitfuncs()
    _flush()
    os._exit(code)


def leave_at_exit(before: Callable[[], None] | None = None) -> None:
    """When this process exits the ordinary way (as a multiprocessing worker does when its pool
    shuts down), call `before` and end it at once, with status 0, skipping the teardown.

    Call it early, before the modules whose exit handlers must run are imported: handlers
    registered after this one run first, as usual; those registered before it are skipped, apart
    from `logging.shutdown`, which is called here."""
    if _LEAVING:
        return
    _LEAVING.append(before or (lambda: None))
    atexit.register(_leave_now)


def _leave_now() -> None:
    with contextlib.suppress(Exception):
        _LEAVING[0]()
    if "logging" in sys.modules:
        with contextlib.suppress(Exception):
            sys.modules["logging"].shutdown()
    _flush()
    os._exit(0)


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            if stream is not None:
                stream.flush()
