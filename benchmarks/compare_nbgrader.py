"""Side by side with nbgrader: grade the same correct notebooks with `nbgrader autograde` and with
`python -m grader grade`, and report the ratio of their per-notebook times.

    .venv/bin/python benchmarks/compare_nbgrader.py [--notebooks N] [--venv DIR]

nbgrader is installed into its own virtual environment (default `benchmarks/.nbgrader-venv`, made on
first use with `pip install nbgrader ipykernel`). Its kernel sees this project's packages (torch, and
`d2l` as our stand-in) through a .pth file, so both graders run the same notebooks on the same
libraries; nbgrader executes every cell (the Fashion-MNIST training cells fail fast without the data),
while this grader runs only the definitions and its checks. Results go to `benchmarks/nbgrader.json`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOLVED = ROOT / "submissions" / "solved.ipynb"


def ensure_nbgrader(venv: Path) -> Path:
    """The venv's bin folder, with nbgrader and ipykernel installed and this project's packages visible."""
    bin_dir = venv / "bin"
    if not (bin_dir / "nbgrader").exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(bin_dir / "pip"), "install", "-q", "nbgrader", "ipykernel"], check=True)
    shim = venv / "d2l-shim" / "d2l"
    shim.mkdir(parents=True, exist_ok=True)
    (shim / "__init__.py").write_text("from d2lcompat import torch\n")
    site = subprocess.run(
        [
            str(bin_dir / "python"),
            "-c",
            "import sysconfig; print(sysconfig.get_paths()['purelib'])",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    ours = sysconfig.get_paths()["purelib"]
    (Path(site) / "hw2_grader_project.pth").write_text(f"{ours}\n{ROOT}\n{shim.parent}\n")
    return bin_dir


def time_nbgrader(bin_dir: Path, count: int) -> float:
    """Seconds for `nbgrader autograde` of `count` copies of the solved notebook."""
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    nbgrader = str(bin_dir / "nbgrader")
    with tempfile.TemporaryDirectory(prefix="nbgrader-course-") as course:
        root = Path(course)
        (root / "nbgrader_config.py").write_text(
            f"c = get_config()\nc.CourseDirectory.root = {str(root)!r}\nc.ExecutePreprocessor.timeout = 600\n"
        )
        (root / "source" / "hw2").mkdir(parents=True)
        shutil.copy(SOLVED, root / "source" / "hw2" / "hw2.ipynb")
        _run([nbgrader, "generate_assignment", "hw2", "--force"], root, env)
        for i in range(count):
            folder = root / "submitted" / f"student{i:03d}" / "hw2"
            folder.mkdir(parents=True)
            shutil.copy(root / "release" / "hw2" / "hw2.ipynb", folder / "hw2.ipynb")
        started = time.perf_counter()
        _run([nbgrader, "autograde", "hw2", "--create", "--force"], root, env)
        seconds = time.perf_counter() - started
        graded = len(list((root / "autograded").glob("*/hw2/hw2.ipynb")))
        if graded != count:
            raise SystemExit(f"nbgrader autograded {graded} of {count} notebooks")
        return seconds


def _run(command: list[str], cwd: Path, env: dict[str, str]) -> None:
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(
            f"{' '.join(command[1:3])} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        )


def time_ours(count: int) -> float:
    """Seconds for `python -m grader grade` (every check, one worker) of `count` copies."""
    with tempfile.TemporaryDirectory(prefix="hw2-compare-") as scratch:
        folder = Path(scratch) / "class"
        folder.mkdir()
        for i in range(count):
            shutil.copy(SOLVED, folder / f"student{i:03d}.ipynb")
        started = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "grader",
                "grade",
                str(folder),
                "--out",
                str(Path(scratch) / "out"),
            ],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notebooks", type=int, default=10)
    parser.add_argument("--venv", type=Path, default=ROOT / "benchmarks" / ".nbgrader-venv")
    args = parser.parse_args()
    bin_dir = ensure_nbgrader(args.venv)
    nbgrader_seconds = time_nbgrader(bin_dir, args.notebooks)
    our_seconds = time_ours(args.notebooks)
    result = {
        "notebooks": args.notebooks,
        "nbgrader_seconds_per_notebook": round(nbgrader_seconds / args.notebooks, 2),
        "hw2_grader_seconds_per_notebook": round(our_seconds / args.notebooks, 2),
        "ratio_nbgrader_to_hw2_grader": round(nbgrader_seconds / our_seconds, 2),
        "note": "nbgrader executes every cell of each notebook in a fresh kernel; hw2-grader runs the "
        "definitions and all 64 checks in a sandboxed child forked from a warm template. Both times "
        "include their start-up (a kernel per notebook; one template for the batch).",
    }
    (ROOT / "benchmarks" / "nbgrader.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
