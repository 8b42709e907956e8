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

from grader import __version__
from grader.distributions.archive import (
    ROOT,
    add_file,
    add_packages,
    add_text,
    dependencies,
    requirements,
)

D2L_SHIM = '''"""`from d2l import torch as d2l`, as the homework's notebook begins, without the d2l package
(which pins old numpy and pandas and downloads data): the book's code the homework uses, from
`d2lcompat`, as the grader runs it."""

import d2lcompat

d2lcompat.install()  # `d2l` and `d2l.torch` are now d2lcompat's
'''

NOTEBOOK_EXTRA = ["notebook>=7", "ipykernel>=6.25"]
"""`pip install ".[notebook]"`: Jupyter, for students who have none."""


def kit_pyproject() -> str:
    """pyproject.toml that makes the kit's folder a package: `pip install .` installs the grader
    with the public checks, `hw2check`, `d2lcompat` and the `d2l` shim."""
    listed = "".join(f"    {dependency!r},\n" for dependency in dependencies())
    extra = ", ".join(repr(d) for d in NOTEBOOK_EXTRA)
    return f'''# The HW2 self-check as a package: `python -m pip install ".[notebook]"` in this folder.
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "hw2-selfcheck"
version = "{__version__}"
description = "Self-check for the CNN homework (public checks); student code runs in a sandbox"
requires-python = ">=3.10"
dependencies = [
{listed}]

[project.optional-dependencies]
notebook = [{extra}]

[project.scripts]
hw2-check = "grader.cli:run"

[tool.setuptools.packages.find]
include = ["grader*", "d2lcompat*", "hw2check*", "d2l*"]

[tool.setuptools.package-data]
grader = ["rubric.toml", "checks/reference_losses.json", "reports/templates/*.html"]
'''


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
        add_text(archive, "hw2/pyproject.toml", kit_pyproject())
        add_text(archive, "hw2/d2l/__init__.py", D2L_SHIM)
        add_file(archive, "hw2/README.md", "kit/README.md")
        if classroom:
            add_file(archive, "hw2/.github/workflows/hw2-grade.yml", "classroom/hw2-grade.yml")
        else:
            add_file(archive, "hw2/.github/workflows/hw2-selfcheck.yml", "kit/hw2-selfcheck.yml")
    return out
