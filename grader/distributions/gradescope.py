"""The Gradescope autograder: its bundle (`gradescope-bundle`) and its run (`gradescope-run`).

The bundle holds `setup.sh` and `run_autograder` (kept as files in `files/gradescope/`), the grader
with every check, and `d2lcompat`. `run_autograder` calls `gradescope-run`, which grades the
uploaded submission in the trusted parent process, which alone writes results.json.
"""

from __future__ import annotations

import json
import tempfile
import zipfile
from collections.abc import Sequence
from pathlib import Path

from grader.distributions.archive import ROOT, add_file, add_packages, add_text, requirements
from grader.errors import SubmissionError
from grader.intake.sources import Entry, collect
from grader.intake.submission import parse_submission
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


TEMPLATE_NAMES = ("homework.ipynb", "hw2.ipynb")
"""Upload names that say "this is the homework": the template's own, and the kit's suggestion."""


def grade_upload(folder: Path, results: Path, extra_args: tuple[str, ...] = ()) -> str:
    """Grade the submission uploaded into `folder` and write Gradescope's results.json to
    `results`, whatever was uploaded; returns a line for the log ("name: points / max").

    Clutter (`.ipynb_checkpoints/`, `__MACOSX/`) is ignored by intake. With several notebooks or
    Python files, the one named like the template is graded, else the one that defines the most
    homework items; results.json's `output` says which file was graded and why. An upload with
    none scores 0 with a message saying what was found."""
    from grader.grading import grade
    from grader.reports.results import results_json
    from grader.reports.writing import write_atomically

    found = collect([folder])
    if not found.entries:
        seen = sorted(str(path.relative_to(folder)) for path in folder.rglob("*") if path.is_file())
        why = (
            f"Nothing was graded: your upload holds no notebook (.ipynb) ({', '.join(seen[:10])})."
            if seen
            else "Nothing was graded: your upload is empty."
        )
        write_atomically(results, _empty_results(why + " Upload your homework notebook."))
        return f"{folder}: no notebook, 0"
    entry, why = _choose(found.entries, folder)
    with tempfile.TemporaryDirectory(prefix="hw2-gradescope-") as scratch:
        path = Path(scratch) / Path(entry.name).name
        path.write_bytes(entry.read())
        book = grade(path, extra_args=extra_args)
    heading = f"Graded {_shown(entry, folder)}{why}."
    write_atomically(results, results_json(book, heading=heading))
    summary = total(book.results)
    return f"{_shown(entry, folder)}: {summary.points:g} / {summary.max_points:g}"


def _shown(entry: Entry, folder: Path) -> str:
    """The file as the student uploaded it (`hw2.ipynb`, `hw2.zip:hw2/homework.ipynb`)."""
    try:
        name = str(entry.path.relative_to(folder))
    except ValueError:
        name = entry.path.name
    return f"{name}:{entry.member}" if entry.member else name


def _choose(entries: Sequence[Entry], folder: Path) -> tuple[Entry, str]:
    """The entry to grade among several, and why it (empty for a single one)."""
    if len(entries) == 1:
        return entries[0], ""
    labels = ", ".join(sorted(_shown(e, folder) for e in entries))
    named = [e for e in entries if Path(e.name).name.lower() in TEMPLATE_NAMES]
    if named:
        return named[
            0
        ], f" (of {len(entries)} files uploaded: {labels}; it is named like the homework)"

    def items(entry: Entry) -> int:
        try:
            return len(parse_submission(entry.read(), Path(entry.name).name).definitions)
        except SubmissionError:
            return -1

    best = max(entries, key=lambda e: (items(e), _shown(e, folder)))
    return best, (
        f" (of {len(entries)} files uploaded: {labels}; it defines the most homework items)"
    )


def _empty_results(output: str) -> str:
    """results.json for an upload with nothing to grade: 0 of the rubric's maximum."""
    from grader.rubric import load_rubric

    return (
        json.dumps(
            {
                "score": 0.0,
                "max_score": load_rubric().total(),
                "output": output,
                "tests": [],
                "extra_data": {"status": "nothing uploaded"},
            },
            indent=2,
            sort_keys=True,
        )
        + "\n"
    )
