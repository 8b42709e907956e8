"""The pytest plugin that turns `pytest grader --submission NOTEBOOK` into a grading run.

It adds the `grader` options, registers the markers, prints the submission and the isolation in force
in the report header, and classifies every check of `grader/checks/` into an outcome with points from
the rubric: a failed assertion or a `SubmissionError` costs the check; anything else (our fault) makes
it "not graded", which costs nothing and is shown to staff. Reports are written at the end of the
session when `--grade-report DIR` is given. Torch is never imported here; the checks import it.
"""

from __future__ import annotations

import traceback
from pathlib import Path
from typing import Any

import pytest

from grader.checking import determinism, profiles
from grader.errors import (
    MissingDefinition,
    SubmissionError,
    SubmissionTimedOut,
    UnreadableSubmission,
)
from grader.policy import integrity
from grader.policy.integrity import IntegrityPolicy
from grader.rubric import Rubric, load_integrity, load_rubric
from grader.scoring import CheckResult, Outcome, ScoreBook

SUBMISSION_HELP = "the notebook (.ipynb) or Python file to grade"
REPORT_HELP = "write the results (results.json, Gradescope's format) into this folder"
REPLAY_HELP = (
    "run property checks through Hypothesis's engine for every submission instead of replaying "
    "the examples it drew once (slower, same verdicts)"
)
VISIBILITY_HELP = (
    "public: only the checks students may run (self-check); all: every check (default)"
)

SCOREBOOK = pytest.StashKey[ScoreBook]()
RUBRIC = pytest.StashKey[Rubric]()
INTEGRITY = pytest.StashKey[IntegrityPolicy | None]()
"""The rubric's "from scratch" rules (`grader.policy.integrity`), or None."""
CASES = pytest.StashKey[dict[str, int]]()
"""How many collected cases each check (by function name) has: a parametrized check's points are shared."""
SANDBOX = pytest.StashKey[Any]()
"""A warm `Sandbox` provided by the caller (the CLI, the tests), reused instead of starting one."""
LAUNCHED = pytest.StashKey[Any]()
"""The `Sandbox` this run launched itself (see `pytest_sessionstart`), closed when the run ends."""

CHECKS_DIR = Path(__file__).resolve().parent / "checks"
NOT_GRADED_MESSAGE = "This check could not be graded; your instructor has been notified."


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("grader", "hw2-grader")
    group.addoption("--submission", metavar="PATH", help=SUBMISSION_HELP)
    group.addoption("--grade-report", metavar="DIR", help=REPORT_HELP)
    group.addoption("--visibility", choices=("public", "all"), default="all", help=VISIBILITY_HELP)
    group.addoption("--no-example-plans", action="store_true", help=REPLAY_HELP)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: trains a model or builds a large one (seconds)")
    config.addinivalue_line("markers", "gpu: needs a CUDA device; skipped (not graded) without one")
    config.stash[SCOREBOOK] = ScoreBook(submission=str(config.getoption("submission") or ""))
    config.stash[RUBRIC] = load_rubric()
    config.stash[INTEGRITY] = load_integrity()
    profiles.load()
    determinism.pin_constant_pool()  # before any check draws an example


def pytest_sessionstart(session: pytest.Session) -> None:
    """A run that grades a submission with no sandbox of the caller's (stashed when the plugins
    were configured), as `pytest grader --submission NB` is, launches its own now, before
    collection: the template imports torch, which is slow, while this process collects the
    checks."""
    config = session.config
    if not config.getoption("submission") or SANDBOX in config.stash:
        return
    from grader.sandbox.launcher import launched

    sandbox = launched()
    if sandbox is not None:
        config.stash[SANDBOX] = config.stash[LAUNCHED] = sandbox


