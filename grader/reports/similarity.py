"""`similarity.html` and `similarity.csv`: the pairs of a class that share work of their own.

The page is for staff deciding whom to talk to, so it shows evidence, not a verdict: what the
comparison left out (the book, and what is common to the class), what is normal for this class
(each student's highest score against anyone, as a histogram, and the pairs' percentiles), then
the pairs ranked by score, the flagged ones marked, each with its shared fragments side by side as
the two students wrote them (text, never HTML). `similarity.csv` lists every pair that shares
anything, ranked, for a spreadsheet. Pure: numbers and text in, text out.
"""

from __future__ import annotations

import base64
import csv
import io
from collections.abc import Sequence

from grader.reports.charts import histogram
from grader.reports.jinja import environment
from grader.reports.neutral import csv_cell, visible
from grader.similarity.compare import Comparison, fragments

HTML_FILE = "similarity.html"
CSV_FILE = "similarity.csv"
SHOWN_PAIRS = 30
"""Pairs shown with their fragments (every flagged pair is shown besides)."""


def similarity_csv(comparison: Comparison) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        ["rank", "student_a", "name_a", "student_b", "name_b", "score", "shared_code",
         "shared_prose", "flagged"]
    )  # fmt: skip
    docs = comparison.documents
    for rank, pair in enumerate(comparison.pairs, start=1):
        a, b = docs[pair.first], docs[pair.second]
        writer.writerow(
            [rank, *map(csv_cell, (a.student, a.name, b.student, b.name)), f"{pair.score:.3f}",
             pair.shared_code, pair.shared_prose, "yes" if pair.flagged else ""]
        )  # fmt: skip
    return out.getvalue()


def _percentile(ordered: Sequence[float], share: float) -> float:
    if not ordered:
        return 0.0
    return ordered[min(int(share * len(ordered)), len(ordered) - 1)]


def similarity_html(comparison: Comparison, extra_book: Sequence[str] = ()) -> str:
    """The page; `extra_book` names the files staff added to the book."""
    docs = comparison.documents
    settings = comparison.settings
    every = sorted(
        [p.score for p in comparison.pairs]
        + [0.0] * (comparison.pair_count - len(comparison.pairs))
    )
    own = comparison.own
    rows = []
    for rank, pair in enumerate(comparison.pairs, start=1):
        if rank > SHOWN_PAIRS and not pair.flagged:
            continue
        a, b = docs[pair.first], docs[pair.second]
        rows.append(
            {
                "rank": rank,
                "anchor": f"pair-{rank}",
                "a": {
                    "id": visible(a.student),
                    "name": visible(a.name),
                    "own": own[pair.first],
                },
                "b": {
                    "id": visible(b.student),
                    "name": visible(b.name),
                    "own": own[pair.second],
                },
                "pair": pair,
                "fragments": [
                    {
                        "shared": f.shared,
                        "a_where": visible(f.first_where),
                        "a_text": visible(f.first_text),
                        "b_where": visible(f.second_where),
                        "b_text": visible(f.second_text),
                    }
                    for f in fragments(comparison, pair)
                ],
            }
        )
    unread = [(visible(d.student), visible(d.problem)) for d in docs if d.problem]
    chart = (
        histogram(comparison.highest(), 1.0, bins=10, title="each student's highest score")
        if docs
        else b""
    )
    template = environment().get_template(HTML_FILE)
    return str(
        template.render(
            students=len(docs),
            pair_count=comparison.pair_count,
            sharing=len(comparison.pairs),
            flagged=sum(p.flagged for p in comparison.pairs),
            settings=settings,
            common_limit=settings.common_limit(len(docs)),
            common=comparison.common,
            percentiles=[
                (label, _percentile(every, share))
                for label, share in (
                    ("median", 0.5),
                    ("90th", 0.9),
                    ("99th", 0.99),
                    ("highest", 1.0),
                )
            ],
            chart=base64.b64encode(chart).decode() if chart else "",
            rows=rows,
            more=len(comparison.pairs) - len(rows),
            unread=unread,
            extra=[visible(name) for name in extra_book],
        )
    )
