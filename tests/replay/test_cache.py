"""Example plans kept on disk (grader.replay.cache): a new process reads the plan the last one drew,
bit for bit, instead of drawing it; anything that is not a plan for this check, these strategies
and these versions is drawn again; and only what reads back exactly is kept."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.grading import grade
from grader.protocol import values
from grader.replay import cache as plancache
from grader.replay import plans as replay
from grader.sandbox.isolation import Isolation
from grader.sandbox.launcher import Sandbox
from tests.conftest import TEST_LIMITS

ROOT = Path(__file__).resolve().parents[2]

# A fresh process plans a real property check as a grading run does (the grading profile loaded
# first, as the plugin loads it) and says whether it drew, and what it planned.
PLAN_IN_A_NEW_PROCESS = """
import hashlib, json, sys
sys.path.insert(0, ".")
from grader.checking import profiles
profiles.load()
from grader.replay import plans as replay
from grader.checks.test_pooling import test_pool2d_agrees_with_torch_pooling_on_any_input as check

drew = []
draw = replay._draw
replay._draw = lambda test: (drew.append(1), draw(test))[1]

def fingerprint(value):
    if hasattr(value, "stride"):
        data = value.numpy().tobytes()
        return [str(value.dtype), list(value.shape), list(value.stride()), value.requires_grad,
                hashlib.sha256(data).hexdigest()]
    if isinstance(value, (list, tuple)):
        return [type(value).__name__, [fingerprint(v) for v in value]]
    if isinstance(value, dict):
        return {k: fingerprint(v) for k, v in value.items()}
    return [type(value).__name__, repr(value)]