def pytest_unconfigure(config: pytest.Config) -> None:
    sandbox = config.stash.get(LAUNCHED, None)
    if sandbox is not None:
        sandbox.close()


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    if config.getoption("visibility") == "public" and _is_hidden(collection_path):
        return True
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run (and report) the checks in the homework's order of items; count parametrized cases."""
    from grader.intake.submission import HOMEWORK_ITEMS

    rubric = config.stash[RUBRIC]
    order = {item: index for index, item in enumerate(HOMEWORK_ITEMS)}

    def position(item: pytest.Item) -> int:
        entry = rubric.entry(getattr(item, "originalname", item.name)) if is_check(item) else None
        return order.get(entry.item, len(order)) if entry else len(order)

    items.sort(key=position)
    cases: dict[str, int] = {}
    for item in items:
        if is_check(item):
            name = getattr(item, "originalname", item.name)
            cases[name] = cases.get(name, 0) + 1
    config.stash[CASES] = cases


def _is_hidden(path: Path) -> bool:
    return path.resolve().is_relative_to(CHECKS_DIR / "hidden")


IS_CHECK = pytest.StashKey[bool]()


def is_check(item: pytest.Item) -> bool:
    """Whether `item` is one of the homework's checks (not one of the grader's own tests)."""
    if IS_CHECK not in item.stash:
        item.stash[IS_CHECK] = Path(str(item.path)).resolve().is_relative_to(CHECKS_DIR)
    return item.stash[IS_CHECK]


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """A property check whose planned examples all pass is done (see `grader.replay.plans`); any other
    check, and one with a failing example, is run as usual (by Hypothesis, which then shrinks)."""
    from grader.replay import plans as replay

    config = pyfuncitem.config
    test = pyfuncitem.obj
    if (
        not config.getoption("submission")
        or config.getoption("no_example_plans")
        or not is_check(pyfuncitem)
        or not replay.is_property(test)
    ):
        return None
    fixtures = {name: pyfuncitem.funcargs[name] for name in replay.fixture_names(test)}
    # Plans kept on disk only where student code cannot reach the cache: under bubblewrap.
    sandbox = config.stash.get(SANDBOX, None)
    on_disk = sandbox is not None and sandbox.isolation.mode == "bubblewrap"
    return True if replay.passes(test, fixtures, on_disk=on_disk) else None


def pytest_report_header(config: pytest.Config) -> list[str]:
    submission = config.getoption("submission")
    if not submission:
        return []
    lines = [
        f"grader: submission {submission}",
        f"grader: visibility {config.getoption('visibility')}",
    ]
    sandbox = config.stash.get(SANDBOX, None)
    if sandbox is not None:
        lines.append(f"grader: isolation {sandbox.describe()}")
    else:
        from grader.sandbox import isolation

        lines.append(f"grader: isolation {isolation.detect(isolation.preferred()).describe()}")
    return lines


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if not is_check(item) or not item.config.getoption("submission"):
        return report
    book = item.config.stash[SCOREBOOK]
    if report.when == "call" or (report.when == "setup" and not report.passed):
        book.add(_result(item, call, report))
    return report


def _result(
    item: pytest.Item, call: pytest.CallInfo[None], report: pytest.TestReport
) -> CheckResult:
    function_name = getattr(item, "originalname", item.name)
    check_id = item.name
    entry = item.config.stash[RUBRIC].entry(function_name)
    share = item.config.stash.get(CASES, {}).get(function_name, 1)
    description = describe(item)
    base = {
        "check_id": check_id,
        "item": entry.item if entry else "?",
        "description": description,
        "max_points": round(entry.points / share, 6) if entry else 0.0,
        "visibility": entry.visibility if entry else "hidden",
        "seconds": round(call.duration, 3),
    }
    if entry is None:
        return CheckResult(
            outcome="not_graded",
            message=NOT_GRADED_MESSAGE,
            staff_details=f"{check_id} is not in the rubric",
            **base,  # type: ignore[arg-type]
        )
    outcome, message, details = classify(call, report)
    data = dict(item.user_properties)
    from grader.checking.compare import CheckFailure  # here: importing it imports torch

    error = call.excinfo.value if call.excinfo is not None else None
    mistake = error.mistake if isinstance(error, CheckFailure) and outcome == "failed" else ""
    return CheckResult(
        outcome=outcome,
        message=message,
        staff_details=details,
        data=data,
        mistake=mistake,
        **base,  # type: ignore[arg-type]
    )


