"""Gradescope's results.json for one submission, and a ScoreBook read back from one.

Written only by the trusted parent; `extra_data` holds every check's full record for staff, which is
what a class's files are rebuilt from. Stable output: checks in the order they ran, sorted keys.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from grader.scoring import Adjustment, CheckResult, ScoreBook, Total, final


def results_json(book: ScoreBook, *, heading: str = "") -> str:
    """Gradescope's results format: score, max_score, execution_time, tests (with tags = the item).
    The score includes the late deduction and manual points, which `output` lists, after
    `heading` (which file was graded, say) when given."""
    summary = final(book)
    data: dict[str, Any] = {
        "score": summary.points,
        "max_score": summary.max_points,
        "execution_time": round(sum(r.seconds for r in book.results), 3),
        "output": "\n".join(filter(None, [heading, _output(book, summary)])),
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
            if not book.unreadable  # one reason in `output`, not a failure per check
        ],
        "extra_data": {
            "checks": [asdict(r) for r in book.results],
            "isolation": book.isolation,
        },
    }
    if book.unreadable:
        data["extra_data"]["status"] = "unreadable"
    if book.provenance:  # what `grade` graded (grader.batch.provenance)
        data["extra_data"]["provenance"] = book.provenance
    if book.operations:
        data["extra_data"]["operations"] = book.operations
    if book.adjustments or book.late_days:
        data["extra_data"]["adjustments"] = [asdict(a) for a in book.adjustments]
        data["extra_data"]["late"] = {"days": book.late_days, "note": book.late_note}
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


def _output(book: ScoreBook, summary: Total) -> str:
    lines = []
    if book.unreadable:
        lines.append(f"{book.unreadable}\n{UNREADABLE_ADVICE}")
    lines += [f"Isolation: {book.isolation}"] if book.isolation else []
    lines += [adjustment_line(a) for a in all_adjustments(book)]
    if summary.needs_regrade:
        lines.append(
            f"{summary.not_graded} check(s) could not be graded because of a problem in the "
            "grader; they count 0 until staff regrade this submission."
        )
    return "\n".join(lines)


UNREADABLE_ADVICE = "Nothing in it was graded: hand in a notebook that opens in Jupyter."


def load_results(path: Path) -> ScoreBook:
    """A ScoreBook back from a results.json this grader wrote."""
    data = json.loads(path.read_text(encoding="utf-8"))
    results = [CheckResult(**fields) for fields in data["extra_data"]["checks"]]
    isolation = str(data["extra_data"].get("isolation") or "")
    recorded = data["extra_data"].get("provenance") or {}
    provenance = {str(k): str(v) for k, v in recorded.items()} if isinstance(recorded, dict) else {}
    late = data["extra_data"].get("late") or {}
    operations = data["extra_data"].get("operations") or {}
    return ScoreBook(
        submission=str(path.parent.name),
        results=results,
        isolation=isolation,
        provenance=provenance,
        adjustments=[Adjustment(**a) for a in data["extra_data"].get("adjustments") or []],
        late_days=int(late.get("days", 0)),
        late_note=str(late.get("note", "")),
        operations={str(k): [str(n) for n in v] for k, v in operations.items()},
    )


def all_adjustments(book: ScoreBook) -> list[Adjustment]:
    """The book's adjustments, with late work that cost nothing shown as a 0-point one."""
    adjustments = list(book.adjustments)
    if book.late_days and not any(a.kind == "late" for a in adjustments):
        adjustments.insert(0, Adjustment("total", 0.0, book.late_note, kind="late"))
    return adjustments


def adjustment_line(adjustment: Adjustment) -> str:
    """`Late: -10 (submitted ..., 1 day after the due date)`, `pool2d: +1.5 (comment)`, and
    `Late: no deduction (marked late by Canvas ...)` where the late policy takes nothing off."""
    what = "Late" if adjustment.kind == "late" else adjustment.item
    comment = f" ({adjustment.comment})" if adjustment.comment else ""
    if adjustment.kind == "late" and not adjustment.points:
        return f"{what}: no deduction{comment}"
    return f"{what}: {adjustment.points:+g}{comment}"
