"""Find the submissions in files, folders and LMS bulk downloads, and name each by its student.

Accepts notebooks and `.py` files, folders of them (searched recursively), and `.zip` archives as
Canvas, Moodle and Gradescope export them:

* Canvas: `doejohn_12345_67890_hw2.ipynb` (`doejohn_late_...` for late ones; a resubmission adds `-1`
  before the extension): the student is the user id, 12345.
* Moodle: `Jane Doe_123456_assignsubmission_file_/hw2.ipynb`: the student is the participant id.
* Gradescope: `submission_987654/hw2.ipynb`, with `submission_metadata.yml` naming the submitters: the
  student is the submitter's sid (else email, else the submission folder).
* anything else: the file's name without its extension.

Several notebooks for one student are reported (as `resubmitted` when they are Canvas's versions of one
file, else as a duplicate) and the latest one (highest Canvas submission and resubmission number, else
last by name) is graded; files that are not notebooks are
reported as unknown; operating-system clutter (`__MACOSX/`, `.DS_Store`, `.ipynb_checkpoints/`) is
skipped. Archives are read in memory, member by member, with a size cap, never extracted to disk.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from grader.errors import UnreadableSubmission
from grader.intake.submission import MAX_SUBMISSION_BYTES

SUBMISSION_SUFFIXES = (".ipynb", ".py")
MAX_ARCHIVE_MEMBERS = 20_000
_CLUTTER = re.compile(
    r"(^|/)(__MACOSX|\.ipynb_checkpoints|\.git)/|(^|/)(\.DS_Store|Thumbs\.db|desktop\.ini)$"
)
_CANVAS = re.compile(
    r"^(?P<name>[^_/]+?)(?P<late>_late)?_(?P<user>\d+)_(?P<submission>\d+)_(?P<file>.+?)(?:-(?P<resubmission>\d+))?(?P<suffix>\.[^.]+)$",
    re.IGNORECASE,
)
_MOODLE = re.compile(r"^(?P<name>.+)_(?P<id>\d+)_assign(?:submission|feedback)_\w+?_?$")
_GRADESCOPE = re.compile(r"^submission_(?P<id>\d+)$")
_GRADESCOPE_METADATA = "submission_metadata.yml"


@dataclass(frozen=True)
class Entry:
    """One submission to grade: its student, a label saying where it came from, and how to read it."""

    student: str
    display_name: str
    label: str
    name: str
    path: Path
    member: str | None = None
    order: tuple[int, int, str] = (0, 0, "")
    submitted_at: str = ""
    """When it was handed in (ISO 8601 with an offset), where the export says: Gradescope's."""
    late_by: str = ""
    """The LMS that marked it late without a time (Canvas's `_late_`), else empty."""
    lms: str = ""
    """The export that named the student: `canvas`, `moodle`, `gradescope`, or empty."""

    def read(self) -> bytes:
        """The file's bytes; raises UnreadableSubmission when it cannot be read or is too large."""
        try:
            if self.member is None:
                if self.path.stat().st_size > MAX_SUBMISSION_BYTES:
                    raise UnreadableSubmission(self.name, "it is larger than a notebook can be")
                return self.path.read_bytes()
            with zipfile.ZipFile(self.path) as archive, archive.open(self.member) as member:
                data = member.read(MAX_SUBMISSION_BYTES + 1)
        except (OSError, zipfile.BadZipFile, RuntimeError, ValueError) as error:
            raise UnreadableSubmission(self.name, f"it could not be read ({error})") from None
        if len(data) > MAX_SUBMISSION_BYTES:
            raise UnreadableSubmission(self.name, "it is larger than a notebook can be")
        return data


ProblemKind = Literal["unreadable", "unknown", "duplicate", "resubmitted"]


@dataclass(frozen=True)
class IntakeProblem:
    """Something found while collecting that is not graded, or graded with a caveat."""

    label: str
    kind: ProblemKind
    message: str


@dataclass(frozen=True)
class Intake:
    """The submissions to grade, one per student, and what was found besides."""

    entries: tuple[Entry, ...]
    problems: tuple[IntakeProblem, ...]


def collect(paths: Sequence[Path], skip: Path | None = None) -> Intake:
    """Every submission under `paths` (files, folders, zip archives), one per student; nothing
    under the folder `skip` (the report folder, when it lies inside a class's folder)."""
    found: list[Entry] = []
    problems: list[IntakeProblem] = []
    skipped = skip.resolve() if skip is not None else None
    for path in paths:
        if path.is_dir():
            for file in sorted(p for p in path.rglob("*") if p.is_file()):
                relative = file.relative_to(path).as_posix()
                if skipped is not None and file.resolve().is_relative_to(skipped):
                    continue
                if not _CLUTTER.search(relative):
                    _collect_file(file, relative, found, problems)
        elif path.exists():
            _collect_file(path, path.name, found, problems)
        else:
            problems.append(IntakeProblem(str(path), "unreadable", "no such file or folder"))
    return Intake(_one_per_student(found, problems), tuple(problems))


def _collect_file(
    path: Path, relative: str, found: list[Entry], problems: list[IntakeProblem]
) -> None:
    if path.suffix.lower() == ".zip":
        _collect_archive(path, found, problems)
    elif path.suffix.lower() in SUBMISSION_SUFFIXES:
        found.append(_entry(relative, path, None, {}))
    elif relative.rsplit("/", 1)[-1] != _GRADESCOPE_METADATA:
        problems.append(_unknown(str(path)))


