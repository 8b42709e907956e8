"""Isolation levels: what each protects, how it is asked for, and what bubblewrap mounts."""

from pathlib import Path

import pytest

from grader.errors import (
    ConfigurationError,
)
from grader.intake.submission import parse_submission
from grader.sandbox import isolation
from grader.sandbox.isolation import Isolation, preferred, require_bubblewrap
from grader.sandbox.process import SubmissionProcess


def submission(source: str):
    return parse_submission(source.encode(), "s.py")


# Isolation levels


def test_isolation_is_described_for_the_report_header(sandbox) -> None:
    text = sandbox.describe()

    assert text.startswith(sandbox.isolation.describe())
    assert "3 s per call" in text


@pytest.mark.parametrize("mode", ["bubblewrap", "unshare", "rlimits"])
def test_each_isolation_level_says_what_it_protects(mode) -> None:
    text = Isolation(mode, drop_to_nobody=False, own_pid_namespace=True).describe()

    assert text.startswith(mode)


def test_an_unknown_isolation_setting_names_its_source(monkeypatch) -> None:
    monkeypatch.setenv("HW2_GRADER_ISOLATION", "docker")

    with pytest.raises(
        ConfigurationError, match="invalid HW2_GRADER_ISOLATION 'docker' from the environment"
    ):
        preferred()


def test_network_is_unreachable_in_a_namespace(sandbox) -> None:
    if sandbox.isolation.mode == "rlimits":
        pytest.skip("no network namespace without bubblewrap or unshare")
    source = (
        "import socket\n\ndef corr2d(X, K):\n    try:\n"
        "        socket.create_connection(('1.1.1.1', 53), timeout=1)\n        return 'connected'\n"
        "    except OSError as e:\n        return type(e).__name__\n"
    )
    with SubmissionProcess(sandbox, submission(source)) as p:
        assert p.call(p.item("corr2d"), 1, 2) == "OSError"


def test_student_code_runs_as_nobody_when_the_grader_is_root(sandbox) -> None:
    if not sandbox.isolation.drop_to_nobody:
        pytest.skip("the grader is not root here, or cannot change user")
    source = "import os\n\ndef corr2d(X, K):\n    return os.getuid(), os.getcwd()\n"
    with SubmissionProcess(sandbox, submission(source)) as p:
        uid, cwd = p.call(p.item("corr2d"), 1, 2)

    assert uid == 65534
    assert cwd.startswith("/tmp/submission-")


def test_private_tmp_is_mounted_before_the_binds() -> None:
    """Regression: a venv under /tmp (a fresh clone in CI) was hidden by the tmpfs mounted over it."""
    from grader.sandbox.isolation import bubblewrap_arguments

    args = bubblewrap_arguments(drop_caps=False)

    first_tmpfs = args.index("--tmpfs")
    assert args[first_tmpfs + 1] == "/tmp"
    assert first_tmpfs < args.index("--ro-bind")


def test_a_site_directory_outside_the_prefix_is_bound(tmp_path: Path, monkeypatch) -> None:
    """Regression: torch installed in the user's site directory, or in one a `.pth` file names,
    could not be imported in the sandbox: only the interpreter's prefixes were bound."""
    import sys

    from grader.sandbox.isolation import bubblewrap_arguments

    site = tmp_path / "elsewhere" / "lib" / "site-packages"
    site.mkdir(parents=True)
    (tmp_path / "project").mkdir()
    monkeypatch.setattr(sys, "path", [*sys.path, str(site), str(tmp_path / "project")])

    args = bubblewrap_arguments(drop_caps=False)

    bound = {args[i + 1] for i, arg in enumerate(args) if arg == "--ro-bind"}
    assert str(site) in bound
    assert not any(Path(path).is_relative_to(tmp_path / "project") for path in bound)


def test_hidden_paths_survive_an_environment_without_reference(monkeypatch) -> None:
    """Regression: in the student kit, looking `reference` up raised and the sandbox could not start."""
    import importlib.util

    from grader.sandbox import isolation

    def refuse(name, *args, **kwargs):
        raise ImportError(f"no {name} here")

    monkeypatch.setattr(importlib.util, "find_spec", refuse)

    hidden = isolation.hidden_paths()

    assert not [p for p in hidden if p.name == "reference"]


UNSHARE = Isolation("unshare", drop_to_nobody=False, own_pid_namespace=True)


def test_staff_grading_refuses_to_fall_back_below_bubblewrap_unasked(monkeypatch) -> None:
    monkeypatch.delenv("HW2_GRADER_ISOLATION", raising=False)
    monkeypatch.setattr(isolation, "detect", lambda preferred: UNSHARE)

    with pytest.raises(ConfigurationError) as caught:
        require_bubblewrap("grade")

    assert "`grade` grades with bubblewrap, which does not work on this machine" in str(
        caught.value
    )
    assert "set HW2_GRADER_ISOLATION=unshare" in str(caught.value)


def test_staff_may_grade_below_bubblewrap_on_purpose(monkeypatch) -> None:
    monkeypatch.setenv("HW2_GRADER_ISOLATION", "unshare")
    monkeypatch.setattr(isolation, "detect", lambda preferred: UNSHARE)

    assert require_bubblewrap("grade") is UNSHARE


SPAWN = Isolation("spawn", drop_to_nobody=False, own_pid_namespace=False)


def test_the_portable_level_stops_a_call_at_its_time_limit(tmp_path: Path) -> None:
    """At the `spawn` level the parent's per-call limit is what stops a call that never returns."""
    from grader.grading import grade
    from grader.sandbox.launcher import Sandbox
    from tests.conftest import TEST_LIMITS

    sleeper = Path(__file__).resolve().parents[1] / "fixtures" / "notebooks" / "hostile"
    with Sandbox(TEST_LIMITS, isolation=SPAWN) as sandbox:
        book = grade(sleeper / "sleeps_forever.ipynb", sandbox=sandbox, extra_args=("-k", "pool2d"))

    outcomes = {r.item: r.outcome for r in book.results}
    assert outcomes["pool2d"] == "timeout"
    assert book.isolation.startswith("spawn: ")


def test_the_portable_level_is_chosen_where_forking_is_unsafe(monkeypatch) -> None:
    monkeypatch.setattr(isolation, "forks_safely", lambda: False)
    monkeypatch.delenv("HW2_GRADER_ISOLATION", raising=False)
    isolation.detect.cache_clear()
    try:
        assert isolation.detect("auto").mode == "spawn"
    finally:
        isolation.detect.cache_clear()
