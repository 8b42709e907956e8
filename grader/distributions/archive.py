"""What both distributions pack: our code for the grading side, the public rubric, requirements.

Each distribution holds the `grader` package, the d2l-compatible module `d2lcompat` (the child
imports it, and so does a student's `from d2l import torch as d2l`) and `hw2check` (the self-check
from a notebook cell), never `reference/`. The files
a distribution adds of its own (a README, scripts, a workflow) are kept as files in `files/`.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from grader import tomlreader
from grader.rubric import INTEGRITY, LATE

ROOT = Path(__file__).resolve().parents[2]
GRADER = ROOT / "grader"
D2L = ROOT / "d2lcompat"
HW2CHECK = ROOT / "hw2check"
FILES = Path(__file__).resolve().parent / "files"


def dependencies() -> list[str]:
    """The project's own dependencies, from pyproject.toml."""
    project = tomlreader.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return list(project["dependencies"])


def requirements() -> str:
    """requirements.txt for a distribution: the project's own dependencies."""
    header = "# torch and torchvision: any build for your machine (CPU is enough)\n"
    return header + "".join(f"{dependency}\n" for dependency in dependencies())


def package_files(*, hidden: bool) -> list[tuple[Path, str]]:
    """(file, name in the archive) for our packages, without caches and
    the distributions' own files, and without the hidden checks unless `hidden`.

    The known-good stand-ins go everywhere: without them a self-check would grade `VGG` with the
    student's own `vgg_block` and disagree with the staff grade, and they hold only the book's code,
    which the homework text prints."""
    files = []
    for package in (GRADER, D2L, HW2CHECK):
        for path in sorted(package.rglob("*")):
            relative = path.relative_to(package)
            if not path.is_file() or "__pycache__" in relative.parts or path.suffix == ".pyc":
                continue
            if package == GRADER and relative.parts[:2] == ("distributions", "files"):
                continue
            if not hidden and package == GRADER and relative.parts[:2] == ("checks", "hidden"):
                continue
            files.append((path, f"{package.name}/{relative.as_posix()}"))
    return files


def public_rubric() -> str:
    """rubric.toml without its hidden entries (their names and points stay with the staff), nor
    the late policy (applied by staff to a class's grades)."""
    data = tomlreader.loads((GRADER / "rubric.toml").read_text(encoding="utf-8"))
    data.pop(LATE, None)
    integrity = data.pop(INTEGRITY, None)
    lines = ["# The public checks' points (the staff grade with more checks than these).", ""]
    if isinstance(integrity, dict):  # the self-check applies the "from scratch" rules too
        lines.append(f"[{INTEGRITY}]")
        lines += [f"{k} = {json.dumps(v)}" for k, v in integrity.items() if k != "forbidden"]
        lines += ["", f"[{INTEGRITY}.forbidden]"]
        lines += [f"{k} = {json.dumps(v)}" for k, v in integrity.get("forbidden", {}).items()]
        lines.append("")
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


def add_packages(archive: zipfile.ZipFile, prefix: str, *, hidden: bool) -> None:
    """Our packages into `archive` under `prefix` (the rubric without hidden entries unless `hidden`)."""
    for path, name in package_files(hidden=hidden):
        if name == "grader/rubric.toml" and not hidden:
            archive.writestr(prefix + name, public_rubric())
        else:
            archive.write(path, prefix + name)


def add_text(archive: zipfile.ZipFile, name: str, text: str, *, executable: bool = False) -> None:
    info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
    info.external_attr = (0o755 if executable else 0o644) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, text)


def add_file(archive: zipfile.ZipFile, name: str, source: str, *, executable: bool = False) -> None:
    """One of `files/` (named relative to it) into `archive` as `name`."""
    add_text(archive, name, (FILES / source).read_text(encoding="utf-8"), executable=executable)
