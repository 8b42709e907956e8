"""Distributions built from this repository: the student kit and the Gradescope autograder bundle.

* The student kit (`student-kit`) is what students get for self-checks: the template notebook, the
  `grader` package with the public checks only (no `grader/checks/hidden/`, no known-good stand-ins,
  and a rubric without the hidden entries), the d2l-compatible module (part of `grader`), a
  requirements file, a README, and a GitHub Actions workflow that runs the self-check on every push.
  It holds no `reference/`.
* The Gradescope bundle (`gradescope-bundle`) holds `setup.sh`, `run_autograder` and the grader with
  every check; `run_autograder` grades the submission in the trusted parent process, which alone
  writes /autograder/results/results.json.
"""

from __future__ import annotations

import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GRADER = ROOT / "grader"

KIT_README = """\
# HW2 self-check kit

1. `pip install -r requirements.txt` (Python 3.11; on Linux also install `bubblewrap` for the sandbox).
2. Fill in `homework.ipynb`.
3. `python -m grader check homework.ipynb`: every public check, your points per item, and for each
   failure what was checked, with which input, expected vs got, and a hint. Exit status 0 when all
   public checks pass.

Your notebook runs in a separate, sandboxed process; nothing is downloaded. The staff grade with
more checks than these (hidden ones), so passing here is necessary, not sufficient.
`.github/workflows/hw2-selfcheck.yml` runs the same self-check on every push of your repository.
"""

WORKFLOW = """\
name: hw2 self-check
on: [push, pull_request]
jobs:
  self-check:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "3.11"
      - name: Install the sandbox and the grader's requirements
        run: |
          sudo apt-get update && sudo apt-get install -y bubblewrap
          python -m pip install -r requirements.txt
      - name: Self-check the notebook (public checks)
        run: python -m grader check homework.ipynb --summary "$GITHUB_STEP_SUMMARY"
"""

SETUP_SH = """\
#!/usr/bin/env bash
# Gradescope runs this once when it builds the autograder image.
set -euo pipefail
apt-get update && apt-get install -y python3 python3-pip python3-venv bubblewrap
python3 -m venv /autograder/venv
/autograder/venv/bin/pip install -r /autograder/source/requirements.txt
# The property checks' examples, drawn once into the image (each submission would spend 1 s on them).
cd /autograder/source
HW2_GRADER_CACHE=/autograder/plans /autograder/venv/bin/python -m grader plans
"""

RUN_AUTOGRADER = """\
#!/usr/bin/env bash
# Gradescope runs this for every submission; the trusted grading process writes results.json.
set -uo pipefail
cd /autograder/source
export HW2_GRADER_CACHE=/autograder/plans
/autograder/venv/bin/python -m grader gradescope-run /autograder/submission \\
    --results /autograder/results/results.json
"""


def requirements() -> str:
    """requirements.txt for a distribution: the project's own dependencies, from pyproject.toml."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    header = "# torch and torchvision: any build for your machine (CPU is enough)\n"
    return header + "".join(f"{dependency}\n" for dependency in project["dependencies"])


def _grader_files(*, hidden: bool) -> list[Path]:
    """The grader package's source files, without caches, and without the hidden checks and the
    known-good stand-ins unless `hidden`."""
    files = []
    for path in sorted(GRADER.rglob("*")):
        relative = path.relative_to(GRADER)
        if not path.is_file() or "__pycache__" in relative.parts or path.suffix == ".pyc":
            continue
        if not hidden and (
            relative.parts[:2] == ("checks", "hidden") or relative.name == "substitutes.py"
        ):
            continue
        files.append(path)
    return files


def public_rubric() -> str:
    """rubric.toml without its hidden entries (their names and points stay with the staff)."""
    data = tomllib.loads((GRADER / "rubric.toml").read_text(encoding="utf-8"))
    lines = ["# The public checks' points (the staff grade with more checks than these).", ""]
    for item, checks in data.items():
        public = {
            name: spec
            for name, spec in checks.items()
            if spec.get("visibility", "public") == "public"
        }
        if public:
            lines.append(f"[{item}]")
            lines += [
                f'{name} = {{ points = {spec["points"]}, visibility = "public" }}'
                for name, spec in public.items()
            ]
            lines.append("")
    return "\n".join(lines)


def _add_grader(archive: zipfile.ZipFile, prefix: str, *, hidden: bool) -> None:
    for path in _grader_files(hidden=hidden):
        name = f"{prefix}grader/{path.relative_to(GRADER).as_posix()}"
        if path.name == "rubric.toml" and not hidden:
            archive.writestr(name, public_rubric())
        else:
            archive.write(path, name)


def _add_text(archive: zipfile.ZipFile, name: str, text: str, *, executable: bool = False) -> None:
    info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
    info.external_attr = (0o755 if executable else 0o644) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, text)


def build_student_kit(out: Path) -> Path:
    """Write the student kit to `out` (a .zip); returns its path."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(ROOT / "submissions" / "homework.ipynb", "hw2/homework.ipynb")
        _add_grader(archive, "hw2/", hidden=False)
        archive.write(ROOT / "conftest.py", "hw2/conftest.py")
        _add_text(archive, "hw2/requirements.txt", requirements())
        _add_text(archive, "hw2/README.md", KIT_README)
        _add_text(archive, "hw2/.github/workflows/hw2-selfcheck.yml", WORKFLOW)
    return out


def build_gradescope_bundle(out: Path) -> Path:
    """Write the Gradescope autograder bundle to `out` (a .zip); returns its path."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        _add_text(archive, "setup.sh", SETUP_SH, executable=True)
        _add_text(archive, "run_autograder", RUN_AUTOGRADER, executable=True)
        _add_grader(archive, "", hidden=True)
        archive.write(ROOT / "conftest.py", "conftest.py")
        _add_text(archive, "requirements.txt", requirements())
    return out
