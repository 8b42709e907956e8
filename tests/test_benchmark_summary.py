"""The performance table of benchmarks/README.md (benchmarks/summarize.py): figures are printed as
measured, with no precision they were not recorded with, and only the table is rewritten."""

from benchmarks.summarize import END, START, TABLE_FILE, seconds, table, with_table


def test_milliseconds_keep_three_significant_figures():
    assert seconds(0.182) == "182 ms"
    assert seconds(0.01308) == "13.1 ms"
    assert seconds(0.00351) == "3.51 ms"
    assert seconds(0.00001) == "0.01 ms"
    assert seconds(64.24) == "64.24 s"


def test_a_grading_row_shows_the_harness_in_wall_clock_and_cpu_time():
    row = {
        "name": "test_grade_one_correct_notebook[session]",
        "median_s": 1.24,
        "min_s": 1.18,
        "max_s": 1.3,
        "rounds": 9,
        "student_seconds": 1.06,
        "harness_seconds": 0.182,
        "harness_seconds_min": 0.174,
        "harness_seconds_max": 0.218,
        "harness_cpu_seconds": 0.226,
        "parent_cpu_seconds": 0.107,
    }
    text = table([row], "2 CPUs")
    assert (
        "(student code 1.06 s, harness 182 ms [174 ms to 218 ms]; harness CPU 226 ms, "
        "of which the grading process 107 ms) | 1.24 s | 1.18 s | 1.30 s | 9 |"
    ) in text


def test_only_the_table_between_the_markers_is_rewritten():
    text = f"# Benchmarks\n\nMethod.\n\n{START}\nold table\n{END}\n\nNotes.\n"

    rewritten = with_table(text, "new table")

    assert rewritten == f"# Benchmarks\n\nMethod.\n\n{START}\nnew table\n{END}\n\nNotes.\n"
    assert with_table("no markers here\n", "new table") == "no markers here\n"


def test_the_table_lives_in_the_benchmarks_readme():
    """Each marker once: prose that quoted one would be taken for the table's edge."""
    text = TABLE_FILE.read_text()

    assert TABLE_FILE.parts[-2:] == ("benchmarks", "README.md")
    assert text.count(START) == 1
    assert text.count(END) == 1
    assert text.index(START) < text.index(END)
