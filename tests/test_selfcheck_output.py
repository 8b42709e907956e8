"""What a student reads from `python -m grader check`: a line per item as it is graded, one `todo`
line for an item still at the template's stub, colour only where wanted, `--json` for tools, one
error line for a file that is not a notebook, and one line on Ctrl-C."""

import io
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from grader.scoring import CheckResult
from grader.selfcheck import Progress, wants_colour

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "submissions" / "homework.ipynb"
SOLVED = ROOT / "submissions" / "solved.ipynb"
TWO_ITEMS = "corr2d_reproduces or test_pool2d"


def run_check(
    *args: str, env: dict[str, str] | None = None, cwd: Path = ROOT
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "grader", "check", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, **(env or {})},
    )


def test_an_unfinished_item_is_one_todo_line_not_a_traceback_per_check() -> None:
    result = run_check(str(TEMPLATE), "-k", "corr2d or pool2d")

    assert result.returncode == 1
    lines = result.stdout.splitlines()
    todo = [line for line in lines if line.startswith("todo ")]
    assert [line.split()[1] for line in todo] == [
        "corr2d",
        "corr2d_multi_in",
        "corr2d_multi_in_out",
        "corr2d_multi_in_out_1x1",
        "pool2d",
    ]
    assert all(line.endswith("not implemented yet") for line in todo)
    assert "NotImplementedError" not in result.stdout
    assert lines[-1].startswith("total 0 / ")
    assert lines[-1].endswith("5 not implemented yet")
    assert len(lines) == len(todo) + 1
    assert "\x1b[" not in result.stdout  # not a terminal: no colour


def test_a_wrong_item_shows_what_failed_after_the_item_lines(tmp_path: Path) -> None:
    broken = tmp_path / "broken.ipynb"
    broken.write_text(SOLVED.read_text().replace(".mean()", ".sum()"))

    result = run_check(str(broken), "-k", TWO_ITEMS)

    lines = result.stdout.splitlines()
    assert result.returncode == 1
    assert lines[0].startswith("ok   corr2d")
    assert lines[1].startswith("FAIL pool2d")
    assert lines[2] == "pool2d:"
    assert "average computed as a sum" in result.stdout
    assert lines[-1].endswith("(public checks): 1 pass, 1 fail")


def test_json_prints_each_items_score_and_the_total() -> None:
    result = run_check(str(SOLVED), "-k", TWO_ITEMS, "--json")

    assert result.returncode == 0, result.stderr[-2000:]
    data = json.loads(result.stdout)
    assert set(data) == {"items", "score", "max_score"}
    assert set(data["items"]) == {"corr2d", "pool2d"}
    assert all(v["score"] == v["max_score"] > 0 for v in data["items"].values())
    assert data["score"] == data["max_score"] == sum(v["score"] for v in data["items"].values())


@pytest.mark.parametrize(
    ("name", "content"),
    [("notes.txt", "my notes"), ("hw2.ipynb", "{not json"), ("hw2.ipynb", "")],
)
def test_a_file_that_is_not_a_notebook_is_one_error_and_exit_2(
    tmp_path: Path, name: str, content: str
) -> None:
    path = tmp_path / name
    path.write_text(content)

    result = run_check(str(path))

    assert result.returncode == 2
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith(f"error: {name} could not be read: ")


def test_ctrl_c_ends_with_one_line_and_exit_130() -> None:
    """Ctrl-C reaches the whole foreground process group: the grader and its sandbox alike."""
    process = subprocess.Popen(
        [sys.executable, "-m", "grader", "check", str(SOLVED)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()  # an item line comes while grading goes on
        assert first.startswith("ok   corr2d"), first
        os.killpg(process.pid, signal.SIGINT)
        out, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    assert process.returncode == 130, err[-3000:]
    assert "total" not in out
    assert [line for line in err.splitlines() if line.strip()] == [
        "interrupted: nothing was saved; check again when you are ready"
    ]


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def passed(item: str) -> CheckResult:
    return CheckResult(
        check_id=f"test_{item}", item=item, description="", outcome="passed", max_points=2.0
    )


def test_colour_on_a_terminal_unless_no_color(monkeypatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    assert wants_colour(Terminal())
    assert not wants_colour(io.StringIO())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not wants_colour(Terminal())


def test_on_a_terminal_the_item_being_graded_shows_until_its_line_replaces_it() -> None:
    screen = Terminal()
    progress = Progress(screen, colour=True)

    progress.started("corr2d")
    shown_while_running = screen.getvalue()
    progress.finished(passed("corr2d"))
    progress.started("pool2d")
    progress.finished(passed("pool2d"))
    progress.close()

    assert shown_while_running.endswith("corr2d")
    assert "\r\x1b[K\x1b[32mok  \x1b[0m corr2d" in screen.getvalue()
    assert screen.getvalue().count("\n") == 2


def test_a_notebook_named_relative_to_another_working_directory_is_graded(tmp_path: Path) -> None:
    """Regression: grading runs from the grader's root, where `solved.ipynb` named relative to the
    student's folder was not found, and every check failed as unreadable with exit status 0."""
    (tmp_path / "mine.ipynb").write_bytes(SOLVED.read_bytes())

    result = run_check("mine.ipynb", "-k", TWO_ITEMS, cwd=tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr[-2000:]
    assert result.stdout.splitlines()[0].startswith("ok   corr2d")


def test_a_selection_that_matches_no_check_is_one_error() -> None:
    result = run_check(str(SOLVED), "-k", "pooll2d")

    assert result.returncode == 2
    assert result.stderr.splitlines() == ["error: no check matches the selection '-k pooll2d'"]