def describe(item: pytest.Item) -> str:
    """The check's description: its docstring's first line, with the `{name}`s of a parametrised
    check filled in from its case (`pool2d with mode 'avg' ...`), so that each case says which."""
    doc = (getattr(item, "function", None).__doc__ or "").strip().splitlines()
    if not doc:
        return item.name
    callspec = getattr(item, "callspec", None)
    if callspec is None:
        return doc[0]
    try:
        return doc[0].format(**{name: _shown(value) for name, value in callspec.params.items()})
    except (KeyError, IndexError, ValueError):
        return doc[0]


def _shown(value: object) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{key}={_shown(v)}" for key, v in value.items())
    return str(value)


def classify(call: pytest.CallInfo[None], report: pytest.TestReport) -> tuple[Outcome, str, str]:
    """The outcome of one check phase, its student message and its staff details."""
    if report.passed:
        return "passed", "", ""
    if report.skipped:
        return "not_graded", NOT_GRADED_MESSAGE, str(report.longrepr)
    error = call.excinfo.value if call.excinfo is not None else None
    if isinstance(error, UnreadableSubmission):
        return "unreadable", str(error), ""
    if isinstance(error, SubmissionTimedOut):
        return "timeout", str(error), ""
    if isinstance(error, MissingDefinition):
        return "missing", str(error), ""
    if isinstance(error, SubmissionError | AssertionError):
        return "failed", _student_text(error), ""
    details = (
        "".join(traceback.format_exception(error)) if error is not None else str(report.longrepr)
    )
    return "not_graded", NOT_GRADED_MESSAGE, details


def _student_text(error: BaseException) -> str:
    text = str(error).strip() or f"{type(error).__name__} (no message)"
    notes = [n for n in getattr(error, "__notes__", []) if n.startswith("Falsifying example")]
    if notes and "called with" not in text:
        text += "\n  " + notes[0].replace("\n", "\n  ")
    return text


def pytest_sessionfinish(session: pytest.Session) -> None:
    finish_submission(session.config)


def finish_submission(config: pytest.Config) -> ScoreBook:
    """The submission's score book, with the isolation it ran under; results.json written when the
    run was asked for a report folder."""
    book = config.stash[SCOREBOOK]
    sandbox = config.stash.get(SANDBOX, None)
    book.isolation = sandbox.describe() if sandbox is not None else book.isolation
    book.adjustments = integrity.adjustments(book, config.stash.get(INTEGRITY, None))
    folder = config.getoption("grade_report")
    if folder and config.getoption("submission"):
        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        write_results(book, out / "results.json")
    return book


def note_operations(config: pytest.Config, operations: dict[str, set[str]]) -> None:
    """Keep in the submission's book the operations a child recorded that the rules forbid."""
    policy = config.stash.get(INTEGRITY, None)
    if policy is None:
        return
    book = config.stash[SCOREBOOK]
    for item, names in operations.items():
        found = policy.found(item, names)
        if found:
            book.operations[item] = sorted({*book.operations.get(item, []), *found})


def recorded_items(config: pytest.Config) -> frozenset[str]:
    """The items whose calls have their operations recorded: those the rules name."""
    policy = config.stash.get(INTEGRITY, None)
    return frozenset(policy.forbidden) if policy is not None else frozenset()


def run_submission(session: pytest.Session, submission: Path, report_dir: Path | None) -> ScoreBook:
    """Run every collected check on `submission`, in order, as a session of its own would run them:
    the fixtures of session scope (the submission, its children) are made for it and torn down
    after its last check. For a session that grades one submission after another."""
    config = session.config
    config.option.submission = str(submission)
    config.option.grade_report = str(report_dir) if report_dir is not None else None
    config.stash[SCOREBOOK] = ScoreBook(submission=str(submission))
    try:
        items = session.items
        for index, item in enumerate(items):
            item.user_properties.clear()  # what a check records is this submission's alone
            following = items[index + 1] if index + 1 < len(items) else None
            config.hook.pytest_runtest_protocol(item=item, nextitem=following)
        return finish_submission(config)
    finally:
        config.option.submission = None
        config.option.grade_report = None


def write_results(book: ScoreBook, path: Path) -> None:
    """Gradescope's results.json for one submission, written atomically by the trusted parent."""
    from grader.reports.results import results_json
    from grader.reports.writing import write_atomically

    write_atomically(path, results_json(book))
