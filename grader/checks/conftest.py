"""Fixtures for the homework checks: the submission, its sandboxed process, and one fixture per item.

Each item fixture gives a `StudentItem`: call it as the student's function or class. Calls run in the
submission's child process; what comes back is plain data (tensors, numbers) or a `Remote` proxy
for an object that stays in the child (a model). Torch is seeded before every check.
"""

from collections.abc import Iterator
from pathlib import Path

import pytest

from grader.checking.items import StudentItem
from grader.checking.standins import children
from grader.child.seeding import seed_everything
from grader.intake.submission import Submission, load_submission
from grader.plugin import SANDBOX, SCOREBOOK, note_operations, recorded_items
from grader.sandbox.launcher import Sandbox
from grader.sandbox.limits import Budget
from grader.sandbox.process import SubmissionProcess

CHILDREN = {item: group for group in children() for item in group}


@pytest.fixture(scope="session")
def sandbox(pytestconfig: pytest.Config) -> Iterator[Sandbox]:
    provided = pytestconfig.stash.get(SANDBOX, None)
    if provided is not None:
        yield provided
        return
    with Sandbox() as box:
        pytestconfig.stash[SANDBOX] = box
        yield box


@pytest.fixture(scope="session")
def submission(pytestconfig: pytest.Config) -> Submission:
    path = pytestconfig.getoption("submission")
    if not path:
        raise pytest.UsageError("pass the notebook to grade: pytest grader --submission NOTEBOOK")
    return load_submission(Path(path))


@pytest.fixture(scope="session")
def budget(sandbox: Sandbox, submission: Submission) -> Budget:
    """The submission's time, shared by all of its children."""
    return Budget(sandbox.limits.submission_seconds)


@pytest.fixture(scope="session")
def process(
    pytestconfig: pytest.Config, sandbox: Sandbox, submission: Submission, budget: Budget
) -> Iterator[SubmissionProcess]:
    record = recorded_items(pytestconfig)
    with SubmissionProcess(sandbox, submission, budget=budget, record=record) as running:
        yield running
    pytestconfig.stash[SCOREBOOK].student_seconds += running.student_seconds
    note_operations(pytestconfig, running.operations)


@pytest.fixture(autouse=True)
def _seed() -> None:
    seed_everything(0)


@pytest.fixture(scope="session")
def item_processes(
    pytestconfig: pytest.Config,
) -> Iterator[dict[tuple[str, ...], SubmissionProcess]]:
    """Children of their own for the items that build on other items (see grader.checking.standins)."""
    processes: dict[tuple[str, ...], SubmissionProcess] = {}
    yield processes
    for running in processes.values():
        running.close()
        pytestconfig.stash[SCOREBOOK].student_seconds += running.student_seconds
        note_operations(pytestconfig, running.operations)


def _item(name: str):
    @pytest.fixture(scope="session", name=name)
    def fixture(
        process: SubmissionProcess, item_processes, sandbox: Sandbox, submission: Submission
    ) -> StudentItem:
        group = CHILDREN.get(name)
        if group is not None:
            if group not in item_processes:
                item_processes[group] = SubmissionProcess(
                    sandbox,
                    submission,
                    substitute_for=group,
                    budget=process.budget,
                    record=process.record,
                )
            return StudentItem(item_processes[group], name)
        return StudentItem(process, name)

    fixture.__doc__ = f"The student's `{name}`, called in the sandbox."
    return fixture


corr2d = _item("corr2d")
Conv2D = _item("Conv2D")
comp_conv2d = _item("comp_conv2d")
corr2d_multi_in = _item("corr2d_multi_in")
corr2d_multi_in_out = _item("corr2d_multi_in_out")
corr2d_multi_in_out_1x1 = _item("corr2d_multi_in_out_1x1")
pool2d = _item("pool2d")
init_cnn = _item("init_cnn")
LeNet = _item("LeNet")
layer_summary = _item("layer_summary")
vgg_block = _item("vgg_block")
VGG = _item("VGG")
Residual = _item("Residual")
ResNet = _item("ResNet")
ResNet18 = _item("ResNet18")
