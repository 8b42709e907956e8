"""The self-check from a notebook cell: `from hw2check import check; check()` (or `check("corr2d")`).

It grades what the notebook holds: the saved notebook file when the kernel can name it (Jupyter,
JupyterLab and VS Code tell the kernel its notebook's path), else the cells this kernel has run,
from its input history, as in Colab, where no notebook file is on disk. Grading is the command
line's: the public checks, student code in the same sandboxed child, verdicts computed here in the
kernel's process. The first check starts a warm sandbox and a grading session that later checks
reuse, so a check after a fix costs only the grading (`benchmarks/`, the warm self-check).

In a notebook the result is a compact HTML table that fills in item by item while grading goes on:
per item its points, and for what failed the check, the input, expected and got, and the hint.
Outside IPython it prints what `python -m grader check` prints.
"""

from __future__ import annotations

import atexit
import json
import os
import sys
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.errors import GraderError
from grader.reports.results import adjustment_line
from grader.reports.terminal import grouped, item_mark
from grader.scoring import CheckResult, ScoreBook, by_item, final, item_points, total

HISTORY_NAME = "kernel-history.ipynb"
"""The name a kernel's input history is graded under (shown in the table's heading)."""


@dataclass(frozen=True)
class Report:
    """What `check()` returns: the scores, and the line shown when it is a cell's last value."""

    graded: str
    score: float
    max_score: float
    items: dict[str, dict[str, float]]
    isolation: str

    def __repr__(self) -> str:
        return (
            f"HW2 self-check of {self.graded}: {self.score:g} / {self.max_score:g} (public checks)"
        )


def check(*items: str, notebook: str | os.PathLike[str] | None = None) -> Report:
    """Grade this notebook with the public checks and show the result; `items` narrows what is
    shown (`check("corr2d", "pool2d")`), `notebook` names the file when the kernel cannot."""
    from grader.intake.submission import HOMEWORK_ITEMS

    unknown = [item for item in items if item not in HOMEWORK_ITEMS]
    if unknown:
        raise ValueError(
            f"no homework item named {', '.join(map(repr, unknown))}; the items are "
            + ", ".join(HOMEWORK_ITEMS)
        )
    path, graded = _source(notebook)
    session, isolation = _warm()
    view = _view(graded, items, isolation)
    book = session.grade(path, listener=view)
    view.done(book)
    shown = _only(book, set(items))
    summary = final(shown)
    return Report(
        graded=graded,
        score=summary.points,
        max_score=summary.max_points,
        items={
            item: {"score": points, "max_score": by_item(shown.results)[item].max_points}
            for item, points in item_points(shown).items()
        },
        isolation=isolation,
    )


def _source(notebook: str | os.PathLike[str] | None) -> tuple[Path, str]:
    """The file to grade, and how the table names it."""
    if notebook is not None:
        path = Path(notebook)
        if not path.is_file():
            raise GraderError(f"{path} is not a file")
        return path, path.name
    named = notebook_file()
    if named is not None:
        return named, named.name
    cells = history_cells()
    if not cells:
        raise GraderError(
            "this kernel has run no cells yet and names no notebook file: run your cells, or "
            'pass the file: check(notebook="homework.ipynb")'
        )
    folder = _scratch()
    path = folder / HISTORY_NAME
    path.write_text(history_notebook(cells), encoding="utf-8")
    return path, f"the {len(cells)} cells this kernel ran"


def notebook_file() -> Path | None:
    """The notebook this kernel runs, where the front end says: VS Code's `__vsc_ipynb_file__`,
    ipykernel's `__session__` and Jupyter Server's `JPY_SESSION_NAME`."""
    shell = _shell()
    names = shell.user_ns if shell is not None else {}
    for candidate in (
        names.get("__vsc_ipynb_file__"),
        names.get("__session__"),
        os.environ.get("JPY_SESSION_NAME"),
    ):
        if not isinstance(candidate, str) or not candidate.endswith(".ipynb"):
            continue
        for path in (Path(candidate), Path.cwd() / Path(candidate).name):
            if path.is_file():
                return path
    return None


def history_cells() -> list[str]:
    """The cells this kernel has run, in order, without those that call the self-check (the
    cell running now among them)."""
    shell = _shell()
    if shell is None:
        return []
    raw: Sequence[str] = shell.history_manager.input_hist_raw
    return [cell for cell in raw[1:] if cell.strip() and "hw2check" not in cell]


