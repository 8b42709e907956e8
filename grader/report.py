"""Reports from a grading run, as pure functions of the results: no torch, no pytest, no grading.

* `results_json`: Gradescope's results.json for one submission (written only by the trusted parent).
* `feedback_markdown`: the student's feedback: total, then per item its points and, for each failed
  check, what was checked and the message with its hint.
* `gradebook_csv`: one row per student with per-item points and the total (Canvas and Moodle import
  it as a CSV of grades).
* `junit_xml`: one test case per check, for CI systems.
* `feedback_html` and `summary_html`: the student's feedback with the training runs' loss curves, and
  the staff summary (score histogram, pass rate per check, common mistakes, slowest and failed
  submissions), rendered from the Jinja templates in `grader/templates/` with autoescaping.

Outputs are stable: checks in the order they ran, sorted keys, a trailing newline.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from grader.scoring import CheckResult, ScoreBook, by_item, total

OUTCOME_LABELS = {
    "passed": "passed",
    "failed": "failed",
    "timeout": "timed out",
    "missing": "missing",
    "not_graded": "not graded",
}


def results_json(book: ScoreBook) -> str:
    """Gradescope's results format: score, max_score, execution_time, tests (with tags = the item)."""
    summary = total(book.results)
    data: dict[str, Any] = {
        "score": summary.points,
        "max_score": summary.max_points,
        "execution_time": round(sum(r.seconds for r in book.results), 3),
        "output": f"Isolation: {book.isolation}" if book.isolation else "",
        "tests": [
            {
                "name": r.description,
                "number": r.check_id,
                "score": r.points,
                "max_score": r.max_points,
                "status": "passed" if r.outcome == "passed" else "failed",
                "output": r.message,
                "visibility": "visible" if r.visibility == "public" else "after_published",
                "tags": [r.item],
                "extra_data": {"outcome": r.outcome},
            }
            for r in book.results
        ],
        "extra_data": {"checks": [asdict(r) for r in book.results]},
    }
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


def feedback_markdown(book: ScoreBook, *, title: str = "HW2 feedback") -> str:
    """The student's feedback as Markdown."""
    summary = total(book.results)
    lines = [
        f"# {title}",
        "",
        f"**Total: {_points(summary.points)} / {_points(summary.max_points)}**",
        "",
    ]
    if summary.not_graded:
        lines += [
            f"{summary.not_graded} check(s) could not be graded because of a problem in the grader; "
            "they do not count against you, and your instructor has been notified.",
            "",
        ]
    groups: dict[str, list[CheckResult]] = {}
    for result in book.results:
        groups.setdefault(result.item, []).append(result)
    for item, results in groups.items():
        item_total = total(results)
        lines += [
            f"## `{item}`: {_points(item_total.points)} / {_points(item_total.max_points)}",
            "",
        ]
        for r in results:
            mark = "✓" if r.outcome == "passed" else "✗"
            lines.append(
                f"- {mark} {r.description} ({_points(r.points)}/{_points(r.max_points)}, {OUTCOME_LABELS[r.outcome]})"
            )
            if r.outcome != "passed" and r.message:
                lines += [
                    "",
                    "  ```",
                    *[f"  {line}" for line in r.message.splitlines()],
                    "  ```",
                    "",
                ]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _points(value: float) -> str:
    return f"{value:g}"


