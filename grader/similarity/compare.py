"""Compare every pair of a class on what is theirs, through an index of fingerprints.

Each submission becomes a `Document`: its code cells and written answers (`grader.intake.answers`),
each a passage, cut into fingerprints with the book excluded (`grader.similarity.book`). A
fingerprint that more than `common_share` of the class holds is what the class does anyway (a common
way to write a loop, a phrase everyone uses): it is left out too, and counted for the report. What
remains is indexed by hash, so only pairs that share something are ever looked at, and a class of
hundreds costs about as much as reading it.

A pair's score is the share of the smaller submission's own fingerprints that the other holds too
(containment), with the smaller side counted as at least `floor` fingerprints, so that a student who
wrote almost nothing of their own is not "90% similar" because of one line. A fingerprint that a
third or fourth student also holds is weaker evidence that these two copied from each other than one
only they hold, so each shared fingerprint counts 1 / (holders - 1): two students who happened on the
same way to write an item (as several in a class do) score lower than two who share work no one
else has. A pair is flagged when
its score reaches `threshold` and it shares at least `min_shared` fingerprints.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from grader.errors import UnreadableSubmission
from grader.intake.answers import written_answers
from grader.intake.notebook import read_cells
from grader.similarity.book import Book
from grader.similarity.fingerprints import CODE, PROSE, Fingerprint, winnow
from grader.similarity.tokens import MAX_CHARACTERS, code_tokens, imported_names, prose_tokens

PassageKind = Literal["code", "prose"]


@dataclass(frozen=True)
class Settings:
    threshold: float = 0.5
    min_shared: int = 12
    floor: int = 60
    common_share: float = 0.05
    """A fingerprint held by more than this share of the class, and by more than 3 submissions,
    is common."""

    def common_limit(self, students: int) -> int:
        """The most submissions a fingerprint may be in and still count as shared."""
        return max(3, math.floor(self.common_share * students))


@dataclass(frozen=True)
class Passage:
    where: str
    """As the student finds it: a cell (`In [12]`, its first line) or `answer 7.2.5`."""
    kind: PassageKind
    text: str


@dataclass
class Document:
    student: str
    name: str
    passages: list[Passage] = field(default_factory=list)
    marks: list[tuple[int, Fingerprint]] = field(default_factory=list)
    """(passage index, fingerprint) for every fingerprint kept, in order."""
    problem: str = ""
    """Why nothing of it could be read (the file is not a notebook), else empty."""

    def hashes(self, kind: PassageKind) -> set[int]:
        return {m.hash for p, m in self.marks if self.passages[p].kind == kind}


def document(student: str, name: str, data: bytes, filename: str, book: Book) -> Document:
    """The passages and fingerprints of one submission (`filename` says how to read `data`).

    At most `MAX_CHARACTERS` of code and as many of prose are read, whatever the notebook holds,
    so one submission cannot make the class's comparison slow."""
    doc = Document(student, name)
    try:
        cells = read_cells(data, filename)
    except UnreadableSubmission as error:
        doc.problem = str(error)
        return doc
    left = {"code": MAX_CHARACTERS, "prose": MAX_CHARACTERS}

    def read(kind: PassageKind, text: str) -> str:
        """`text` within what is left of the submission's budget for `kind`."""
        text = text[: left[kind]]
        left[kind] -= len(text)
        return text

    code_cells = [(c.label, read("code", c.source)) for c in cells if c.kind == "code"]
    imported = book.imported | imported_names("\n".join(source for _, source in code_cells))
    for label, source in code_cells:
        doc.passages.append(Passage(label, "code", source))
        tokens = code_tokens(source, imported)
        doc.marks.extend((len(doc.passages) - 1, m) for m in winnow(tokens, CODE, book.code_hashes))
    answers, _ = written_answers(data, filename)
    for section, answer in answers.items():
        text = read("prose", answer)
        doc.passages.append(Passage(f"answer {section}", "prose", text))
        tokens = prose_tokens(text)
        doc.marks.extend(
            (len(doc.passages) - 1, m) for m in winnow(tokens, PROSE, book.prose_hashes)
        )
    return doc


@dataclass(frozen=True)
class Pair:
    first: int
    second: int
    """Indexes into the documents, first < second."""
    shared_code: int
    shared_prose: int
    score: float
    flagged: bool

    @property
    def shared(self) -> int:
        return self.shared_code + self.shared_prose


@dataclass(frozen=True)
class Comparison:
    documents: Sequence[Document]
    pairs: list[Pair]
    """Every pair that shares a fingerprint, highest score first (the rest share nothing)."""
    kept: list[set[int]]
    """Per document, the fingerprints of its own (not the book's, not common)."""
    common: int
    """How many distinct fingerprints were left out as common to the class."""
    settings: Settings

    @property
    def own(self) -> list[int]:
        """Per document, how many fingerprints of its own it has."""
        return [len(hashes) for hashes in self.kept]

    @property
    def pair_count(self) -> int:
        n = len(self.documents)
        return n * (n - 1) // 2

    def highest(self) -> list[float]:
        """Per document, its highest score against any other (0 when it shares nothing)."""
        best = [0.0] * len(self.documents)
        for pair in self.pairs:
            best[pair.first] = max(best[pair.first], pair.score)
            best[pair.second] = max(best[pair.second], pair.score)
        return best

    def shared_hashes(self, pair: Pair) -> set[int]:
        """The fingerprints of its own that `pair` holds in common."""
        return self.kept[pair.first] & self.kept[pair.second]


