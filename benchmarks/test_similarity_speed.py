"""Similarity speed: a generated class of 500 (124,750 pairs) compared end to end, as
`python -m grader similarity` runs it: intake, the book, fingerprints, the index, both reports.

Run with `pytest benchmarks` (or `tox -e bench`); the default test run leaves benchmarks out. The
class is written once, outside the timed rounds (`tests/support/classroom.py`).
"""

from pathlib import Path

from grader.similarity.run import compare_class
from tests.support import classroom

STUDENTS = 500


def test_similarity_of_a_class_of_500(benchmark, tmp_path: Path) -> None:
    folder = tmp_path / "class"
    classroom.write(classroom.honest_class(STUDENTS), folder)

    comparison = benchmark.pedantic(
        compare_class, args=([folder], tmp_path / "out"), rounds=3, iterations=1
    )

    assert comparison.pair_count == STUDENTS * (STUDENTS - 1) // 2
    assert not [p for p in comparison.pairs if p.flagged]  # an honest class: nothing flagged
    assert (tmp_path / "out" / "similarity.html").is_file()
