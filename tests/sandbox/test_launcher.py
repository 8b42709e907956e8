"""The parent's handle on the warm template: exit statuses, a launched template waited for."""

import pytest

from grader.intake.submission import parse_submission
from grader.sandbox.launcher import ExitStatus, Sandbox
from grader.sandbox.process import SubmissionProcess
from tests.conftest import TEST_LIMITS


def submission(source: str):
    return parse_submission(source.encode(), "s.py")


# Exit statuses


@pytest.mark.parametrize(
    ("status", "text"),
    [
        (
            ExitStatus(exitcode=0),
            "your code ended the process with exit status 0 (sys.exit() or os._exit())",
        ),
        (ExitStatus(exitcode=3), "your code ended the process with exit status 3"),
        (ExitStatus(signal=11), "it crashed with a segmentation fault (signal 11)"),
        (ExitStatus(signal=9), "it was killed (signal 9), most likely for using too much memory"),
        (ExitStatus(signal=9, by_grader=True), "it was stopped by the grader"),
        (ExitStatus(signal=6), "it was ended by signal 6 SIGABRT"),
    ],
)
def test_exit_statuses_are_described_plainly(status: ExitStatus, text: str) -> None:
    assert status.describe() == text


def test_a_launched_sandbox_is_waited_for_by_its_first_spawn() -> None:
    box = Sandbox(TEST_LIMITS)
    try:
        box.launch()
        assert not box.versions.get("ready")  # launching does not wait for torch's import

        with SubmissionProcess(box, submission("def corr2d(X, K):\n    return X + K\n")) as p:
            assert p.call(p.item("corr2d"), 1, 2) == 3

        assert box.versions["ready"]
    finally:
        box.close()
    assert box.versions == {}