def _collect_archive(path: Path, found: list[Entry], problems: list[IntakeProblem]) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            members = [m for m in archive.infolist() if not m.is_dir()]
            if len(members) > MAX_ARCHIVE_MEMBERS:
                problems.append(
                    IntakeProblem(
                        path.name, "unreadable", f"it holds {len(members)} files, too many"
                    )
                )
                return
            metadata = _gradescope_metadata(archive)
            for info in members:
                label = f"{path.name}:{info.filename}"
                if _CLUTTER.search(info.filename) or info.filename.endswith(_GRADESCOPE_METADATA):
                    continue
                if not info.filename.lower().endswith(SUBMISSION_SUFFIXES):
                    problems.append(_unknown(label))
                elif info.flag_bits & 0x1:
                    problems.append(IntakeProblem(label, "unreadable", "it is encrypted"))
                elif info.file_size > MAX_SUBMISSION_BYTES:
                    problems.append(
                        IntakeProblem(label, "unreadable", "it is larger than a notebook can be")
                    )
                else:
                    found.append(_entry(info.filename, path, info.filename, metadata, label))
    except (OSError, zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError) as error:
        problems.append(
            IntakeProblem(path.name, "unreadable", f"it is not a readable zip archive ({error})")
        )


def _unknown(label: str) -> IntakeProblem:
    return IntakeProblem(
        label, "unknown", "not a notebook (.ipynb) or Python file (.py): not graded"
    )


def _entry(
    relative: str,
    path: Path,
    member: str | None,
    metadata: dict[str, tuple[str, str]],
    label: str | None = None,
) -> Entry:
    """An entry named after its student, read from the LMS's naming of `relative`."""
    parts = PurePosixPath(relative).parts
    file_name = parts[-1]
    label = label or str(path)
    for folder in parts[:-1]:
        if moodle := _MOODLE.match(folder):
            return Entry(moodle["id"], moodle["name"], label, file_name, path, member, lms="moodle")
        if gradescope := _GRADESCOPE.match(folder):
            student, created = metadata.get(folder, (folder, ""))
            order = (int(gradescope["id"]), 0, "")
            return Entry(
                student, student, label, file_name, path, member, order, created, lms="gradescope"
            )
    if canvas := _CANVAS.match(file_name):
        # The file's own name without Canvas's resubmission number: versions of one file share it.
        own_name = canvas["file"] + canvas["suffix"]
        order = (int(canvas["submission"]), int(canvas["resubmission"] or 0), own_name)
        late = "Canvas" if canvas["late"] else ""
        return Entry(
            canvas["user"],
            canvas["name"],
            label,
            file_name,
            path,
            member,
            order,
            "",
            late,
            "canvas",
        )
    stem = file_name.rsplit(".", 1)[0]
    return Entry(stem, stem, label, file_name, path, member, (0, 0, relative))


def _gradescope_metadata(archive: zipfile.ZipFile) -> dict[str, tuple[str, str]]:
    """submission folder -> the first submitter's sid (or email) and when it was created (ISO
    8601, or empty), from Gradescope's metadata file."""
    names = [n for n in archive.namelist() if n.endswith(_GRADESCOPE_METADATA)]
    if not names:
        return {}
    try:
        import yaml

        with archive.open(names[0]) as file:
            data: Any = yaml.safe_load(file.read(4 * 2**20))
    except Exception:  # a malformed metadata file only loses the mapping to student ids
        return {}
    mapping: dict[str, tuple[str, str]] = {}
    if isinstance(data, dict):
        for folder, info in data.items():
            try:
                submitter = info[":submitters"][0]
                student = str(submitter.get(":sid") or submitter[":email"])
            except (KeyError, IndexError, TypeError, AttributeError):
                continue
            mapping[str(folder)] = (student, _instant(info.get(":created_at")))
    return mapping


def _instant(value: object) -> str:
    """A submission time as ISO 8601 with an offset (YAML reads Gradescope's as a datetime or a
    string); empty when there is none or it has no offset (a time without one is ambiguous)."""
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value).strip())
        except ValueError:
            return ""
    return moment.isoformat() if moment.tzinfo is not None else ""


def _one_per_student(found: Iterable[Entry], problems: list[IntakeProblem]) -> tuple[Entry, ...]:
    by_student: dict[str, list[Entry]] = {}
    for entry in found:
        by_student.setdefault(entry.student, []).append(entry)
    chosen = []
    for student, entries in by_student.items():
        entries.sort(key=lambda e: (e.name.lower().endswith(".ipynb"), e.order, e.label))
        latest = entries[-1]
        chosen.append(latest)
        if len(entries) > 1:
            others = ", ".join(e.label for e in entries[:-1])
            if all(e.lms == "canvas" and e.order[2] == latest.order[2] for e in entries):
                # Canvas keeps each resubmission of one file: a note, not a problem to solve.
                kind: ProblemKind = "resubmitted"
                message = f"student {student} resubmitted {len(entries) - 1} time(s); graded the latest, {latest.label}, not {others}"
            else:
                kind = "duplicate"
                message = f"student {student} handed in {len(entries)} files; graded {latest.label}, not {others}"
            problems.append(IntakeProblem(latest.label, kind, message))
    return tuple(chosen)
