"""Answers in batches (`grader.protocol.channel.Batch`): the answers of one `load` or `calls` request travel
in as few frames as their time limits allow, and each is still exactly the answer it would be alone."""

import socket

import pytest
import torch

from grader.errors import SubmissionTimedOut
from grader.intake.submission import parse_submission
from grader.protocol import channel as protocol
from grader.protocol.channel import Batch, Channel, ProtocolError
from grader.sandbox.process import PlannedCall, SubmissionProcess


@pytest.fixture
def pair():
    ours, theirs = socket.socketpair()
    with ours, theirs:
        yield Channel(ours), Channel(theirs)


def frames(channel: Channel, count: int) -> list[dict]:
    return [channel.receive()[0] for _ in range(count)]


def test_answers_held_together_arrive_one_at_a_time_with_their_tensors(pair) -> None:
    parent, child = pair
    batch = Batch(child)
    for n in range(3):
        key = f"t{len(batch.tensors)}"
        batch.tensors[key] = torch.full((2,), float(n))
        batch.add({"id": 7, "ok": True, "value": {"$tensor": key}}, 0.0, [key], 1.0)
    batch.flush()

    answers = [parent.answer() for _ in range(3)]

    values = [protocol.decode(header["value"], tensors).tolist() for header, tensors in answers]
    assert values == [[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]]
    child.send({"id": 8, "ok": True})
    assert parent.answer()[0] == {"id": 8, "ok": True}  # a frame of its own after the batch


def test_a_request_with_another_time_limit_is_not_held_behind_the_batch(pair) -> None:
    parent, child = pair
    batch = Batch(child)
    started = 10**9  # from now on: no answer has waited long enough to go by age
    batch.add({"id": 1}, started, [], 20.0)
    batch.before(20.0)
    batch.add({"id": 2}, started, [], 20.0)
    batch.before(0.5)  # the parent must see the first two before it times this one

    [header] = frames(parent, 1)
    assert [a["id"] for a in header["batch"]] == [1, 2]
    assert batch.answers == []


def test_an_answer_that_waited_long_enough_goes_at_once(pair, monkeypatch) -> None:
    parent, child = pair
    monkeypatch.setattr(protocol, "BATCH_SECONDS", 0.0)
    batch = Batch(child)
    batch.add({"id": 1}, 0.0, [], 1.0)
    batch.add({"id": 2}, 0.0, [], 1.0)

    assert [f["batch"] for f in frames(parent, 2)] == [[{"id": 1}], [{"id": 2}]]


def test_a_batch_that_does_not_hold_sends_each_answer_at_once(pair) -> None:
    parent, child = pair
    batch = Batch(child, hold=False)
    started = 10**9  # not by age: because it does not hold
    batch.add({"id": 1}, started, [], 1.0)
    batch.add({"id": 2}, started, [], 1.0)

    assert [f["batch"] for f in frames(parent, 2)] == [[{"id": 1}], [{"id": 2}]]


@pytest.mark.parametrize(
    "batch", [[], "answers", [1, 2], [{"id": 1}] * (protocol.MAX_BATCH + 1)], ids=repr
)
def test_malformed_batches_are_refused(pair, batch) -> None:
    parent, child = pair
    child.send({"batch": batch})

    with pytest.raises(ProtocolError, match="malformed batch"):
        parent.answer()


# Through a child

SOURCE = """
import os
import time
import torch

def corr2d(state=torch.zeros(2)):
    state.add_(1)
    return state

def pool2d(seconds):
    time.sleep(seconds)
    return seconds
"""


def planned(*args, timeout=None):
    return PlannedCall(args, {}, 0, "f(...)", timeout)


def test_each_answer_holds_the_value_its_call_returned(sandbox) -> None:
    """A function that returns a tensor it then changes in place: the batch keeps each answer's
    value as it was when the call returned, not as the later calls left it."""
    with SubmissionProcess(sandbox, parse_submission(SOURCE.encode(), "s.py")) as process:
        outcomes = process.call_many(process.item("corr2d"), [planned()] * 3)

    assert [o.tolist() for o in outcomes] == [[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]]


def test_a_call_that_hangs_behind_a_held_answer_is_still_stopped(sandbox) -> None:
    with SubmissionProcess(sandbox, parse_submission(SOURCE.encode(), "s.py")) as process:
        outcomes = process.call_many(process.item("pool2d"), [planned(0.0), planned(60.0)])

    assert isinstance(outcomes[-1], SubmissionTimedOut)
    assert outcomes[:-1] in ([], [0.0])  # the first answer may be held with the hanging call's


LOAD = """
def corr2d(X, K):
    return X

class Spinner:
    while True:
        pass

def pool2d(X):
    return X

class Quitter:
    import os
    os._exit(3)

def comp_conv2d(X):
    return X
"""


def test_a_statement_that_hangs_or_exits_is_blamed_not_the_one_before(sandbox) -> None:
    """Statements answer in batches; when one hangs or ends the process, the answers of those
    before it may not have been sent yet. The program is then loaded again one answer at a time,
    so that only the statement at fault loses what it defines."""
    submission = parse_submission(LOAD.encode(), "s.py")
    with SubmissionProcess(sandbox, submission) as process:
        for item in ("corr2d", "pool2d", "comp_conv2d"):
            process.item(item)  # each defined, none blamed for its neighbour
        blamed = {
            submission.program.statements[index].names: how
            for index, how in process.statement_errors.items()
        }

    assert blamed.keys() == {("Spinner",), ("Quitter",)}
    assert blamed[("Spinner",)] == "did not finish within 3 s"
    assert "exit status 3" in blamed[("Quitter",)]
