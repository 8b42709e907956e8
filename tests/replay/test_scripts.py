"""Call scripts (`grader.replay.scripts`): calls made ahead in one request answer exactly as calls made
one at a time, and a check that goes another way than its script is served live."""

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from grader.checking.items import StudentItem
from grader.errors import SubmissionCrashed, SubmissionTimedOut
from grader.intake.submission import parse_submission
from grader.protocol import values
from grader.replay import plans as replay
from grader.replay import scripts as prefetch
from grader.sandbox.process import PlannedCall, SubmissionProcess

# Homework names, so that the submission defines them as items: corr2d doubles, pool2d counts the
# calls made so far, init_cnn sleeps.
SOURCE = """
import time
import torch
calls = []

def corr2d(X):
    calls.append(X.shape)
    if X.numel() == 0:
        raise ValueError('empty')
    return X * 2

def pool2d():
    return len(calls)

def init_cnn(seconds):
    time.sleep(seconds)
"""


@pytest.fixture
def process(sandbox):
    submission = parse_submission(SOURCE.encode(), "s.py")
    with SubmissionProcess(sandbox, submission) as running:
        yield running


def planned(*args, what="double(...)", timeout=None):
    return PlannedCall(args, {}, 0, what, timeout)


def test_calls_made_ahead_answer_in_order_and_stop_at_the_first_error(process) -> None:
    double = process.item("corr2d")
    calls = [planned(torch.ones(2)), planned(torch.zeros(0)), planned(torch.ones(3))]

    outcomes = process.call_many(double, calls)

    assert torch.equal(outcomes[0], torch.full((2,), 2.0))
    assert isinstance(outcomes[1], SubmissionCrashed)
    assert "empty" in str(outcomes[1])
    assert len(outcomes) == 2
    assert process.call(process.item("pool2d")) == 2  # the third call was never made


def test_each_call_made_ahead_keeps_its_own_time_limit(process) -> None:
    nap = process.item("init_cnn")
    calls = [planned(0.0, what="nap(0)"), planned(30.0, what="nap(30)", timeout=0.5)]

    outcomes = process.call_many(nap, calls)

    assert outcomes[0] is None
    assert isinstance(outcomes[1], SubmissionTimedOut)
    assert "nap(30)" in str(outcomes[1])


@given(n=st.integers(1, 4))
def _doubles(double, seen, n):
    seen.append(double(torch.arange(float(n))).tolist())


def test_a_replay_records_its_calls_then_makes_them_ahead(process, sent_requests) -> None:
    first, second = [], []

    assert replay.passes(_doubles, {"double": StudentItem(process, "corr2d"), "seen": first})
    live = sent_requests.count("call")
    sent_requests.clear()
    assert replay.passes(_doubles, {"double": StudentItem(process, "corr2d"), "seen": second})

    assert second == first
    assert live == len(first) > 1
    assert sent_requests.count("calls") == 1
    assert sent_requests.count("call") == 0


def test_a_call_the_script_does_not_expect_goes_to_the_child(process) -> None:
    item = StudentItem(process, "corr2d")
    script = prefetch.Script(item, [planned(torch.ones(2)), planned(torch.ones(3))])
    item.script = script

    assert item(torch.ones(2)).tolist() == [2.0, 2.0]  # made ahead
    assert item(torch.full((1,), 5.0)).tolist() == [10.0]  # not the script's: live
    assert item(torch.ones(3)).tolist() == [2.0, 2.0, 2.0]  # live too: the script was dropped
    assert script.take(planned(torch.ones(3))) == (False, None)


def test_an_error_made_ahead_is_raised_by_the_call_that_made_it(process) -> None:
    item = StudentItem(process, "corr2d")
    item.script = prefetch.Script(item, [planned(torch.zeros(0))])

    with pytest.raises(SubmissionCrashed, match="empty"):
        item(torch.zeros(0))


@pytest.mark.parametrize(
    ("a", "b", "equal"),
    [
        (torch.ones(2), torch.ones(2), True),
        (torch.ones(2), torch.ones(2, dtype=torch.float64), False),
        (torch.ones(2), torch.ones(1, 2), False),
        (torch.tensor([float("nan")]), torch.tensor([float("nan")]), False),
        ((1, "max"), (1, "max"), True),
        ((1, "max"), [1, "max"], False),
        (1, 1.0, False),
        ({"k": torch.zeros(1)}, {"k": torch.zeros(1)}, True),
    ],
)
def test_arguments_are_compared_as_data(a, b, equal) -> None:
    assert values.equal(a, b) is equal


def test_only_plain_data_is_kept_in_a_script(process) -> None:
    assert values.is_plain((torch.ones(1), [1, 2.0, "x"], {"k": None}))
    assert not values.is_plain((process.item("corr2d"),))
    assert not values.is_plain((torch.nn.Parameter(torch.ones(1)),))
