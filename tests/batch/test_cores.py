"""Batch workers claim distinct cores (see grader.batch.cores), and give them back when they end."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# A worker: at most two cores allowed, claims one, says which and where it is pinned, then holds the
# claim until its stdin closes.
WORKER = """
import os, sys
allowed = sorted(os.sched_getaffinity(0))[:2]
os.sched_setaffinity(0, allowed)
from grader.batch.cores import claim_core
core = claim_core(__import__("pathlib").Path(sys.argv[1]))
print(len(allowed), core, sorted(os.sched_getaffinity(0)), flush=True)
sys.stdin.read()
"""


def _start(lock_dir: Path) -> tuple[subprocess.Popen[str], list[str]]:
    worker = subprocess.Popen(
        [sys.executable, "-c", WORKER, str(lock_dir)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert worker.stdout is not None
    return worker, worker.stdout.readline().strip().split(maxsplit=2)


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs two cores")
def test_each_worker_gets_its_own_core_until_there_are_none_left(tmp_path: Path) -> None:
    workers = []
    try:
        first, (allowed, core_a, pinned_a) = _start(tmp_path)
        second, (_, core_b, pinned_b) = _start(tmp_path)
        third, (_, core_c, pinned_c) = _start(tmp_path)
        workers = [first, second, third]

        assert allowed == "2"
        assert core_a != core_b
        assert pinned_a == f"[{core_a}]"
        assert pinned_b == f"[{core_b}]"
        assert core_c == "None"  # every core is held: this one runs unpinned
        assert pinned_c.count(",") == 1

        first.communicate("")  # the first worker ends: its core is free again
        fourth, (_, core_d, _) = _start(tmp_path)
        workers.append(fourth)
        assert core_d == core_a
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.communicate("")


def test_release_gives_the_core_back(tmp_path: Path) -> None:
    from grader.batch.cores import claim_core, release_core

    before = os.sched_getaffinity(0)
    core = claim_core(tmp_path)
    try:
        assert core is not None
        assert os.sched_getaffinity(0) == {core}
        assert claim_core(tmp_path) == core  # claiming again keeps the same core
    finally:
        release_core()
    assert os.sched_getaffinity(0) == before
    other, (_, claimed, _) = _start(tmp_path)
    other.communicate("")
    assert claimed == str(min(sorted(before)[:2]))
