"""Batch throughput: `python -m grader grade` on a Canvas zip of N correct notebooks (every check), with
1 and 2 workers, and the peak memory of the largest process in the run (a worker or a child).

N is 50 unless HW2_BENCH_NOTEBOOKS says otherwise; each round is one full batch, so this takes minutes.
"""

import os
import resource
import subprocess
import sys
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


@pytest.mark.parametrize("jobs", [1, 2])
def test_batch_of_notebooks(benchmark, class_zip: Path, tmp_path: Path, jobs: int) -> None:
    def run() -> None:
        out = tmp_path / f"out-{jobs}"
        command = [
            sys.executable,
            "-m",
            "grader",
            "grade",
            str(class_zip),
            "--out",
            str(out),
            "--jobs",
            str(jobs),
            "--force",
        ]
        subprocess.run(command, cwd=ROOT, check=True, capture_output=True, timeout=3600)

    benchmark.pedantic(run, rounds=1, iterations=1)

    seconds = benchmark.stats.stats.median
    benchmark.extra_info["notebooks"] = COUNT
    benchmark.extra_info["notebooks_per_minute"] = round(COUNT / seconds * 60, 1)
    benchmark.extra_info["peak_rss_mb"] = round(
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    )