def history_notebook(cells: Sequence[str]) -> str:
    """A notebook (nbformat 4) of `cells`, for the same intake as a saved file."""
    book = {
        "cells": [
            {
                "cell_type": "code",
                "metadata": {},
                "source": cell,
                "outputs": [],
                "execution_count": None,
            }
            for cell in cells
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    return json.dumps(book)


def _shell() -> Any:
    if "IPython" not in sys.modules:
        return None
    from IPython import get_ipython

    return get_ipython()


_LOCK = threading.Lock()
_STATE: dict[str, Any] = {}


def _warm() -> tuple[Any, str]:
    """The sandbox and grading session every check of this process shares (started once)."""
    from grader.grading import GradingSession
    from grader.sandbox.launcher import Sandbox

    with _LOCK:
        if "session" not in _STATE:
            sandbox = Sandbox()
            sandbox.start()
            session = GradingSession(sandbox, visibility="public")
            _STATE.update(sandbox=sandbox, session=session)
            atexit.register(_close)
        return _STATE["session"], _STATE["sandbox"].isolation.describe()


def _close() -> None:
    with _LOCK:
        session, sandbox = _STATE.pop("session", None), _STATE.pop("sandbox", None)
    if session is not None:
        session.close()
    if sandbox is not None:
        sandbox.close()


def _scratch() -> Path:
    if "scratch" not in _STATE:
        _STATE["scratch"] = tempfile.TemporaryDirectory(prefix="hw2check-")
    return Path(_STATE["scratch"].name)


def _view(graded: str, items: Sequence[str], isolation: str) -> Any:
    if _shell() is not None and getattr(_shell(), "kernel", None) is not None:
        return HtmlView(graded, items, isolation)
    return TextView(items)


class TextView:
    """Outside a notebook: the command line's item lines and details."""

    def __init__(self, items: Sequence[str]) -> None:
        from grader.selfcheck import Progress

        self.items = set(items)
        self.progress = Progress(sys.stdout, colour=False)

    def started(self, item: str) -> None:
        if self._shown(item):
            self.progress.started(item)

    def finished(self, result: CheckResult) -> None:
        if self._shown(result.item):
            self.progress.finished(result)

    def done(self, book: ScoreBook) -> None:
        from grader.selfcheck import details

        self.progress.close()
        print(details(_only(book, self.items)))

    def _shown(self, item: str) -> bool:
        return not self.items or item in self.items


class HtmlView:
    """In a notebook: one display that shows the items graded so far and the one being graded,
    then the whole table."""

    def __init__(self, graded: str, items: Sequence[str], isolation: str) -> None:
        from IPython.display import HTML, display

        self.graded, self.items, self.isolation = graded, set(items), isolation
        self.results: list[CheckResult] = []
        self.handle = display(HTML(self._render(running="…")), display_id=True)

    def started(self, item: str) -> None:
        if not self.items or item in self.items:
            self._update(self._render(running=item))

    def finished(self, result: CheckResult) -> None:
        self.results.append(result)

    def done(self, book: ScoreBook) -> None:
        self.results = list(book.results)
        self._update(self._render(running=None, book=book))

    def _update(self, html: str) -> None:
        from IPython.display import HTML

        if self.handle is not None:
            self.handle.update(HTML(html))

    def _render(self, *, running: str | None, book: ScoreBook | None = None) -> str:
        from grader.reports.jinja import environment

        results = [r for r in self.results if not self.items or r.item in self.items]
        rows = []
        for item, group in grouped(results).items():
            mark = item_mark(group)
            item_total = total(group)
            failed = [r for r in group if r.outcome in ("failed", "timeout", "missing")]
            rows.append(
                {
                    "item": item,
                    "mark": mark,
                    "points": item_total.points,
                    "max_points": item_total.max_points,
                    "failed": [] if mark == "todo" else failed,
                }
            )
        shown = _only(book, self.items) if book is not None else None
        summary = final(shown) if shown is not None else total(results)
        template = environment().get_template("notebook.html")
        return str(
            template.render(
                graded=self.graded,
                rows=rows,
                running=running,
                total=summary,
                unreadable=book.unreadable if book is not None else "",
                adjustments=[adjustment_line(a) for a in shown.adjustments] if shown else [],
                isolation=self.isolation,
            )
        )


def _only(book: ScoreBook, items: set[str]) -> ScoreBook:
    if not items:
        return book
    return ScoreBook(
        submission=book.submission,
        results=[r for r in book.results if r.item in items or r.outcome == "unreadable"],
        adjustments=[a for a in book.adjustments if a.item in items],
        operations={k: v for k, v in book.operations.items() if k in items},
    )
