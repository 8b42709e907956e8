"""Grading a class end to end (`python -m grader grade`): intake, what is left to grade, the local
pool or Ray, each submission's reports as it finishes, then the class's files and a summary."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from grader.batch import output
from grader.batch.provenance import stamp
from grader.errors import GraderError
from grader.intake.sources import Entry, collect
from grader.reports.neutral import terminal
from grader.reports.terminal import summary_table


def grade_class(
    paths: Sequence[Path],
    out: Path,
    *,
    jobs: int = 1,
    force: bool = False,
    students: tuple[str, ...] = (),
    canvas_assignment: str = "HW2",
    select: tuple[str, ...] = (),
    executor: str = "local",
    address: str | None = None,
) -> None:
    """Grade every submission found in `paths` into `out`, printing progress and a summary.

    `students` (ids or names) picks those students' submissions alone and regrades them; the
    class's files are rebuilt from every student's results in `out` either way.

    Paths are made absolute first: grading runs pytest, which changes the process's working
    directory while it starts and when its session ends."""
    paths = [path.absolute() for path in paths]
    out = out.absolute()
    if jobs < 1:
        raise GraderError(f"invalid --jobs {jobs} from the command line: use 1 or more")
    intake = collect(paths, skip=out)
    entries = intake.entries
    if students:
        entries = tuple(e for e in entries if {e.student, e.display_name} & set(students))
        missing = set(students) - {n for e in entries for n in (e.student, e.display_name)}
        if missing:
            raise GraderError(
                f"no submission of {', '.join(sorted(missing))} in {', '.join(map(str, paths))} "
                f"(from --student): the students found are {', '.join(e.student for e in intake.entries[:10])}"
                f"{' ...' if len(intake.entries) > 10 else ''}"
            )
    queued = output.prepare(out, entries, force=force or bool(students), select=select)
    print(
        f"{len(entries)} submissions: {len(entries) - len(queued)} already graded, "
        f"{len(queued)} to grade with {jobs} job(s)",
        flush=True,
    )
    for entry, reason in queued:
        if reason:
            print(terminal(f"{entry.student}: {reason}, regraded"), flush=True)
    pending = [entry for entry, _ in queued]
    started = time.monotonic()
    if executor == "ray":
        graded = _grade_on_ray(pending, out, jobs, select, address)
    else:
        from grader.batch.local import grade_locally

        graded = grade_locally(pending, out, jobs, select)
    for count, (entry, line) in enumerate(graded, start=1):
        elapsed = time.monotonic() - started
        eta = elapsed / count * (len(pending) - count)
        print(
            f"[{count}/{len(pending)}] {100 * count // len(pending)}% eta {eta:4.0f}s  {terminal(f'{entry.student}: {line}')}",
            flush=True,
        )
    problems = [f"{p.kind}: {p.label}: {p.message}" for p in intake.problems]
    books = output.write_class_reports(
        out, intake.entries, problems, canvas_assignment=canvas_assignment
    )
    print(summary_table(books))
    written = [name for name in output.CLASS_FILES if (out / name).exists()]
    found = len((out / "problems.txt").read_text(encoding="utf-8").splitlines())
    print(f"reports in {out}: {', '.join(written)} ({found} problem(s))")


def _grade_on_ray(
    pending: list[Entry], out: Path, jobs: int, select: tuple[str, ...], address: str | None
) -> Iterator[tuple[Entry, str]]:
    """Grade on Ray; this trusted driver writes every report as the results come back."""
    from grader.batch.on_ray import grade_on_ray

    submissions = [(entry.name, output.read_or_empty(entry)) for entry in pending]
    for index, book in grade_on_ray(submissions, address=address, workers=jobs, select=select):
        graded = stamp(pending[index], submissions[index][1], select)
        try:
            line = output.write_submission_reports(out, pending[index], book, graded)
        except Exception as error:
            line = output.record_failure(out, pending[index], error)
        yield pending[index], line
