"""`python -m grader` (or `hw2-grader`): self-check a notebook, or grade a class.

Argument parsing, progress and exit codes only; the grading itself is `grader.grading.grade`, the same
pytest session as `pytest grader --submission NOTEBOOK`, and the reports are `grader.report`'s.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from multiprocessing import get_context
from pathlib import Path
from typing import Any, NoReturn

from grader import __version__
from grader.affinity import claim_core
from grader.collect import Entry, collect
from grader.errors import GraderError
from grader.quickexit import leave, leave_at_exit
from grader.scoring import CheckResult, ScoreBook, by_item, total

EXIT_CODES = """exit status:
  0  check: every public check passed; grade: the batch was graded (whatever the scores)
  1  check: some public checks failed
  2  the command could not run (bad arguments, unreadable paths, a fault of the grader)"""


def run() -> NoReturn:
    """The process's entry point (`python -m grader`, `hw2-grader`): `main`, then a quick exit
    (`grader.quickexit`) once this process's sandbox is closed."""
    code = main()
    close_sessions()
    leave(code)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.handler(args)
    except GraderError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            "\ninterrupted: graded submissions are kept; run the same command again to resume",
            file=sys.stderr,
        )
        return 130
    return code


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hw2-grader",
        description="Grade the CNN homework (d2l 7.1-7.6, 8.2, 8.6); student code runs in a sandbox.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"hw2-grader {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    check = commands.add_parser(
        "check",
        help="self-check a notebook with the public checks and print what failed",
        description="Run the public checks on your notebook and print, per item, your points and what "
        "failed, with a hint. Exit status 0 when every public check passes.",
    )
    check.add_argument("notebook", type=Path, help="your notebook (.ipynb) or Python file")
    check.add_argument(
        "-k", dest="select", metavar="EXPR", help="only checks whose names match (pytest -k)"
    )
    check.add_argument(
        "--summary",
        type=Path,
        metavar="FILE",
        help="also append the feedback as Markdown to FILE (e.g. $GITHUB_STEP_SUMMARY)",
    )
    check.set_defaults(handler=run_check)

    grade = commands.add_parser(
        "grade",
        help="grade notebooks, folders or LMS zip exports with every check, into a report folder",
        description="Grade every submission found in PATHs (notebooks, folders, Canvas/Moodle/Gradescope "
        "zip exports) with all checks, hidden ones included. Writes OUT/<student>/results.json and "
        "feedback.md and feedback.html, then OUT/gradebook.csv, OUT/summary.html, OUT/junit.xml and "
        "OUT/problems.txt. A rerun skips the "
        "submissions already graded (use --force to regrade).",
    )
    grade.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    grade.add_argument("--out", required=True, type=Path, metavar="DIR", help="the report folder")
    grade.add_argument(
        "--jobs", type=int, default=1, metavar="N", help="grade N submissions at once (default 1)"
    )
    grade.add_argument(
        "--force", action="store_true", help="regrade submissions already graded in DIR"
    )
    grade.add_argument(
        "--executor",
        choices=("local", "ray"),
        default="local",
        help="local: worker processes on this machine (default); ray: actors on a Ray cluster",
    )
    grade.add_argument(
        "--address",
        metavar="ADDR",
        help="with --executor ray: the cluster to join (default: start a local one)",
    )
    grade.add_argument(
        "-k", dest="select", metavar="EXPR", help="only checks whose names match (pytest -k)"
    )
    grade.set_defaults(handler=run_grade)

    plans = commands.add_parser(
        "plans",
        help="draw the property checks' examples ahead and keep them (for an image or a CI cache)",
        description="Draw the examples Hypothesis tries on each property check and keep them in the "
        "plan cache ($HW2_GRADER_CACHE, else ~/.cache/hw2-grader/plans), so that the next grading "
        "process reads them instead of drawing them (about 1 s). Grades nothing.",
    )
    plans.set_defaults(handler=run_plans)

    kit = commands.add_parser(
        "student-kit",
        help="build the zip students get: template, public checks, d2l module, CI workflow",
        description="Build the self-check kit for students: the template notebook, the grader with the "
        "public checks only, the d2l-compatible module, requirements, and a GitHub Actions workflow. "
        "No reference solutions and no hidden checks.",
    )
    kit.add_argument("--out", required=True, type=Path, metavar="FILE", help="the kit's .zip file")
    kit.set_defaults(handler=lambda a: _built(build_student_kit(a.out)))

    bundle = commands.add_parser(
        "gradescope-bundle",
        help="build Gradescope's autograder zip (setup.sh, run_autograder, every check)",
        description="Build the autograder zip to upload to Gradescope. run_autograder grades each "
        "submission with every check; results.json is written by the grading process itself.",
    )
    bundle.add_argument(
        "--out", required=True, type=Path, metavar="FILE", help="the bundle's .zip file"
    )
    bundle.set_defaults(handler=lambda a: _built(build_gradescope_bundle(a.out)))

    run = commands.add_parser(
        "gradescope-run",
        help="(used by run_autograder) grade the notebook in a Gradescope submission folder",
        description="Grade the notebook found in FOLDER (Gradescope's /autograder/submission) with every "
        "check and write Gradescope's results.json.",
    )
    run.add_argument("folder", type=Path, metavar="FOLDER")
    run.add_argument("--results", required=True, type=Path, metavar="FILE")
    run.add_argument(
        "-k", dest="select", metavar="EXPR", help="only checks whose names match (pytest -k)"
    )
    run.set_defaults(handler=run_gradescope)
    return parser


def _built(path: Path) -> int:
    print(f"wrote {path}")
    return 0


def build_student_kit(out: Path) -> Path:
    from grader.kit import build_student_kit as build

    return build(out)


def build_gradescope_bundle(out: Path) -> Path:
    from grader.kit import build_gradescope_bundle as build

    return build(out)


def run_gradescope(args: argparse.Namespace) -> int:
    from grader.grading import grade
    from grader.report import results_json, write_atomically

    found = collect([args.folder])
    if not found.entries:
        raise GraderError(f"no notebook (.ipynb) or Python file in {args.folder}")
    entry = found.entries[0]
    with tempfile.TemporaryDirectory(prefix="hw2-gradescope-") as scratch:
        path = Path(scratch) / Path(entry.name).name
        path.write_bytes(entry.read())
        book = grade(path, extra_args=_select(args.select))
    write_atomically(args.results, results_json(book))
    summary = total(book.results)
    print(f"{entry.name}: {summary.points:g} / {summary.max_points:g}")
    return 0


# check


def run_plans(args: argparse.Namespace) -> int:
    from grader.grading import draw_plans
    from grader.plancache import folder

    where = folder()
    if where is None:
        raise GraderError("the plan cache is off (HW2_GRADER_CACHE=off): nothing to keep")
    planned = draw_plans()
    kept = sum(1 for _ in where.glob("*.plan")) if where.is_dir() else 0
    print(f"{len(planned)} property checks planned; {kept} plans in {where}")
    return 0


def run_check(args: argparse.Namespace) -> int:
    from grader.grading import grade

    if not args.notebook.is_file():
        raise GraderError(f"{args.notebook} is not a file")
    book = grade(args.notebook, visibility="public", extra_args=_select(args.select))
    print(terminal_summary(book))
    if args.summary is not None:
        from grader.report import feedback_markdown

        with args.summary.open("a", encoding="utf-8") as summary:
            summary.write(feedback_markdown(book, title=f"HW2 self-check: {args.notebook.name}"))
    failed = [r for r in book.results if r.outcome in ("failed", "timeout", "missing")]
    if book.results and all(r.outcome == "not_graded" for r in book.results):
        raise GraderError(
            "no check could be graded: the grader itself failed (see the messages above)"
        )
    return 1 if failed else 0


def terminal_summary(book: ScoreBook) -> str:
    lines = []
    results_by_item: dict[str, list[CheckResult]] = {}
    for result in book.results:
        results_by_item.setdefault(result.item, []).append(result)
    for item, item_total in by_item(book.results).items():
        if item_total.max_points == 0:
            mark = "n/g "
        else:
            mark = "ok  " if item_total.points == item_total.max_points else "FAIL"
        lines.append(f"{mark} {item:26s} {item_total.points:5g} / {item_total.max_points:g}")
        for r in results_by_item[item]:
            if r.outcome in ("failed", "timeout", "missing"):
                lines.append(f"     - {r.description}")
                lines += [f"       {line}" for line in r.message.splitlines()[:12]]
    summary = total(book.results)
    lines.append(f"total {summary.points:g} / {summary.max_points:g} (public checks)")
    if summary.not_graded:
        lines.append(
            f"{summary.not_graded} check(s) could not be graded (a grader problem; they do not count)"
        )
    return "\n".join(lines)


def _select(expression: str | None) -> tuple[str, ...]:
    return ("-k", expression) if expression else ()


# grade


def student_folder(out: Path, entry: Entry) -> Path:
    return out / re.sub(r"[^\w.@-]+", "_", entry.student).strip("._")[:100]


def run_grade(args: argparse.Namespace) -> int:
    from grader.report import discard_unfinished_writes, write_atomically

    if args.jobs < 1:
        raise GraderError(f"invalid --jobs {args.jobs} from the command line: use 1 or more")
    intake = collect(args.paths)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    # a killed run's half-written reports (no worker of this run is writing yet)
    for folder in {out, *(student_folder(out, e) for e in intake.entries)}:
        discard_unfinished_writes(folder)
    done = [e for e in intake.entries if (student_folder(out, e) / "results.json").exists()]
    pending = [e for e in intake.entries if args.force or e not in done]
    print(
        f"{len(intake.entries)} submissions: {len(intake.entries) - len(pending)} already graded, "
        f"{len(pending)} to grade with {args.jobs} job(s)",
        flush=True,
    )
    select = _select(args.select)
    started = time.monotonic()
    if args.executor == "ray":
        graded = _grade_on_ray(pending, out, args.jobs, select, args.address)
    else:
        graded = _grade_all(pending, out, args.jobs, select)
    for count, (entry, line) in enumerate(graded, start=1):
        elapsed = time.monotonic() - started
        eta = elapsed / count * (len(pending) - count)
        print(
            f"[{count}/{len(pending)}] {100 * count // len(pending)}% eta {eta:4.0f}s  {entry.student}: {line}",
            flush=True,
        )
    problems = [f"{p.kind}: {p.label}: {p.message}" for p in intake.problems]
    write_atomically(out / "problems.txt", "".join(f"{p}\n" for p in problems))
    books = _write_class_reports(out, intake.entries, problems)
    print(summary_table(books))
    print(
        f"reports in {out}: gradebook.csv, summary.html, junit.xml, problems.txt ({len(problems)} problem(s))"
    )
    return 0


def _grade_on_ray(
    pending: list[Entry], out: Path, jobs: int, select: tuple[str, ...], address: str | None
) -> Any:
    """Grade on Ray; this trusted driver writes every report as the results come back."""
    from grader.distributed import grade_on_ray

    submissions = [(entry.name, read_or_empty(entry)) for entry in pending]
    for index, book in grade_on_ray(submissions, address=address, workers=jobs, select=select):
        yield pending[index], write_submission_reports(out, pending[index], book)


def _grade_all(pending: list[Entry], out: Path, jobs: int, select: tuple[str, ...]) -> Any:
    if jobs == 1 or len(pending) <= 1:
        for entry in pending:
            yield entry, grade_entry(entry, out, select)
        return
    with ProcessPoolExecutor(
        max_workers=jobs, mp_context=get_context("spawn"), initializer=start_worker
    ) as pool:
        futures: dict[Future[str], Entry] = {
            pool.submit(grade_entry, e, out, select): e for e in pending
        }
        remaining = set(futures)
        while remaining:
            finished, remaining = wait(remaining, return_when=FIRST_COMPLETED)
            for future in finished:
                yield futures[future], future.result()


def start_worker() -> None:
    """A batch worker's start: a core of its own (`claim_core`), and when the pool shuts it down,
    its sandbox closed and a quick exit (`grader.quickexit`)."""
    claim_core()
    leave_at_exit(close_sessions)


_SESSIONS: dict[tuple[str, ...], Any] = {}


def close_sessions() -> None:
    """Close this process's grading sessions and their sandbox (see `grade_entry`)."""
    sandboxes = {id(s.sandbox): s.sandbox for s in _SESSIONS.values()}
    for session in _SESSIONS.values():
        session.close()
    for sandbox in sandboxes.values():
        sandbox.close()
    _SESSIONS.clear()


def grade_entry(entry: Entry, out: Path, select: tuple[str, ...] = ()) -> str:
    """Grade one submission into out/<student>/ (results.json last, so it marks the work done).

    A worker keeps one warm sandbox and one grading session (see `GradingSession`) for its life."""
    from grader.grading import GradingSession, settle
    from grader.sandbox import Sandbox

    first = select not in _SESSIONS
    if first:
        shared = next(iter(_SESSIONS.values())).sandbox if _SESSIONS else None
        sandbox = shared or Sandbox()
        session = GradingSession(sandbox, extra_args=select)
        try:
            sandbox.launch()  # its template imports torch while the session collects the checks
            session.start()
            sandbox.start()  # a sandbox that cannot start stops the batch here, before any report
        except BaseException:
            session.close()
            if shared is None:
                sandbox.close()
            raise
        _SESSIONS[select] = session
    with tempfile.TemporaryDirectory(prefix="hw2-entry-") as scratch:
        path = Path(scratch) / Path(entry.name).name
        path.write_bytes(read_or_empty(entry))
        book = _SESSIONS[select].grade(path)
    if first:
        settle()
    return write_submission_reports(out, entry, book)


def read_or_empty(entry: Entry) -> bytes:
    """The entry's bytes; empty (graded as unreadable, the reason in every check) if it cannot be read."""
    try:
        return entry.read()
    except GraderError:
        return b""


def write_submission_reports(out: Path, entry: Entry, book: ScoreBook) -> str:
    """out/<student>/feedback.md, feedback.html, then results.json (which marks the work done)."""
    from grader.report import feedback_html, feedback_markdown, results_json, write_atomically

    folder = student_folder(out, entry)
    book.submission = entry.label
    title = f"HW2 feedback for {entry.display_name}"
    write_atomically(folder / "feedback.md", feedback_markdown(book, title=title))
    write_atomically(folder / "feedback.html", feedback_html(book, title=title))
    write_atomically(folder / "results.json", results_json(book))
    summary = total(book.results)
    return f"{summary.points:g} / {summary.max_points:g}"


def summary_table(books: dict[str, ScoreBook]) -> str:
    """One line per student: total, and the items that lost points."""
    lines = [f"{'student':24s} {'score':>9s}  items that lost points"]
    for student, book in books.items():
        summary = total(book.results)
        lost = [item for item, t in by_item(book.results).items() if t.points < t.max_points]
        lines.append(
            f"{student[:24]:24s} {summary.points:4g}/{summary.max_points:<4g}  {', '.join(lost) or '-'}"
        )
    return "\n".join(lines)


def _write_class_reports(
    out: Path, entries: Sequence[Entry], problems: Sequence[str]
) -> dict[str, ScoreBook]:
    from grader.report import gradebook_csv, junit_xml, summary_html, write_atomically
    from grader.submission import HOMEWORK_ITEMS

    rows = []
    books = {}
    for entry in entries:
        path = student_folder(out, entry) / "results.json"
        book = load_results(path) if path.exists() else None
        rows.append((entry.student, entry.display_name, book))
        if book is not None:
            books[entry.student] = book
    write_atomically(out / "gradebook.csv", gradebook_csv(rows, HOMEWORK_ITEMS))
    write_atomically(out / "junit.xml", junit_xml(books))
    write_atomically(out / "summary.html", summary_html(books, problems))
    return books


def load_results(path: Path) -> ScoreBook:
    """A ScoreBook back from a results.json this grader wrote."""
    data = json.loads(path.read_text(encoding="utf-8"))
    results = [CheckResult(**fields) for fields in data["extra_data"]["checks"]]
    return ScoreBook(submission=str(path.parent.name), results=results)


if __name__ == "__main__":
    sys.exit(main())
