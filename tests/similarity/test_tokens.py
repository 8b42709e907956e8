"""Code and prose as the comparison reads them (`grader.similarity.tokens`): what a copier changes
to disguise code reads the same; what is not the student's choice stays as written."""

from hypothesis import given
from hypothesis import strategies as st

from grader.similarity.tokens import code_tokens, imported_names, prose_tokens

BOOK = (
    "def corr2d(X, K):\n"
    '    """Compute 2D cross-correlation."""\n'
    "    h, w = K.shape\n"
    "    Y = torch.zeros((X.shape[0] - h + 1, X.shape[1] - w + 1))\n"
    "    for i in range(Y.shape[0]):\n"
    "        for j in range(Y.shape[1]):\n"
    "            Y[i, j] = (X[i:i + h, j:j + w] * K).sum()\n"
    "    return Y\n"
)

DISGUISED = (
    "# my own cross-correlation\n"
    "def corr2d(inp, ker):\n"
    "    kh, kw = ker.shape  # kernel size\n\n"
    "    out = torch.zeros((inp.shape[0]-kh+2,\n"
    "                       inp.shape[1]-kw+2))\n"
    "    for r in range(out.shape[0]):\n"
    "        for c in range(out.shape[1]): out[r, c] = (inp[r:r+kh, c:c+kw]*ker).sum()\n"
    "    return out\n"
)


def texts(source: str, imported: frozenset[str] = frozenset({"torch"})) -> list[str]:
    return [t.text for t in code_tokens(source, imported)]


def test_renamed_reformatted_recommented_code_reads_as_the_original() -> None:
    assert texts(DISGUISED) == texts(BOOK)


def test_what_is_not_the_students_choice_stays_as_written() -> None:
    source = "y = nn.LazyConv2d(out, kernel_size=3, padding=pad)\nprint(len(y))\n"

    assert texts(source, frozenset({"nn"})) == [
        "N", "=", "nn", ".", "LazyConv2d", "(", "N", ",", "kernel_size", "=", "0", ",",
        "padding", "=", "N", ")", ";", "print", "(", "len", "(", "N", ")", ")", ";",
    ]  # fmt: skip


def test_a_different_operation_reads_differently() -> None:
    assert texts(BOOK.replace(".sum()", ".mean()")) != texts(BOOK)
    assert texts(BOOK.replace(" * K", " @ K")) != texts(BOOK)


def test_magics_are_left_out_and_broken_code_is_read_without_error() -> None:
    assert texts("%matplotlib inline\n!pip install d2l\n%%time\n") == []
    assert texts('print "python 2"\ns = """never closed\n')[:4] == ["print", '""', ";", "N"]


def test_lines_are_kept_for_each_token() -> None:
    tokens = code_tokens('x = """a\nb"""\ny = 1\n', frozenset())

    assert [(t.text, t.line) for t in tokens][-4:] == [("N", 2), ("=", 2), ("0", 2), (";", 2)]


def test_imported_names_are_the_names_import_statements_bind() -> None:
    source = (
        "import torch\nfrom torch.nn import functional as F  # the usual\n"
        "import reference as r\nsaid = 'from here import all of it'\n"
    )

    assert imported_names(source) == {"torch", "nn", "functional", "F", "reference"}


def test_prose_is_its_lowercased_words() -> None:
    tokens = prose_tokens("**Translation** invariance:\n> the *same* patch, anywhere.")

    assert [(t.text, t.line) for t in tokens] == [
        ("translation", 0), ("invariance", 0), ("the", 1), ("same", 1), ("patch", 1),
        ("anywhere", 1),
    ]  # fmt: skip


@given(st.text(max_size=300))
def test_any_text_is_tokenized(source: str) -> None:
    tokens = code_tokens(source, frozenset())

    assert all(t.text for t in tokens)
    assert all(0 <= t.line <= source.count("\n") for t in tokens)
