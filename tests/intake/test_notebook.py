"""Reading files: notebook formats, Python scripts, encodings, and clear errors for everything else."""

import codecs
import contextlib
import json
import tracemalloc

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grader.errors import SubmissionError, UnreadableSubmission
from grader.intake.notebook import Cell, read_cells
from grader.intake.submission import parse_submission

CORR2D = "def corr2d(X, K):\n    return X\n"


def notebook(*sources: str, minor: int = 5, as_lines: bool = True) -> dict:
    cells = []
    for i, source in enumerate(sources):
        cell = {
            "cell_type": "code",
            "execution_count": None,
            "metadata": {},
            "outputs": [],
            "source": source.splitlines(keepends=True) if as_lines else source,
        }
        if minor >= 5:
            cell["id"] = f"c{i}"
        cells.append(cell)
    return {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": minor}


def encode(nb: dict) -> bytes:
    return json.dumps(nb).encode()


@pytest.mark.parametrize("minor", [0, 1, 2, 3, 4, 5])
def test_reads_every_minor_version_of_format_4(minor: int) -> None:
    cells = read_cells(encode(notebook("import torch", CORR2D, minor=minor)), "hw.ipynb")

    assert cells == [Cell(1, "code", "import torch"), Cell(2, "code", CORR2D)]


def test_reads_sources_given_as_one_string() -> None:
    assert read_cells(encode(notebook(CORR2D, as_lines=False)), "hw.ipynb")[0].source == CORR2D


def test_windows_line_endings_and_non_ascii_text() -> None:
    source = "# 합성곱: 교차상관 — naïve loops\r\ndef corr2d(X, K):\r\n    return X\r\n"
    data = json.dumps(notebook(source), ensure_ascii=False).encode("utf-8")

    submission = parse_submission(data, "hw.ipynb")

    assert submission.definitions["corr2d"].line == 2
    assert "\r" not in submission.program.statements[0].source


@pytest.mark.parametrize("bom", [codecs.BOM_UTF8, b""])
def test_utf8_with_or_without_bom(bom: bytes) -> None:
    assert read_cells(bom + encode(notebook(CORR2D)), "hw.ipynb")[0].source == CORR2D


def test_utf16_with_bom_is_read() -> None:
    data = json.dumps(notebook(CORR2D)).encode("utf-16")

    assert read_cells(data, "hw.ipynb")[0].source == CORR2D


def test_outputs_are_dropped_while_reading() -> None:
    nb = notebook(CORR2D)
    nb["cells"][0]["outputs"] = [
        {"output_type": "display_data", "data": {"image/png": "A" * 1000}, "metadata": {}}
    ]

    assert read_cells(encode(nb), "hw.ipynb") == [Cell(1, "code", CORR2D)]


def test_markdown_and_raw_cells_keep_their_positions() -> None:
    nb = notebook("x = 1", CORR2D)
    nb["cells"].insert(0, {"cell_type": "markdown", "metadata": {}, "source": "# Title"})

    cells = read_cells(encode(nb), "hw.ipynb")

    assert [(c.number, c.kind) for c in cells] == [(1, "markdown"), (2, "code"), (3, "code")]


PLAIN = "import torch\n\ndef corr2d(X, K):\n    return X\n\nprint(corr2d(1, 2))\n"
PERCENT = (
    "# %%\nimport torch\n\n# %% [markdown]\n# # Title\n\n# %%\ndef corr2d(X, K):\n    return X\n"
)
NBCONVERT = "#!/usr/bin/env python\n# coding: utf-8\n\n# In[1]:\n\n\nimport torch\n\n\n# In[ ]:\n\n\ndef corr2d(X, K):\n    return X\n"


def test_a_plain_python_file_is_one_cell() -> None:
    submission = parse_submission(PLAIN.encode(), "hw.py")

    assert submission.definitions["corr2d"].where == "cell 1, line 3"
    assert [d.excerpt for d in submission.program.dropped] == ["print(corr2d(1, 2))"]


def test_a_jupytext_percent_file_is_split_into_cells() -> None:
    cells = read_cells(PERCENT.encode(), "hw.py")

    assert [(c.number, c.kind) for c in cells] == [(1, "code"), (2, "markdown"), (3, "code")]
    assert (
        parse_submission(PERCENT.encode(), "hw.py").definitions["corr2d"].where == "cell 3, line 1"
    )


def test_an_nbconvert_script_is_split_at_its_in_markers() -> None:
    submission = parse_submission(NBCONVERT.encode(), "hw.py")

    assert submission.definitions["corr2d"].cell == 3
    assert [s.kind for s in submission.program.statements] == ["import", "def"]


BAD_FILES = [
    ("empty.ipynb", b"", "the file is empty (0 bytes)"),
    (
        "truncated.ipynb",
        b'{"cells": [',
        "it is not valid JSON: expecting value at line 1, column 12 (the file ends at line 1, "
        "column 12)",
    ),
    ("list.ipynb", b"[1, 2, 3]", "it is JSON but not a Jupyter notebook"),
    ("dict.ipynb", b'{"cells": []}', "it is JSON but not a Jupyter notebook"),
    ("future.ipynb", b'{"nbformat": 5, "cells": []}', "newer than this grader reads"),
    (
        "nocells.ipynb",
        b'{"nbformat": 4, "nbformat_minor": 5, "cells": 3}',
        "without a list of cells",
    ),
    ("image.ipynb", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "it is a binary file, not a notebook"),
    (
        "latin1.ipynb",
        '{"nbformat": 4, "cells": ["café"]}'.encode("latin-1"),
        "it is not UTF-8 text: byte 0xe9 at line 1, column 31 (byte 30 from the start",
    ),
    ("latin1.py", "# café\n".encode("latin-1"), "it is not UTF-8 text"),
    (
        "bom.ipynb",
        b"\xef\xbb\xbf" + '{"cells": ["é"]}'.encode("latin-1"),
        "it is not UTF-8 text: byte 0xe9 at line 1, column 16 (byte 15 from the start",
    ),
    (
        "utf16.ipynb",
        b"\xff\xfe" + "{}".encode("utf-16-le") + b"\x00\xd8",
        "it is not UTF-16 text: byte 0x00 at line 1, column 7 (byte 6 from the start",
    ),
    ("homework.docx", b"PK\x03\x04", "it is not a notebook (.docx)"),
    ("homework.pdf", b"%PDF-1.7", "it is not a notebook (.pdf)"),
    ("README", b"hello", "it is not a notebook (no extension)"),
    ("deep.ipynb", b"[" * 100_000, "nested too deeply"),
    (
        "old.ipynb",
        b'{"nbformat": 3, "worksheets": 7}',
        "it is an old notebook (format 3) that could not be upgraded",
    ),
]


@pytest.mark.parametrize(("name", "data", "message"), BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_unreadable_files_get_a_clear_error(name: str, data: bytes, message: str) -> None:
    with pytest.raises(UnreadableSubmission) as info:
        parse_submission(data, name)

    assert str(info.value).startswith(f"{name} could not be read: ")
    assert message in str(info.value)


def test_an_empty_notebook_defines_nothing() -> None:
    submission = parse_submission(encode(notebook()), "hw.ipynb")

    assert submission.definitions == {}
    assert submission.status("corr2d") == "missing"


def test_malformed_cells_are_skipped() -> None:
    nb = notebook(CORR2D)
    nb["cells"] += [7, {"cell_type": "code", "source": 12}, {"cell_type": "mystery", "source": "x"}]

    assert [c.source for c in read_cells(encode(nb), "hw.ipynb")] == [CORR2D]


def test_a_large_notebook_of_image_outputs_is_read_within_a_small_memory_budget() -> None:
    """A 50 MB notebook of images: peak memory stays within twice the file's size."""
    image = "iVBORw0KGgo" + "A" * (1024 * 1024)
    nb = notebook("import torch", CORR2D, *[f"show({i})" for i in range(50)])
    for cell in nb["cells"][2:]:
        cell["outputs"] = [
            {"output_type": "display_data", "data": {"image/png": image}, "metadata": {}}
        ]
    data = encode(nb)
    assert len(data) > 50 * 1024 * 1024
    tracemalloc.start()

    submission = parse_submission(data, "big.ipynb")

    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert "corr2d" in submission.definitions
    assert peak < 2 * len(data)


# Fuzzing: nothing but our documented submission errors ever escapes.

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)


def parse_or_refuse(data: bytes, name: str = "fuzz.ipynb") -> None:
    with contextlib.suppress(SubmissionError):
        parse_submission(data, name)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=300), name=st.sampled_from(["a.ipynb", "a.py", "a.txt", "a"]))
