"""`python -m grader` (or `hw2-grader`): self-check a notebook, or grade a class.

Argument parsing and exit codes only, with one call per command: `grader.selfcheck.check`,
`grader.batch.run.grade_class`, `grader.replay` for the plans, `grader.distributions` for the kit
and the Gradescope bundle and run. Every command grades with `grader.grading`, the same pytest
session as `pytest grader --submission NOTEBOOK`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from grader import __version__
from grader.errors import GraderError
from grader.reports.neutral import terminal
from grader.shutdown import leave

EXIT_CODES = """exit status:
  0  check: every public check passed; grade: the batch was graded (whatever the scores)
  1  check: some public checks failed
  2  the command could not run (bad arguments, a file that is not a notebook, a fault of the grader)
  130  interrupted (Ctrl-C)"""


def run() -> NoReturn:
    """The process's entry point (`python -m grader`, `hw2-grader`): `main`, then a quick exit
    (`grader.shutdown`) once this process's sandbox is closed."""
    code = main()
    from grader.batch.local import close_worker

    close_worker()
    leave(code)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.handler(args)
    except GraderError as error:
        print(f"error: {terminal(str(error))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        why = (
            "nothing was saved; check again when you are ready"
            if args.command == "check"
            else "graded submissions are kept; run the same command again to resume"
        )
        print(f"\ninterrupted: {why}", file=sys.stderr)
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
    check.add_argument(
        "--junit",
        type=Path,
        metavar="FILE",
        help="also write a JUnit XML report to FILE, a test case per check (for CI)",
    )
    check.add_argument(
        "--json",
        action="store_true",
        dest="as_json",
        help='print only the scores as JSON: {"items": {"corr2d": {"score": 8, "max_score": 8}, '
        '...}, "score": ..., "max_score": ...}',
    )
    check.set_defaults(handler=run_check)

    grade = commands.add_parser(
        "grade",
        help="grade notebooks, folders or LMS zip exports with every check, into a report folder",
        description="Grade every submission found in PATHs (notebooks, folders, Canvas/Moodle/Gradescope "
        "zip exports) with all checks, hidden ones included. Writes OUT/<student>/results.json and "
        "feedback.md and feedback.html, then OUT/gradebook.csv, OUT/summary.html, OUT/junit.xml and "
        "OUT/problems.txt. A rerun skips the submissions already graded, unless the file, the "
        "grader, the rubric or the checks changed since (use --force to regrade all, --student "
        "ID to regrade one). The class's files always list every student graded into OUT.",
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
        "--student",
        action="append",
        metavar="ID",
        help="grade only this student's submission (an id or a name; repeat for more), regraded "
        "even if graded; the class's files still list every student in DIR",
    )
    grade.add_argument(
        "--canvas-assignment",
        default="HW2",
        metavar="NAME",
        help="the assignment column of canvas.csv; Canvas's own name for it, as its gradebook "
        'export writes it ("HW2 (98765)"), updates that assignment (default: HW2)',
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
    grade.add_argument(
        "--similarity",
        action="store_true",
        help="also compare the submissions with each other (as the similarity command does)",
    )
    _similarity_options(grade)
    grade.set_defaults(handler=run_grade)

    similarity = commands.add_parser(
        "similarity",
        help="rank the pairs of a class by the code and written answers they share, book excluded",
        description="Compare every pair of submissions found in PATHs on what is their own: code "
        "(names, numbers, strings, comments and formatting ignored) and written answers, after "
        "removing what is in the book (the template, reference/, the homework text) and what is "
        "common to the class. Writes OUT/similarity.html (ranked pairs with the shared fragments "
        "side by side, and what is normal for the class) and OUT/similarity.csv. Runs no code.",
    )
    similarity.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    similarity.add_argument(
        "--out", required=True, type=Path, metavar="DIR", help="the report folder"
    )
    _similarity_options(similarity)
    similarity.set_defaults(handler=run_similarity)

    plans = commands.add_parser(
        "plans",
        help="draw the property checks' examples ahead and keep them (for an image or a CI cache)",
        description="Draw the examples Hypothesis tries on each property check and keep them in the "
        "plan cache ($HW2_GRADER_CACHE, else ~/.cache/hw2-grader/plans), so that the next grading "
        "process reads them instead of drawing them. Grades nothing.",
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
    kit.add_argument(
        "--classroom",
        action="store_true",
        help="a GitHub Classroom template instead: its workflow grades every push of a student's "
        "repository (job summary and JUnit report) rather than offering a self-check",
    )
    kit.set_defaults(handler=lambda a: _built(build_student_kit(a.out, classroom=a.classroom)))

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


def _similarity_options(parser: argparse.ArgumentParser) -> None:
    from grader.similarity.compare import Settings

    default = Settings()
    parser.add_argument(
        "--threshold",
        type=float,
        default=default.threshold,
        metavar="SCORE",
        help="flag pairs whose similarity score reaches SCORE, 0 to 1 "
        f"(default {default.threshold})",
    )
    parser.add_argument(
        "--book",
        action="append",
        type=Path,
        default=[],
        metavar="FILE",
        help="also treat FILE (a notebook, .py or text) as starter material every student may use; "
        "repeat for more",
    )


def _check_threshold(args: argparse.Namespace) -> None:
    if not 0 < args.threshold <= 1:
        raise GraderError(f"invalid --threshold {args.threshold}: use a score above 0 and up to 1")


def run_similarity(args: argparse.Namespace) -> int:
    from grader.similarity.compare import Settings
    from grader.similarity.run import compare_class

    _check_threshold(args)
    compare_class(args.paths, args.out, settings=Settings(threshold=args.threshold), book=args.book)
    return 0


def _built(path: Path) -> int:
    print(f"wrote {path}")
    return 0


def build_student_kit(out: Path, *, classroom: bool = False) -> Path:
    from grader.distributions.kit import build_student_kit as build

    return build(out, classroom=classroom)


def build_gradescope_bundle(out: Path) -> Path:
    from grader.distributions.gradescope import build_gradescope_bundle as build

    return build(out)


def run_gradescope(args: argparse.Namespace) -> int:
    from grader.distributions.gradescope import grade_upload
    from grader.sandbox.isolation import require_bubblewrap

    require_bubblewrap("gradescope-run")

    print(terminal(grade_upload(args.folder, args.results, _select(args.select))))
    return 0


def run_plans(args: argparse.Namespace) -> int:
    from grader.grading import draw_plans
    from grader.replay.cache import folder

    where = folder()
    if where is None:
        raise GraderError("the plan cache is off (HW2_GRADER_CACHE=off): nothing to keep")
    planned = draw_plans()
    kept = sum(1 for _ in where.glob("*.plan")) if where.is_dir() else 0
    print(f"{len(planned)} property checks planned; {kept} plans in {where}")
    return 0


def run_check(args: argparse.Namespace) -> int:
    from grader.selfcheck import check

    return check(
        args.notebook,
        extra_args=_select(args.select),
        summary=args.summary,
        junit=args.junit,
        as_json=args.as_json,
    )


def run_grade(args: argparse.Namespace) -> int:
    from grader.batch.run import grade_class
    from grader.sandbox.isolation import require_bubblewrap

    if args.similarity:
        _check_threshold(args)  # before the class is graded, not after
    isolation = require_bubblewrap("grade")
    print(f"isolation: {isolation.describe()}", flush=True)
    if isolation.mode != "bubblewrap" and sys.stderr.isatty():
        print(
            f"warning: grading below bubblewrap ({isolation.mode}, as HW2_GRADER_ISOLATION asks): "
            "student code can read the grader's files; every report says so",
            file=sys.stderr,
        )

    grade_class(
        args.paths,
        args.out,
        jobs=args.jobs,
        force=args.force,
        students=tuple(args.student or ()),
        canvas_assignment=args.canvas_assignment,
        select=_select(args.select),
        executor=args.executor,
        address=args.address,
    )
    if args.similarity:
        return run_similarity(args)
    return 0


def _select(expression: str | None) -> tuple[str, ...]:
    return ("-k", expression) if expression else ()


if __name__ == "__main__":
    sys.exit(main())
