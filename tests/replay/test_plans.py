"""Example plans (`grader.replay.plans`) change how fast a property check runs, never what it checks.

The evidence is end to end: grading with plans sends the submission's process exactly the requests
(same operations, same arguments, same tensors) that grading through Hypothesis's engine sends, and
gives the same verdicts and messages, for a correct notebook and for notebooks with mistakes.
"""

import hashlib
import json
from pathlib import Path

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from grader.grading import grade
from grader.protocol import values
from grader.replay import plans as replay
from grader.sandbox.process import SubmissionProcess

ROOT = Path(__file__).resolve().parents[2]
STUDENTS = ROOT / "submissions" / "students"


def _fingerprint(value):
    if isinstance(value, torch.Tensor):
        data = value.detach().contiguous().numpy().tobytes()
        return f"tensor{tuple(value.shape)}:{hashlib.sha256(data).hexdigest()[:16]}"
    if isinstance(value, list | tuple):
        return [_fingerprint(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _fingerprint(v) for k, v in value.items()}
    return repr(value)


def _graded_with_requests(path, sandbox, monkeypatch, *extra):
    """The requests grading `path` sends, a call made ahead (`grader.replay.scripts`) logged as the call
    it is; the verdicts; and how many calls each request made ahead carried."""
    sent: list[str] = []
    batches: list[int] = []
    original = SubmissionProcess._send

    def logging_send(self, op, args, *, what, seed, **options):
        if op == "calls":
            batches.append(len(args[0]))
            for call_args, call_seed, _ in args[0]:
                sent.append(json.dumps(["call", _fingerprint(call_args), call_seed], default=str))
        else:
            sent.append(json.dumps([op, _fingerprint(args), seed], default=str))
        return original(self, op, args, what=what, seed=seed, **options)

    monkeypatch.setattr(SubmissionProcess, "_send", logging_send)
    book = grade(path, sandbox=sandbox, extra_args=extra)
    monkeypatch.undo()
    verdicts = [(r.check_id, r.outcome, r.points, r.message) for r in book.results]
    return sent, verdicts, batches


@pytest.mark.parametrize(
    "path",
    [ROOT / "submissions" / "solved.ipynb", STUDENTS / "bob_kernel_flipped.ipynb"],
    ids=lambda p: p.stem,
)
def test_plans_send_the_same_requests_and_give_the_same_verdicts(path, sandbox, monkeypatch):
    grade(ROOT / "submissions" / "solved.ipynb", sandbox=sandbox)  # plans and call scripts made
    engine_requests, engine_verdicts, _ = _graded_with_requests(
        path, sandbox, monkeypatch, "--no-example-plans"
    )
    planned_requests, planned_verdicts, batches = _graded_with_requests(path, sandbox, monkeypatch)

    assert planned_verdicts == engine_verdicts
    assert len(batches) >= 8  # the property checks' calls were made ahead, one request each
    if path.stem == "solved":
        assert planned_requests == engine_requests
        assert len(engine_requests) > 200  # the property checks did call the student's code
        assert sum(batches) > 200
    else:  # a failing example is run again by Hypothesis: the plan's requests come first
        assert set(engine_requests) <= set(planned_requests)
        failed = [v for v in planned_verdicts if v[1] == "failed"]
        assert failed
        assert all("Falsifying example" in v[3] or "called with" in v[3] for v in failed)


@given(x=st.integers(0, 1000), y=st.lists(st.integers(), max_size=3))
def _property(fixture, x, y):
    fixture.append((x, y))


def test_a_plan_is_what_the_engine_draws_for_a_passing_test():
    seen: list = []
    _property(seen)  # the engine, running the body

    assert replay.plan(_property) == [{"x": x, "y": y} for x, y in seen]
    assert replay.plan(_property) is replay.plan(_property)  # drawn once per process


def test_a_failing_example_stops_the_replay():
    calls: list = []

    @given(x=st.integers(0, 10))
    def check(fixture, x):
        calls.append(x)
        assert x < 3

    planned = [example["x"] for example in replay.plan(check)]

    assert replay.passes(check, {"fixture": None}) is False
    assert calls == planned[: planned.index(next(x for x in planned if x >= 3)) + 1]
    assert replay.passes(_property, {"fixture": []}) is True


def test_examples_that_cannot_be_drawn_leave_the_check_to_hypothesis():
    @given(x=st.integers(0, 10).filter(lambda x: False))
    def check(fixture, x):
        raise AssertionError("never reached")

    assert replay.passes(check, {"fixture": None}) is False


def test_each_replayed_example_sees_the_seeding_the_engine_gives_it():
    import random

    import numpy

    @given(x=st.integers(0, 10))
    def check(draws, x):
        draws.append((x, random.random(), float(numpy.random.rand())))

    engine: list = []
    check(engine)
    replayed: list = []

    outer = random.getstate()
    assert replay.passes(check, {"draws": replayed}) is True
    assert random.getstate() == outer  # put back afterwards, as the engine does

    assert replayed == engine
    assert len({draw[1:] for draw in engine}) == 1  # every example starts from the same seed


def test_examples_are_copied_so_that_a_check_can_change_them():
    tensor = torch.arange(4.0)
    example = {"case": (tensor, [1, 2.5]), "n": 3, "kernel": torch.ones(2, requires_grad=True)}

    copied = values.fresh(example)
    copied["case"][0].add_(1)
    copied["case"][1].append(0)

    assert torch.equal(example["case"][0], torch.arange(4.0))
    assert example["case"][1] == [1, 2.5]
    assert copied["kernel"].requires_grad
    assert copied["kernel"].is_leaf
    assert copied["kernel"] is not example["kernel"]
