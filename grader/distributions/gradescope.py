"""The Gradescope autograder: its bundle (`gradescope-bundle`) and its run (`gradescope-run`).

The bundle holds `setup.sh` and `run_autograder` (kept as files in `files/gradescope/`), the grader
with every check, and `d2lcompat`. `run_autograder` calls `gradescope-run`, which grades the
uploaded submission in the trusted parent process, which alone writes results.json.
"""

from __future__ import annotations

import tempfile
import zipfile
from pathlib import Path

from grader.distributions.archive import ROOT, add_file, add_packages, add_text, requirements
from grader.errors import GraderError
from grader.intake.sources import collect
from grader.scoring import total


def build_gradescope_bundle(out: Path) -> Path:
    """Write the Gradescope autograder bundle to `out` (a .zip); returns its path."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        add_file(archive, "setup.sh", "gradescope/setup.sh", executable=True)
        add_file(archive, "run_autograder", "gradescope/run_autograder", executable=True)
        add_packages(archive, "", hidden=True)
        archive.write(ROOT / "conftest.py", "conftest.py")
        add_text(archive, "requirements.txt", requirements())
    return out


def grade_upload(folder: Path, results: Path, extra_args: tuple[str, ...] = ()) -> str:
    """Grade the submission uploaded into `folder` and write Gradescope's results.json to
    `results`; returns a line for the log ("name: points / max")."""
    from grader.grading import grade
    from grader.reports.results import results_json
    from grader.reports.writing import write_atomically

    found = collect([folder])
    if not found.entries:
        raise GraderError(f"no notebook (.ipynb) or Python file in {folder}")
    entry = found.entries[0]
    with tempfile.TemporaryDirectory(prefix="hw2-gradescope-") as scratch:
        path = Path(scratch) / Path(entry.name).name
        path.write_bytes(entry.read())
        book = grade(path, extra_args=extra_args)
    write_atomically(results, results_json(book))
    summary = total(book.results)
    return f"{entry.name}: {summary.points:g} / {summary.max_points:g}"