def test_random_bytes_never_crash_the_reader(data: bytes, name: str) -> None:
    parse_or_refuse(data, name)


@settings(max_examples=200)
@given(value=json_values)
def test_random_json_never_crashes_the_reader(value) -> None:
    parse_or_refuse(json.dumps(value).encode())


NOTEBOOK_KEYS = [
    "cells",
    "nbformat",
    "nbformat_minor",
    "metadata",
    "cell_type",
    "source",
    "outputs",
    "id",
]


@st.composite
def mutated_notebooks(draw: st.DrawFn) -> bytes:
    """A valid notebook with a few of its values replaced by random JSON, or its text cut or spliced."""
    nb = notebook("import torch", CORR2D, "%matplotlib inline\nx = !ls", "def f(:\n  pass")
    for _ in range(draw(st.integers(1, 4))):
        cells = nb["cells"] if isinstance(nb["cells"], list) and nb["cells"] else [None]
        target = nb if draw(st.booleans()) else draw(st.sampled_from(cells))
        if not isinstance(target, dict):
            continue
        target[draw(st.sampled_from(NOTEBOOK_KEYS))] = draw(json_values)
    text = json.dumps(nb).encode()
    if draw(st.booleans()):
        cut = draw(st.integers(0, len(text)))
        text = text[:cut] + draw(st.binary(max_size=8)) + text[cut + draw(st.integers(0, 8)) :]
    return text


@settings(max_examples=300)
@given(data=mutated_notebooks())
def test_mutated_notebooks_never_crash_the_reader(data: bytes) -> None:
    parse_or_refuse(data)


@settings(max_examples=200)
@given(source=st.text(max_size=200))
def test_random_cell_sources_never_crash_extraction(source: str) -> None:
    parse_or_refuse(encode(notebook(source)))
