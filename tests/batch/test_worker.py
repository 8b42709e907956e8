"""A batch worker (grader.batch.worker.Worker, in the local pool and in a Ray actor) launches the
sandbox's template first and collects the checks while it starts; it waits for it before its first
submission, so that a sandbox that cannot start stops it there. Sandbox and session are stand-ins."""

from pathlib import Path

import pytest

import grader.grading
import grader.sandbox.launcher
from grader.batch import local, output
from grader.batch.on_ray import _Grader
from grader.errors import HarnessError
from grader.intake.sources import Entry
from grader.scoring import CheckResult, ScoreBook


class World:
    """Stand-ins for `Sandbox` and `GradingSession` that note what is done to them, in order."""

    def __init__(
        self,
        monkeypatch: pytest.MonkeyPatch,
        *,
        template_fails: bool = False,
        collection_fails: bool = False,
        grading_fails_on: str = "",
        results: tuple[CheckResult, ...] = (),
    ) -> None:
        self.events: list[str] = []
        world = self

        class Sandbox:
            def launch(self) -> None:
                world.events.append("launch the template")

            def start(self) -> None:
                world.events.append("wait for the template")
                if template_fails:
                    raise HarnessError("the sandbox did not start")

            def close(self) -> None:
                world.events.append("close the sandbox")

        class GradingSession:
            def __init__(self, sandbox: Sandbox, *, extra_args: tuple[str, ...] = ()) -> None:
                self.sandbox = sandbox

            def start(self) -> None:
                world.events.append("collect the checks")
                if collection_fails:
                    raise HarnessError("the grading session did not start")

            def grade(self, path: Path, **_: object) -> ScoreBook:
                world.events.append(f"grade {path.name}")
                if path.name == grading_fails_on:
                    raise RuntimeError("an error of the grader's")
                return ScoreBook(submission=str(path), results=list(results))

            def close(self) -> None:
                world.events.append("close the session")

        monkeypatch.setattr(grader.sandbox.launcher, "Sandbox", Sandbox)
        monkeypatch.setattr(grader.grading, "GradingSession", GradingSession)
        monkeypatch.setattr(grader.grading, "settle", lambda: None)
        monkeypatch.setattr(local, "_WORKERS", [])


IN_ORDER = [
    "launch the template",
    "collect the checks",
    "wait for the template",
    "grade alice.ipynb",
    "grade bob.ipynb",
]
"""What a worker or an actor does, in order, for its first two submissions."""


def _entry(tmp_path: Path, name: str) -> Entry:
    path = tmp_path / name
    path.write_text("{}")
    return Entry(student=path.stem, display_name=path.stem, label=name, name=name, path=path)


def test_a_batch_worker_collects_while_its_template_starts(tmp_path: Path, monkeypatch) -> None:
    world = World(monkeypatch)
    for name in ("alice.ipynb", "bob.ipynb"):
        local.grade_entry(_entry(tmp_path, name), tmp_path / "out")
    assert world.events == IN_ORDER


@pytest.mark.parametrize(
    ("failure", "events"),
    [
        (
            "template_fails",
            ["launch the template", "collect the checks", "wait for the template",
             "close the session", "close the sandbox"],
        ),
        (
            "collection_fails",
            ["launch the template", "collect the checks", "close the session", "close the sandbox"],
        ),
    ],
)  # fmt: skip
def test_a_batch_worker_that_cannot_start_closes_what_it_launched_before_any_report(
    tmp_path: Path, monkeypatch, failure: str, events: list[str]
) -> None:
    world = World(monkeypatch, **{failure: True})
    with pytest.raises(HarnessError, match="did not start"):
        local.grade_entry(_entry(tmp_path, "alice.ipynb"), tmp_path / "out")
    assert world.events == events
    assert local._WORKERS[0]._sessions == {}
    assert not (tmp_path / "out").exists()


def test_a_ray_actor_collects_while_its_template_starts(tmp_path: Path, monkeypatch) -> None:
    world = World(monkeypatch)
    monkeypatch.setattr("grader.batch.cores.claim_core", lambda: None)
    actor = _Grader()
    actor.grade("alice.ipynb", b"{}", ())
    actor.grade("bob.ipynb", b"{}", ())
    assert world.events == IN_ORDER


def test_a_ray_actor_fails_the_call_when_its_template_cannot_start(monkeypatch) -> None:
    world = World(monkeypatch, template_fails=True)
    monkeypatch.setattr("grader.batch.cores.claim_core", lambda: None)
    actor = _Grader()
    with pytest.raises(HarnessError, match="did not start"):
        actor.grade("alice.ipynb", b"{}", ())
    assert world.events[-3:] == ["wait for the template", "close the session", "close the sandbox"]
    assert actor.worker._sessions == {}


def test_an_error_grading_one_submission_stops_only_that_one_and_a_rerun_grades_it(
    tmp_path: Path, monkeypatch
) -> None:
    world = World(monkeypatch, grading_fails_on="bob.ipynb")
    out = tmp_path / "out"
    entries = [_entry(tmp_path, f"{name}.ipynb") for name in ("alice", "bob", "carol")]

    lines = [local.grade_entry(entry, out) for entry in entries]
    output.write_class_reports(out, entries, [])

    assert lines[1].startswith("not graded: an error of the grader's (see bob/grader-error.txt)")
    assert "grade carol.ipynb" in world.events
    assert [e.student for e, _ in output.prepare(out, entries, force=False)] == ["bob"]
    assert (
        "RuntimeError: an error of the grader's" in (out / "bob" / "grader-error.txt").read_text()
    )
    assert "not graded: bob.ipynb" in (out / "problems.txt").read_text()
    assert "bob,bob,0," in (out / "gradebook.csv").read_text()
    assert (out / "gradebook.csv").read_text().count("not graded") == 1

    World(monkeypatch)  # the rerun: nothing fails
    local.grade_entry(entries[1], out)
    output.write_class_reports(out, entries, [])

    assert (out / "bob" / "results.json").exists()
    assert not (out / "bob" / "grader-error.txt").exists()
    assert (out / "problems.txt").read_text() == ""
