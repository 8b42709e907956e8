"""`python -m grader similarity` (and `grade --similarity`): a class compared end to end.

Finds the submissions as `grade` does (`grader.intake.sources`: folders, Canvas, Moodle and
Gradescope exports, one per student), reads the book, fingerprints each submission, compares them
(`grader.similarity.compare`) and writes `similarity.html` and `similarity.csv` into the report
folder, each atomically. Reads files only; student code never runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from grader.errors import UnreadableSubmission
from grader.intake.sources import collect
from grader.reports.neutral import terminal
from grader.reports.similarity import CSV_FILE, HTML_FILE, similarity_csv, similarity_html
from grader.reports.writing import write_atomically
from grader.similarity.book import read_book
from grader.similarity.compare import Comparison, Document, Settings, compare, document


def compare_class(
    paths: Sequence[Path],
    out: Path,
    *,
    settings: Settings | None = None,
    book: Sequence[Path] = (),
) -> Comparison:
    """Compare every submission found in `paths`; write the reports into `out` and print the
    flagged pairs."""
    paths = [path.absolute() for path in paths]
    out = out.absolute()
    intake = collect(paths, skip=out)
    the_book = read_book(book)
    documents: list[Document] = []
    for entry in intake.entries:
        try:
            data = entry.read()
        except UnreadableSubmission as error:
            documents.append(Document(entry.student, entry.display_name, problem=str(error)))
            continue
        documents.append(document(entry.student, entry.display_name, data, entry.name, the_book))
    comparison = compare(documents, settings)
    html = similarity_html(comparison, [str(path) for path in book])
    table = similarity_csv(comparison)
    write_atomically(out / HTML_FILE, html)
    write_atomically(out / CSV_FILE, table)
    flagged = [p for p in comparison.pairs if p.flagged]
    print(
        f"similarity: {len(documents)} submissions, {comparison.pair_count} pairs, "
        f"{len(comparison.pairs)} share something of their own, {len(flagged)} flagged"
    )
    for pair in flagged:
        a, b = documents[pair.first], documents[pair.second]
        print(terminal(f"  flagged: {a.student} and {b.student}: score {pair.score:.2f}"))
    print(f"reports in {out}: {HTML_FILE}, {CSV_FILE}")
    return comparison