def gradebook_csv(rows: Sequence[tuple[str, str, ScoreBook | None]], items: Sequence[str]) -> str:
    """A CSV with columns student, name, one per item, total, max; an unreadable submission gets 0."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["student", "name", *items, "total", "max", "status"])
    for student, name, book in rows:
        if book is None:
            writer.writerow([student, name, *["0"] * len(items), "0", "", "unreadable"])
            continue
        per_item = by_item(book.results)
        summary = total(book.results)
        writer.writerow(
            [
                student,
                name,
                *[_points(per_item[i].points) if i in per_item else "0" for i in items],
                _points(summary.points),
                _points(summary.max_points),
                "graded",
            ]
        )
    return out.getvalue()


def junit_xml(books: Mapping[str, ScoreBook]) -> str:
    """JUnit XML: a test suite per submission, a test case per check."""
    parts = ['<?xml version="1.0" encoding="utf-8"?>', "<testsuites>"]
    for name, book in books.items():
        failures = sum(r.outcome in ("failed", "timeout", "missing") for r in book.results)
        skipped = sum(r.outcome == "not_graded" for r in book.results)
        parts.append(
            f'  <testsuite name={quoteattr(name)} tests="{len(book.results)}" failures="{failures}" '
            f'skipped="{skipped}" time="{sum(r.seconds for r in book.results):.3f}">'
        )
        for r in book.results:
            attrs = (
                f'classname={quoteattr(r.item)} name={quoteattr(r.check_id)} time="{r.seconds:.3f}"'
            )
            if r.outcome == "passed":
                parts.append(f"    <testcase {attrs}/>")
            elif r.outcome == "not_graded":
                parts.append(f'    <testcase {attrs}><skipped message="not graded"/></testcase>')
            else:
                parts.append(
                    f"    <testcase {attrs}><failure message={quoteattr(OUTCOME_LABELS[r.outcome])}>"
                    f"{escape(r.message)}</failure></testcase>"
                )
        parts.append("  </testsuite>")
    parts.append("</testsuites>")
    return "\n".join(parts) + "\n"


def write_atomically(path: Path, text: str) -> None:
    """Write `text` to `path` so that a reader sees either the old file or the whole new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)


def discard_unfinished_writes(folder: Path) -> None:
    """Remove the temporary files `write_atomically` left in `folder` when a run was killed mid-write.

    Call it only while no other process writes into `folder` (one grading run per output folder)."""
    for temporary in folder.glob(".*.*.tmp"):
        temporary.unlink(missing_ok=True)


def _environment() -> Any:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).with_name("templates")),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["points"] = _points
    return env


def feedback_html(book: ScoreBook, *, title: str = "HW2 feedback") -> str:
    """The student's feedback as a self-contained HTML page (loss curves embedded as PNG)."""
    import base64

    from grader.plots import loss_curve

    groups: dict[str, list[CheckResult]] = {}
    for result in book.results:
        groups.setdefault(result.item, []).append(result)
    curves = {
        r.check_id: base64.b64encode(loss_curve(_floats(r.data["losses"]), r.item)).decode()
        for r in book.results
        if r.data.get("losses")
    }
    items = [
        {"name": name, "results": results, "total": total(results)}
        for name, results in groups.items()
    ]
    template = _environment().get_template("feedback.html")
    return str(
        template.render(
            title=title,
            total=total(book.results),
            items=items,
            curves=curves,
            labels=OUTCOME_LABELS,
        )
    )


def summary_html(books: Mapping[str, ScoreBook], problems: Sequence[str]) -> str:
    """The staff summary of a batch as a self-contained HTML page."""
    import base64
    import re

    from grader.plots import histogram

    totals = {student: total(book.results) for student, book in books.items()}
    maximum = max((t.max_points for t in totals.values()), default=100.0)
    passes: dict[str, list[bool]] = {}
    described: dict[str, CheckResult] = {}
    mistakes: dict[str, set[str]] = {}
    for student, book in books.items():
        for r in book.results:
            if r.outcome == "not_graded":
                continue
            passes.setdefault(r.check_id, []).append(r.outcome == "passed")
            described.setdefault(r.check_id, r)
            for name in re.findall(r"hint: ([^:\n]+):", r.message):
                mistakes.setdefault(name.strip(), set()).add(student)
    checks = [
        {
            "item": described[c].item,
            "description": described[c].description,
            "rate": f"{sum(v)}/{len(v)}",
        }
        for c, v in passes.items()
    ]
    seconds = {s: round(sum(r.seconds for r in b.results), 2) for s, b in books.items()}
    template = _environment().get_template("summary.html")
    return str(
        template.render(
            graded=len(books),
            mean=(sum(t.points for t in totals.values()) / len(totals)) if totals else 0.0,
            maximum=maximum,
            histogram=base64.b64encode(
                histogram([t.points for t in totals.values()], maximum)
            ).decode(),
            checks=checks,
            mistakes=sorted(
                ((k, len(v)) for k, v in mistakes.items()), key=lambda kv: (-kv[1], kv[0])
            ),
            slowest=sorted(seconds.items(), key=lambda kv: -kv[1])[:10],
            failing=[
                (s, f"{t.points:g} / {t.max_points:g}")
                for s, t in totals.items()
                if t.points < t.max_points
            ],
            problems=list(problems),
        )
    )


def _floats(values: object) -> list[float]:
    return [float(v) for v in values] if isinstance(values, list) else []
