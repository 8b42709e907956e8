"""A student's self-check as they wait for it: `python -m grader check NOTEBOOK` on the solved
notebook, a fresh process each round (start-up, the sandbox's template, the public checks, the exit).
A first, untimed round keeps the example plans (`grader.replay.cache`), as a student's first self-check
does for the next ones.

Run with `pytest benchmarks` (or `tox -e bench`).
"""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOLVED = ROOT / "submissions" / "solved.ipynb"


def test_self_check_of_a_correct_notebook(benchmark) -> None:
    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "grader", "check", str(SOLVED)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=600,
        )

    done = benchmark.pedantic(run, rounds=3, iterations=1, warmup_rounds=1)

    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "total 91.5 / 91.5 (public checks)" in done.stdout


def test_a_second_self_check_in_a_notebook_session(benchmark, capsys) -> None:
    """`check()` from a notebook cell after a fix: the sandbox and the grading session are warm
    (the first, untimed check started them), so a round is the public checks alone."""
    from grader import inline

    inline.check(notebook=SOLVED)  # the student's first check: starts the sandbox and session

    report = benchmark.pedantic(
        lambda: inline.check(notebook=SOLVED), rounds=5, iterations=1, warmup_rounds=1
    )

    capsys.readouterr()
    assert report.score == report.max_score == 91.5
