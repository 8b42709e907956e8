"""Winnowed k-gram fingerprints (Schleimer, Wilkerson and Aiken, SIGMOD 2003), as MOSS uses them.

Every run of `k` tokens is hashed; of each window of `window` consecutive hashes the smallest is
kept. Two texts that share a run of at least `k + window - 1` tokens are certain to share a kept
fingerprint, and the number kept grows with a text's length, not with its square, so a class of
hundreds is compared through an index of fingerprints instead of pair by pair.

Hashes the caller excludes (the book's, `grader.similarity.book`) are never chosen: a window made
only of them keeps nothing, so code copied from the book leaves no fingerprint at all. Hashing is
deterministic (no `PYTHONHASHSEED`), so a class gets the same result on every run and machine.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from grader.similarity.tokens import Token

_MODULUS = (1 << 61) - 1
_BASE = 1_000_003
_EXCLUDED = 1 << 64


@dataclass(frozen=True)
class Grams:
    """How a kind of text is cut: runs of `k` tokens, the smallest hash of every `window` kept."""

    k: int
    window: int
    salt: str
    """Keeps code and prose fingerprints apart (the word `return` in prose is not the keyword)."""


CODE = Grams(k=12, window=6, salt="code")
PROSE = Grams(k=7, window=4, salt="prose")


@dataclass(frozen=True)
class Fingerprint:
    hash: int
    first_line: int
    last_line: int
    """The lines (0-based, inclusive) the k tokens span in their passage."""


_token_ids: dict[str, int] = {}


def _token_id(text: str) -> int:
    found = _token_ids.get(text)
    if found is None:
        digest = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest()
        found = _token_ids[text] = int.from_bytes(digest, "little") % _MODULUS
    return found


def gram_hashes(tokens: Sequence[Token], grams: Grams) -> list[int]:
    """The hash of every run of `grams.k` tokens, in order (a rolling polynomial hash, mixed)."""
    k = grams.k
    if len(tokens) < k:
        return []
    ids = [_token_id(f"{grams.salt}:{t.text}") for t in tokens]
    top = pow(_BASE, k - 1, _MODULUS)
    value = 0
    for i in range(k):
        value = (value * _BASE + ids[i]) % _MODULUS
    out = [_mix(value)]
    for i in range(k, len(ids)):
        value = ((value - ids[i - k] * top) * _BASE + ids[i]) % _MODULUS
        out.append(_mix(value))
    return out


def _mix(value: int) -> int:
    """Spread a polynomial hash over 64 bits, so the smallest of a window is any of its runs."""
    value = (value ^ (value >> 31)) * 0x9E3779B97F4A7C15 & 0xFFFFFFFFFFFFFFFF
    return value ^ (value >> 29)


def winnow(
    tokens: Sequence[Token], grams: Grams, excluded: Collection[int] = frozenset()
) -> list[Fingerprint]:
    """The fingerprints kept of `tokens`: the smallest hash of each window (the rightmost on a tie,
    each position once), none of them in `excluded`."""
    hashes = [h if h not in excluded else _EXCLUDED for h in gram_hashes(tokens, grams)]
    if not hashes:
        return []
    window = min(grams.window, len(hashes))
    kept: list[Fingerprint] = []
    last = -1
    for start in range(len(hashes) - window + 1):
        chosen = start
        for i in range(start + 1, start + window):
            if hashes[i] <= hashes[chosen]:
                chosen = i
        if chosen != last and hashes[chosen] != _EXCLUDED:
            kept.append(
                Fingerprint(hashes[chosen], tokens[chosen].line, tokens[chosen + grams.k - 1].line)
            )
        last = chosen
    return kept
