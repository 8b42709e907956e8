"""Winnowing (`grader.similarity.fingerprints`): two texts that share a long enough run of tokens
share a fingerprint, what the book holds is never chosen, and hashes are the same in every process."""

import json
import os
import subprocess
import sys
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from grader.similarity.fingerprints import CODE, PROSE, gram_hashes, winnow
from grader.similarity.tokens import Token

ROOT = Path(__file__).resolve().parents[2]
WORDS = st.lists(st.sampled_from("abcdefghij"), max_size=40)


def tokens(words: list[str]) -> list[Token]:
    return [Token(w, n) for n, w in enumerate(words)]


@given(
    before=WORDS,
    after=WORDS,
    other=WORDS,
    shared=st.lists(st.sampled_from("abcdefghij"), min_size=CODE.k + CODE.window - 1, max_size=40),
)
def test_a_shared_run_as_long_as_the_guarantee_shares_a_fingerprint(before, after, other, shared) -> None:  # fmt: skip
    first = {f.hash for f in winnow(tokens(before + shared + after), CODE)}
    second = {f.hash for f in winnow(tokens(other + shared), CODE)}

    assert first & second


def test_fingerprints_are_fewer_than_the_runs_and_say_where_they_are() -> None:
    words = [f"w{n % 17}" for n in range(300)]
    kept = winnow(tokens(words), CODE)

    assert len(words) // CODE.window // 2 < len(kept) < len(words) - CODE.k
    assert all(f.last_line - f.first_line == CODE.k - 1 for f in kept)


def test_what_the_book_holds_is_never_chosen() -> None:
    book = [f"b{n}" for n in range(60)]
    own = [f"s{n}" for n in range(60)]
    excluded = set(gram_hashes(tokens(book), CODE))

    kept = winnow(tokens(book + own), CODE, excluded)

    assert kept
    assert not {f.hash for f in kept} & excluded
    assert winnow(tokens(book), CODE, excluded) == []


def test_code_and_prose_hash_apart() -> None:
    words = tokens(["return"] * 20)

    assert not set(gram_hashes(words, CODE)) & set(gram_hashes(words, PROSE))


def test_hashes_are_the_same_in_another_process_with_another_hash_seed() -> None:
    words = [
        "def",
        "N",
        "(",
        "N",
        ",",
        "N",
        ")",
        ":",
        ";",
        "return",
        "N",
        ".",
        "sum",
        "(",
        ")",
        ";",
        "N",
        "=",
        "0",
        ";",
    ]
    here = [f.hash for f in winnow(tokens(words), CODE)]
    program = (
        "import json; from grader.similarity.fingerprints import CODE, winnow; "
        "from grader.similarity.tokens import Token; "
        f"print(json.dumps([f.hash for f in winnow([Token(w, 0) for w in {words!r}], CODE)]))"
    )

    there = subprocess.run(
        [sys.executable, "-c", program],
        cwd=ROOT,
        env={**os.environ, "PYTHONHASHSEED": "12345"},
        capture_output=True,
        text=True,
        check=True,
    )

    assert json.loads(there.stdout) == here