plan = replay.plan(check, on_disk=True)
print(json.dumps({"drew": len(drew), "examples": len(plan), "plan": fingerprint(plan)}))
"""


def _plan_in_a_new_process(cache: Path) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", PLAN_IN_A_NEW_PROCESS],
        cwd=ROOT,
        env={**os.environ, "HW2_GRADER_CACHE": str(cache)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.splitlines()[-1])


def test_a_new_process_reads_the_plan_the_last_one_drew(tmp_path: Path) -> None:
    first = _plan_in_a_new_process(tmp_path)
    second = _plan_in_a_new_process(tmp_path)

    assert (first["drew"], second["drew"]) == (1, 0)
    assert first["examples"] == 20  # the grading profile's max_examples, all passing
    assert second["plan"] == first["plan"]
    assert len(list(tmp_path.glob("*.plan"))) == 1


@given(x=st.integers(0, 1000), t=st.sampled_from([0.5, -0.0, float("nan")]))
def _tensors_and_numbers(seen, x, t):
    seen.append((x, t))


@pytest.fixture
def cache(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.setenv("HW2_GRADER_CACHE", str(tmp_path))
    monkeypatch.setattr(replay, "_PLANS", {})
    return tmp_path


def test_a_stored_plan_reads_back_as_drawn(cache: Path) -> None:
    drawn = replay._draw(_tensors_and_numbers)
    drawn[0]["image"] = torch.arange(6.0).reshape(2, 3)
    assert plancache.store(_tensors_and_numbers, drawn)

    loaded = plancache.load(_tensors_and_numbers)
    assert loaded is not None
    assert values.identical(loaded, drawn)
    assert torch.equal(loaded[0]["image"], drawn[0]["image"])
    assert [(e["x"], str(e["t"])) for e in loaded] == [(e["x"], str(e["t"])) for e in drawn]


def test_a_damaged_plan_file_is_drawn_again_and_replaced(cache: Path) -> None:
    expected = replay._draw(_tensors_and_numbers)
    assert plancache.store(_tensors_and_numbers, expected)
    (path,) = cache.glob("*.plan")
    path.write_bytes(path.read_bytes()[:-7])  # cut short

    assert plancache.load(_tensors_and_numbers) is None
    assert values.identical(
        replay.plan(_tensors_and_numbers, on_disk=True), expected
    )  # drawn again
    assert plancache.load(_tensors_and_numbers) is not None  # and written again, whole


def test_values_that_would_not_read_back_exactly_are_not_kept(cache: Path) -> None:
    wide = torch.zeros(3, 4)
    for value in (
        wide.t(),  # strides the file cannot keep
        torch.zeros(2, requires_grad=True),
        torch.zeros(2, dtype=torch.bfloat16),
        object(),
        {1: "a key that is not a string"},
    ):
        plan = replay._draw(_tensors_and_numbers)
        plan[0]["value"] = value
        assert not plancache.store(_tensors_and_numbers, plan)
    assert list(cache.glob("*.plan")) == []


def test_a_plan_of_fewer_examples_than_asked_is_neither_kept_nor_trusted(cache: Path) -> None:
    """One easy example in a plan file would pass a wrong function: such a file is drawn again."""
    drawn = replay._draw(_tensors_and_numbers)
    assert len(drawn) == 20  # the grading profile's max_examples
    assert not plancache.store(_tensors_and_numbers, drawn[:1])
    assert plancache.store(_tensors_and_numbers, drawn)
    (path,) = cache.glob("*.plan")
    tensors: dict = {}
    path.write_bytes(plancache.frame(plancache.encode(drawn[:1], tensors), tensors))  # forged

    assert plancache.load(_tensors_and_numbers) is None


def test_nothing_is_kept_when_the_cache_is_off(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("HW2_GRADER_CACHE", "off")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(replay, "_PLANS", {})

    assert plancache.folder() is None
    assert replay.plan(_tensors_and_numbers, on_disk=True)
    assert not plancache.store(_tensors_and_numbers, [{"x": 1}])


@settings(derandomize=False, database=None)
@given(x=st.integers())
def _random(x):
    pass


def test_only_a_derandomized_run_without_a_database_is_cached(cache: Path) -> None:
    assert plancache.key(_random) is None
    assert plancache.key(_tensors_and_numbers) is not None
    assert not plancache.store(_random, [{"x": 1}])


def test_a_change_to_the_strategies_names_another_plan(tmp_path: Path, monkeypatch) -> None:
    before = plancache.key(_tensors_and_numbers)
    changed = tmp_path / "strategies.py"
    changed.write_text(plancache.STRATEGIES.read_text() + "\n# a change\n")
    monkeypatch.setattr(plancache, "STRATEGIES", changed)

    assert plancache.key(_tensors_and_numbers) not in (None, before)


ONE_PROPERTY = ("-k", "test_pool2d_agrees_with_torch_pooling_on_any_input")


def _grade_reading_plans(sandbox: Sandbox, monkeypatch) -> tuple[list[str], list[str]]:
    """Grade the solved notebook on one property check; the plans read from disk, the outcomes."""
    read: list[str] = []
    load = plancache.load

    def reading(test):
        read.append(test.__name__)
        return load(test)

    monkeypatch.setattr(plancache, "load", reading)
    monkeypatch.setattr(replay, "_PLANS", {})
    book = grade(ROOT / "submissions" / "solved.ipynb", sandbox=sandbox, extra_args=ONE_PROPERTY)
    return read, [result.outcome for result in book.results]


def test_grading_under_bubblewrap_reads_the_kept_plans(sandbox: Sandbox, monkeypatch) -> None:
    if sandbox.isolation.mode != "bubblewrap":
        pytest.skip("bubblewrap is not available here")
    read, outcomes = _grade_reading_plans(sandbox, monkeypatch)
    assert read == ["test_pool2d_agrees_with_torch_pooling_on_any_input"]
    assert outcomes == ["passed"]


def test_grading_where_student_code_shares_the_file_system_draws_its_own(monkeypatch) -> None:
    """Under the weaker levels a student's code could have written the cache: it is not read."""
    isolation = Isolation("rlimits", drop_to_nobody=False, own_pid_namespace=False)
    with Sandbox(TEST_LIMITS, isolation) as box:
        read, outcomes = _grade_reading_plans(box, monkeypatch)
    assert read == []
    assert outcomes == ["passed"]


def test_the_plans_command_keeps_every_property_checks_plan(tmp_path: Path) -> None:
    env = {**os.environ, "HW2_GRADER_CACHE": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "grader", "plans"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == f"9 property checks planned; 9 plans in {tmp_path}"
    assert len(list(tmp_path.glob("*.plan"))) == 9

    off = subprocess.run(
        [sys.executable, "-m", "grader", "plans"],
        cwd=ROOT,
        env={**env, "HW2_GRADER_CACHE": "off"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert off.returncode == 2
    assert "the plan cache is off" in off.stderr


def test_the_cache_is_in_the_users_cache_folder_and_off_without_a_home(monkeypatch) -> None:
    monkeypatch.delenv("HW2_GRADER_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", "/var/cache/staff")
    assert plancache.folder() == Path("/var/cache/staff/hw2-grader/plans")
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", "/home/ta")
    assert plancache.folder() == Path("/home/ta/.cache/hw2-grader/plans")
    monkeypatch.setenv("HOME", "not-a-home")  # as `~` stays when there is no home folder
    assert plancache.folder() is None
