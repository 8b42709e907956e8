"""The class's files: `gradebook.csv` (a row per student: per-item points, total, status; Canvas and
Moodle import it as a CSV of grades), `junit.xml` (a test case per check, for CI systems) and
`summary.html` (score histogram, pass rate per check, common mistakes, slowest and failed
submissions)."""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Mapping, Sequence
from xml.sax.saxutils import escape, quoteattr

from grader.reports.jinja import OUTCOME_LABELS, environment, points
from grader.reports.neutral import csv_cell, xml_text
from grader.scoring import CheckResult, ScoreBook, final, item_points


def gradebook_csv(rows: Sequence[tuple[str, str, ScoreBook | None]], items: Sequence[str]) -> str:
    """A CSV with columns student, name, one per item (with the manual points given to it), late
    (days), late_deduction, adjustments (manual points to the total), total, max, status; a student
    without results (`None`: not graded yet) gets 0 and the status `not graded`."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        [
            "student",
            "name",
            *items,
            "late",
            "late_deduction",
            "adjustments",
            "total",
            "max",
            "status",
        ]
    )
    for student, name, book in rows:
        if book is None:
            writer.writerow(
                [csv_cell(student), csv_cell(name), *["0"] * len(items), "", "", "", "0", "", "not graded"]
            )  # fmt: skip
            continue
        per_item = item_points(book)
        summary = final(book)
        late_off = -sum(a.points for a in book.adjustments if a.kind == "late")
        to_total = sum(
            a.points for a in book.adjustments if a.kind == "manual" and a.item not in per_item
        )
        writer.writerow(
            [
                csv_cell(student),
                csv_cell(name),
                *[points(per_item[i]) if i in per_item else "0" for i in items],
                str(book.late_days) if book.late_days else "",
                points(late_off) if late_off else "",
                points(to_total) if to_total else "",
                points(summary.points),
                points(summary.max_points),
                f"regrade: {summary.not_graded} not graded" if summary.needs_regrade else "graded",
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
            f'  <testsuite name={quoteattr(xml_text(name))} tests="{len(book.results)}" failures="{failures}" '
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
                    f"{escape(xml_text(r.message))}</failure></testcase>"
                )
        parts.append("  </testsuite>")
    parts.append("</testsuites>")
    return "\n".join(parts) + "\n"


def summary_html(books: Mapping[str, ScoreBook], problems: Sequence[str]) -> str:
    """The staff summary of a batch as a self-contained HTML page."""
    import base64

    from grader.reports.charts import histogram

    totals = {student: final(book) for student, book in books.items()}
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
            if r.mistake:
                mistakes.setdefault(r.mistake, set()).add(student)
    checks = [
        {
            "item": described[c].item,
            "description": described[c].description,
            "rate": f"{sum(v)}/{len(v)}",
        }
        for c, v in passes.items()
    ]
    seconds = {s: round(sum(r.seconds for r in b.results), 2) for s, b in books.items()}
    isolations = Counter(book.isolation for book in books.values())
    template = environment().get_template("summary.html")
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
            isolations=sorted(isolations.items()),
        )
    )
