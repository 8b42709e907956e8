"""Batch throughput: `python -m grader grade` on a Canvas zip of N correct notebooks (every check), with
1 and 2 workers, and 1 worker confined to one core; the peak memory of the largest process in the run
(a worker or a child).

One worker is not one core: its sandbox's template starts on the other core while it collects the
checks, and its children run there while it waits. So the scaling per core compares two workers
with one worker confined to one core (`[1-one-core]`, as each of two pinned workers is). Each run
also records when its first result came (the start-up a batch pays once) and its steady rate: the
seconds per notebook from the second result to the last.

N is 50 unless HW2_BENCH_NOTEBOOKS says otherwise; each round is one full batch, so this takes minutes.
"""

import os
import resource
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOLVED = ROOT / "submissions" / "solved.ipynb"
COUNT = int(os.environ.get("HW2_BENCH_NOTEBOOKS", "50"))


@pytest.fixture(scope="module")
def class_zip(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("batch") / "canvas.zip"
    data = SOLVED.read_bytes()
    with zipfile.ZipFile(path, "w") as archive:
        for i in range(COUNT):
            archive.writestr(f"student{i:03d}_{1000 + i}_{5000 + i}_hw2.ipynb", data)
    return path


def one_core() -> None:
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})


@pytest.mark.parametrize("how", ["1", "2", "1-one-core"])
def test_batch_of_notebooks(benchmark, class_zip: Path, tmp_path: Path, how: str) -> None:
    jobs = how.split("-")[0]
    results: list[float] = []  # seconds from the start to each result line

    def run() -> None:
        out = tmp_path / f"out-{how}"
        command = [
            sys.executable,
            "-m",
            "grader",
            "grade",
            str(class_zip),
            "--out",
            str(out),
            "--jobs",
            jobs,
            "--force",
        ]
        started = time.monotonic()
        with subprocess.Popen(
            command,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            preexec_fn=one_core if how.endswith("one-core") else None,
        ) as grading:
            assert grading.stdout is not None
            for line in grading.stdout:
                if line.startswith("["):
                    results.append(time.monotonic() - started)
        assert grading.returncode == 0

    benchmark.pedantic(run, rounds=1, iterations=1)

    assert len(results) == COUNT
    seconds = benchmark.stats.stats.median
    benchmark.extra_info["notebooks"] = COUNT
    benchmark.extra_info["notebooks_per_minute"] = round(COUNT / seconds * 60, 1)
    benchmark.extra_info["first_result_seconds"] = round(results[0], 2)
    benchmark.extra_info["steady_seconds_per_notebook"] = round(
        (results[-1] - results[1]) / (COUNT - 2), 3
    )
    benchmark.extra_info["peak_rss_mb"] = round(
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    )
