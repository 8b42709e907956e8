"""The student kit (`python -m grader student-kit`): what students get for self-checks.

The template notebook, the `grader` package with the public checks only (no `grader/checks/hidden/`,
and a rubric without the hidden entries) and the staff's known-good stand-ins, so that a self-check
gives each public check the staff grade's verdict; the d2l-compatible module
`d2lcompat`, a requirements file, a README (`files/kit/README.md`), and a GitHub Actions workflow
that runs the self-check on every push (`files/kit/hw2-selfcheck.yml`), or for a GitHub Classroom
template one that grades every push (`files/classroom/hw2-grade.yml`). It holds no `reference/`.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from grader.distributions.archive import ROOT, add_file, add_packages, add_text, requirements


def build_student_kit(out: Path, *, classroom: bool = False) -> Path:
    """Write the student kit to `out` (a .zip); returns its path.

    `classroom` makes it a GitHub Classroom template: its workflow (`files/classroom/hw2-grade.yml`)
    grades every push, with the feedback as the job summary and a JUnit report as an artifact, in
    place of the self-check workflow."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(ROOT / "submissions" / "homework.ipynb", "hw2/homework.ipynb")
        add_packages(archive, "hw2/", hidden=False)
        archive.write(ROOT / "conftest.py", "hw2/conftest.py")
        add_text(archive, "hw2/requirements.txt", requirements())
        add_file(archive, "hw2/README.md", "kit/README.md")
        if classroom:
            add_file(archive, "hw2/.github/workflows/hw2-grade.yml", "classroom/hw2-grade.yml")
        else:
            add_file(archive, "hw2/.github/workflows/hw2-selfcheck.yml", "kit/hw2-selfcheck.yml")
    return out
