"""The class's files: `gradebook.csv` (a row per student: per-item points, total, status; Canvas and
Moodle import it as a CSV of grades), `junit.xml` (a test case per check, for CI systems) and
`summary.html` (score histogram, pass rate per check, common mistakes, slowest and failed
submissions)."""

from __future__ import annotations

import csv
import io
import statistics
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import quote
from xml.sax.saxutils import escape, quoteattr

from grader.reports.jinja import OUTCOME_LABELS, environment, points
from grader.reports.neutral import csv_cell, xml_text
from grader.scoring import CheckResult, ScoreBook, Total, by_item, final, item_points, total


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
                status(book),
            ]
        )
    return out.getvalue()


def junit_xml(books: Mapping[str, ScoreBook]) -> str:
    """JUnit XML: a test suite per submission, a test case per check."""
    parts = ['<?xml version="1.0" encoding="utf-8"?>', "<testsuites>"]
    for name, book in books.items():
        if book.unreadable:  # no check ran: one error, not a failure per check
            parts += [
                f'  <testsuite name={quoteattr(xml_text(name))} tests="1" failures="0" errors="1" '
                'skipped="0" time="0.000">',
                f'    <testcase classname="submission" name="read"><error message="unreadable">'
                f"{escape(xml_text(book.unreadable))}</error></testcase>",
                "  </testsuite>",
            ]
            continue
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


@dataclass(frozen=True)
class Student:
    """A row of the class: the student's id and name, the folder of their reports (relative to the
    summary), and their results (None when not graded)."""

    id: str
    name: str
    folder: str
    book: ScoreBook | None


def status(book: ScoreBook | None) -> str:
    if book is None:
        return "not graded"
    if book.unreadable:
        return "unreadable"
    summary = total(book.results)
    state = f"regrade: {summary.not_graded} not graded" if summary.needs_regrade else "graded"
    if book.operations:  # the "from scratch" rules' findings, for staff whatever the policy
        used = "; ".join(
            f"{item} uses {', '.join(name.rsplit('.', 1)[-1] for name in names)}"
            for item, names in sorted(book.operations.items())
        )
        state += f"; not from scratch: {used}"
    return state


def summary_html(students: Sequence[Student], problems: Sequence[str]) -> str:
    """The staff summary of a class as a self-contained HTML page: intake problems first, the
    items by failure rate with their checks folded beneath, the named mistakes with who made them,
    and a sortable table of students linking to each one's feedback."""
    import base64

    from grader.reports.charts import histogram

    graded = [s for s in students if s.book is not None]
    books = {s.id: s.book for s in graded if s.book is not None}
    totals = {student: final(book) for student, book in books.items()}
    maximum = max((t.max_points for t in totals.values()), default=100.0)
    scores = sorted(t.points for t in totals.values())
    isolations = Counter(book.isolation for book in books.values())
    seconds = {s: round(sum(r.seconds for r in b.results), 2) for s, b in books.items()}
    template = environment().get_template("summary.html")
    return str(
        template.render(
            graded=len(graded),
            not_graded=len(students) - len(graded),
            mean=round(sum(scores) / len(scores), 1) if scores else 0.0,
            median=round(statistics.median(scores), 1) if scores else 0.0,
            maximum=maximum,
            histogram=base64.b64encode(histogram(scores, maximum)).decode(),
            # An unreadable file ran no check: it says nothing about how hard a check is.
            items=_items({s: b for s, b in books.items() if not b.unreadable}),
            mistakes=_mistakes(graded),
            students=[
                {
                    "id": s.id,
                    "name": s.name,
                    "link": f"{quote(s.folder)}/feedback.html" if s.book is not None else "",
                    "score": totals[s.id].points if s.book is not None else None,
                    "late": s.book.late_days if s.book is not None else 0,
                    "status": status(s.book),
                }
                for s in sorted(students, key=lambda s: (s.name.lower(), s.id))
            ],
            slowest=sorted(seconds.items(), key=lambda kv: -kv[1])[:10],
            problems=list(problems),
            isolations=sorted(isolations.items()),
        )
    )


@dataclass(frozen=True)
class CheckRate:
    description: str
    passed: int
    count: int


@dataclass(frozen=True)
class ItemRate:
    name: str
    full: int
    """Submissions that earned all of the item's points."""
    count: int
    mean: float
    max: float
    checks: list[CheckRate]

    @property
    def failure_rate(self) -> float:
        return 1 - self.full / self.count


def _items(books: Mapping[str, ScoreBook]) -> list[ItemRate]:
    """Each item: how many submissions earned all its points, its mean, and its checks' pass
    rates (the least passed first); the items most often failed first."""
    per_item: dict[str, list[Total]] = {}
    checks: dict[str, dict[str, list[bool]]] = {}
    described: dict[str, CheckResult] = {}
    for book in books.values():
        for item, item_total in by_item(book.results).items():
            per_item.setdefault(item, []).append(item_total)
        for r in book.results:
            if r.outcome == "not_graded":
                continue
            checks.setdefault(r.item, {}).setdefault(r.check_id, []).append(r.outcome == "passed")
            described.setdefault(r.check_id, r)
    rows = [
        ItemRate(
            name=item,
            full=sum(t.points >= t.max_points for t in totals),
            count=len(totals),
            mean=round(sum(t.points for t in totals) / len(totals), 1),
            max=totals[0].max_points,
            checks=sorted(
                (
                    CheckRate(described[c].description, sum(v), len(v))
                    for c, v in checks.get(item, {}).items()
                ),
                key=lambda rate: rate.passed / rate.count,
            ),
        )
        for item, totals in per_item.items()
    ]
    return sorted(rows, key=lambda row: -row.failure_rate)


def _mistakes(graded: Sequence[Student]) -> list[tuple[str, list[Student]]]:
    """Each named mistake (from the checks' diagnoses, never from message text) with the students
    who made it, the most common first."""
    made: dict[str, dict[str, Student]] = {}
    for student in graded:
        assert student.book is not None
        for r in student.book.results:
            if r.mistake:
                made.setdefault(r.mistake, {})[student.id] = student
    return sorted(
        ((name, list(who.values())) for name, who in made.items()),
        key=lambda kv: (-len(kv[1]), kv[0]),
    )
