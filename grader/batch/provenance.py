"""What a submission's results were graded from, so that a rerun regrades exactly what changed.

Each results.json keeps its provenance: the student, the file, a digest of the bytes graded, the
grader's version, a digest of the rubric and of the checks, the check selection (`-k`), and when.
`grade` skips a submission only when all of these but the time match what would be graded now;
otherwise it regrades it and says why ("s13: notebook changed since it was graded, regraded"), so a
re-exported class with resubmissions never keeps a stale grade. The class's files are rebuilt from
every results.json in the output folder, and the provenance is what names each row's student.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Mapping
from dataclasses import asdict, astuple, dataclass
from datetime import datetime, timezone
from pathlib import Path

from grader import __version__
from grader.intake.sources import Entry
from grader.rubric import load_rubric

CHECKS = Path(__file__).resolve().parents[1] / "checks"


@dataclass(frozen=True)
class Provenance:
    student: str
    name: str
    """The student's display name (from the LMS export, or the file's name)."""
    file: str
    """Where the submission came from: a path, or `export.zip:member`."""
    digest: str
    """sha256 of the bytes graded."""
    grader: str
    rubric: str
    """sha256 of the rubric and of every check's source: a changed check changes grades."""
    select: str
    """The `-k` expression the checks were picked with; empty for every check."""
    graded_at: str = ""
    submitted_at: str = ""
    """When it was handed in, where the export says (`Entry.submitted_at`)."""
    late_by: str = ""
    """The LMS that marked it late (`Entry.late_by`)."""
    lms: str = ""
    """The export that named the student (`Entry.lms`): which LMS file its grade goes to."""

    def as_json(self) -> dict[str, str]:
        return asdict(self)


FROM_THE_EXPORT = ("name", "file", "submitted_at", "late_by", "lms")
"""What the export says of a submission beside its bytes: kept up to date without a regrade."""


def stamp(entry: Entry, data: bytes, select: tuple[str, ...]) -> Provenance:
    """The provenance of grading `data` (the bytes of `entry`) now, with the checks `select` picks."""
    return Provenance(
        student=entry.student,
        name=entry.display_name,
        file=entry.label,
        digest=hashlib.sha256(data).hexdigest(),
        grader=__version__,
        rubric=rubric_digest(),
        select=" ".join(select),
        graded_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        submitted_at=entry.submitted_at,
        late_by=entry.late_by,
        lms=entry.lms,
    )


def why_regrade(recorded: Mapping[str, object] | None, current: Provenance) -> str | None:
    """Why results with provenance `recorded` are not those grading now would give (None: they
    are); `recorded` is None for results written before provenance was kept."""
    if recorded is None:
        return "graded before the grader kept what it graded"
    if recorded.get("digest") != current.digest:
        return "notebook changed since it was graded"
    if recorded.get("grader") != current.grader:
        return f"graded by hw2-grader {recorded.get('grader')}, this is {current.grader}"
    if recorded.get("rubric") != current.rubric:
        return "the rubric or a check changed since it was graded"
    if recorded.get("select") != current.select:
        was = recorded.get("select") or "every check"
        return f"graded with other checks ({was})"
    return None


@functools.cache
def rubric_digest() -> str:
    """A digest of every check's points, item and visibility, and of the checks' source. The late
    policy is left out: it is applied when the class's files are rebuilt, with no regrade."""
    entries = sorted(astuple(entry) for entry in load_rubric().entries.values())
    digest = hashlib.sha256(repr(entries).encode())
    for path in sorted(CHECKS.rglob("*.py")):
        digest.update(path.relative_to(CHECKS).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()