def compare(documents: Sequence[Document], settings: Settings | None = None) -> Comparison:
    """Score every pair of `documents` that shares fingerprints of its own."""
    settings = settings or Settings()
    limit = settings.common_limit(len(documents))
    kept: list[set[int]] = [set() for _ in documents]
    shared: dict[PassageKind, Counter[tuple[int, int]]] = {}
    evidence: defaultdict[tuple[int, int], float] = defaultdict(float)
    common = 0
    for kind in ("code", "prose"):
        index: defaultdict[int, list[int]] = defaultdict(list)
        per_document = [doc.hashes(kind) for doc in documents]
        for number, hashes in enumerate(per_document):
            for value in hashes:
                index[value].append(number)
        frequent = {value for value, holders in index.items() if len(holders) > limit}
        common += len(frequent)
        counts: Counter[tuple[int, int]] = Counter()
        for holders in index.values():
            if 1 < len(holders) <= limit:
                weight = 1 / (len(holders) - 1)
                for i, a in enumerate(holders):
                    for b in holders[i + 1 :]:
                        counts[a, b] += 1
                        evidence[a, b] += weight
        shared[kind] = counts
        for number, hashes in enumerate(per_document):
            kept[number] |= hashes - frequent
    own = [len(hashes) for hashes in kept]
    pairs = []
    for key in shared["code"].keys() | shared["prose"].keys():
        a, b = key
        code, prose = shared["code"][key], shared["prose"][key]
        score = min(evidence[key] / max(min(own[a], own[b]), settings.floor), 1.0)
        flagged = score >= settings.threshold and code + prose >= settings.min_shared
        pairs.append(Pair(a, b, code, prose, round(score, 4), flagged))
    pairs.sort(
        key=lambda p: (-p.score, -p.shared, documents[p.first].student, documents[p.second].student)
    )
    return Comparison(documents, pairs, kept, common, settings)


@dataclass(frozen=True)
class Fragment:
    """One stretch of a pair's shared text: where each wrote it and the lines, as written."""

    first_where: str
    first_text: str
    second_where: str
    second_text: str
    shared: int


def fragments(comparison: Comparison, pair: Pair, most: int = 12) -> list[Fragment]:
    """The stretches `pair` shares, most shared first: the first's lines around a run of shared
    fingerprints, and the second's lines that hold the same fingerprints."""
    hashes = comparison.shared_hashes(pair)
    first, second = comparison.documents[pair.first], comparison.documents[pair.second]
    found = []
    for passage, lines, members in _regions(first, hashes):
        where_second = _where_held(second, members)
        if where_second is None:
            continue
        other, other_lines = where_second
        found.append(
            Fragment(
                first.passages[passage].where,
                _lines(first.passages[passage].text, lines),
                second.passages[other].where,
                _lines(second.passages[other].text, other_lines),
                len(members),
            )
        )
    found.sort(key=lambda f: -f.shared)
    return found[:most]


def _regions(doc: Document, hashes: set[int]) -> Iterable[tuple[int, tuple[int, int], set[int]]]:
    """Runs of `doc`'s fingerprints in `hashes`, merged where their lines touch."""
    current: tuple[int, int, int, set[int]] | None = None
    for passage, mark in doc.marks:
        if mark.hash not in hashes:
            continue
        if current and current[0] == passage and mark.first_line <= current[2] + 1:
            current = (passage, current[1], max(current[2], mark.last_line), current[3])
            current[3].add(mark.hash)
            continue
        if current:
            yield current[0], (current[1], current[2]), current[3]
        current = (passage, mark.first_line, mark.last_line, {mark.hash})
    if current:
        yield current[0], (current[1], current[2]), current[3]


def _where_held(doc: Document, members: set[int]) -> tuple[int, tuple[int, int]] | None:
    """The passage of `doc` that holds most of `members`, and the lines they span there."""
    spans: dict[int, list[int]] = {}
    counts: Counter[int] = Counter()
    for passage, mark in doc.marks:
        if mark.hash in members:
            counts[passage] += 1
            low, high = spans.get(passage, [mark.first_line, mark.last_line])
            spans[passage] = [min(low, mark.first_line), max(high, mark.last_line)]
    if not counts:
        return None
    passage = counts.most_common(1)[0][0]
    low, high = spans[passage]
    return passage, (low, high)


def _lines(text: str, span: tuple[int, int]) -> str:
    return "\n".join(text.split("\n")[span[0] : span[1] + 1])
