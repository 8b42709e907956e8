"""The local executor of `grade`: submissions graded one at a time in this process, or N at a time
in worker processes (`--jobs N`), each with one `Worker` for its life."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from multiprocessing import get_context
from pathlib import Path

from grader.batch.output import read_or_empty, record_failure, write_submission_reports
from grader.batch.provenance import stamp
from grader.batch.worker import Worker
from grader.intake.sources import Entry
from grader.shutdown import leave_at_exit

_WORKERS: list[Worker] = []
"""This process's worker, once it has one."""


def grade_locally(
    pending: Sequence[Entry], out: Path, jobs: int, select: tuple[str, ...]
) -> Iterator[tuple[Entry, str]]:
    """Grade `pending` into `out`; yields (entry, its progress line) as each finishes."""
    if jobs == 1 or len(pending) <= 1:
        try:
            for entry in pending:
                yield entry, grade_entry(entry, out, select)
        finally:
            close_worker()
        return
    with ProcessPoolExecutor(
        max_workers=jobs, mp_context=get_context("spawn"), initializer=start_worker
    ) as pool:
        futures: dict[Future[str], Entry] = {
            pool.submit(grade_entry, e, out, select): e for e in pending
        }
        remaining = set(futures)
        while remaining:
            finished, remaining = wait(remaining, return_when=FIRST_COMPLETED)
            for future in finished:
                yield futures[future], future.result()


def start_worker() -> None:
    """A pool process's start: its worker on a core of its own (`grader.batch.cores`), its template
    launched; at the pool's shutdown, the worker closed and a quick exit (`grader.shutdown`)."""
    worker = Worker(pin=True)
    _WORKERS.append(worker)
    worker.launch()
    leave_at_exit(close_worker)


def grade_entry(entry: Entry, out: Path, select: tuple[str, ...] = ()) -> str:
    """Grade one submission into out/<student>/ (results.json last, so it marks the work done).

    A worker that cannot start stops the batch (every submission would fail the same way). Any
    other error while one submission is graded or its reports are written is recorded for that
    submission alone (`record_failure`), and the worker is replaced, so the batch goes on."""
    if not _WORKERS:
        _WORKERS.append(Worker(pin=False))  # grading in the command's own process
    worker = _WORKERS[0]
    worker.start(select)
    try:
        data = read_or_empty(entry)
        book = worker.grade(entry.name, data, select)
        return write_submission_reports(out, entry, book, stamp(entry, data, select))
    except Exception as error:
        close_worker()
        return record_failure(out, entry, error)


def close_worker() -> None:
    while _WORKERS:
        _WORKERS.pop().close()
