"""Code and prose reduced to the tokens that survive copying with cosmetic changes.

A copier renames variables, reformats, rewrites comments and changes constants; so code is read as a
stream of tokens in which comments, blank lines, spacing and line breaks inside brackets are gone, the
names a student chooses become `N`, numbers `0` and strings `""`. What is not the student's choice
stays: keywords, operators, attribute names (`.sum`, `.shape`), keyword arguments (`kernel_size=`),
builtins and imported names (`torch`, `nn`, `F`). Prose is read as its lowercased words.

The tokenizer is a regular expression, not `tokenize`: it reads any cell (magics, broken code, a
Python 2 print) the same way on every Python version, so a class gets the same fingerprints
whichever interpreter compares it. Each token keeps its line, so a shared fragment can be shown as
the student wrote it.
"""

from __future__ import annotations

import builtins
import keyword
import re
from dataclasses import dataclass

MAX_CHARACTERS = 400_000
"""More code or prose than any answer to this homework: the rest of a submission is not compared
(a hostile notebook cannot make the comparison slow)."""

_CODE = re.compile(
    r"""
    (?P<comment>\#[^\n]*)
  | (?P<string>[rRbBuUfF]{0,2}(?:\"\"\"(?:\\.|[^\\])*?\"\"\"|'''(?:\\.|[^\\])*?'''
        |"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'))
  | (?P<number>(?:0[xXoObB][0-9a-fA-F_]+|\d[\d_]*\.?[\d_]*(?:[eE][+-]?\d+)?|\.\d[\d_]*(?:[eE][+-]?\d+)?)[jJ]?)
  | (?P<name>[^\W\d]\w*)
  | (?P<newline>\n)
  | (?P<op>\*\*=?|//=?|>>=?|<<=?|->|:=|[-+*/%@&|^=<>!]=|[-+*/%@&|^~<>()\[\]{},:;.=])
  | (?P<space>[ \t\f\r\\]+)
  | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)
_WORD = re.compile(r"[^\W_]+")
_OPENING, _CLOSING = frozenset("([{"), frozenset(")]}")
KEPT_NAMES = frozenset(keyword.kwlist) | frozenset(keyword.softkwlist) | frozenset(dir(builtins))
"""Names that are the language's, never a student's choice."""


@dataclass(frozen=True)
class Token:
    text: str
    line: int
    """0-based line of the source the token starts on."""


def code_tokens(source: str, imported: frozenset[str] = frozenset()) -> list[Token]:
    """The normalised tokens of Python `source` (one cell); `imported` names stay as written.

    A statement's end is the token `;` (a line break outside brackets, and a colon outside
    brackets, as after `for ...:`), so `a = 1; b = 2` and two lines read alike, as do a loop and
    its body on one line or two. IPython's `%magic` and `!shell` lines are left out: they are not the
    student's logic."""
    out: list[Token] = []
    depth = 0
    line = 0
    previous = ""
    text_read = _without_magics(source[:MAX_CHARACTERS])
    for match in _CODE.finditer(text_read):
        kind, text = match.lastgroup, match.group()
        if kind == "newline":
            if depth == 0 and out and out[-1].text != ";":
                out.append(Token(";", line))
            line += 1
            continue
        if kind in ("space", "comment"):
            continue
        if kind == "string":
            if previous not in ("", ";", ":"):  # a docstring (a statement of its own) is prose
                out.append(Token('""', line))
                previous = '""'
            line += text.count("\n")
            continue
        if kind == "number":
            token = "0"
        elif kind == "name":
            keep = text in KEPT_NAMES or text in imported or previous == "."
            if not keep and depth > 0 and _followed_by_assignment(text_read, match.end()):
                keep = True  # a keyword argument: the API's name, not the student's
            token = text if keep else "N"
        else:
            token = text
            if text in _OPENING:
                depth += 1
            elif text in _CLOSING:
                depth = max(depth - 1, 0)
        out.append(Token(token, line))
        previous = token
        if token == ":" and depth == 0:  # `for ...: body` on one line reads as on two
            out.append(Token(";", line))
    return out


def _followed_by_assignment(source: str, at: int) -> bool:
    rest = source[at : at + 3].lstrip(" \t")
    return rest.startswith("=") and not rest.startswith("==")


def _without_magics(source: str) -> str:
    """`source` with IPython's line magics and shell escapes blanked (lines kept, for positions)."""
    lines = source.split("\n")
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in lines)


_IMPORT = re.compile(r"^\s*(?:from\s+[\w.]+\s+)?import\s+[\w.,\s()]+$")


def imported_names(source: str) -> frozenset[str]:
    """Every name an import statement in `source` mentions (`torch`, `nn`, `functional`, `F`),
    except one-letter aliases (`import reference as r`), which read as a student's variables."""
    names: set[str] = set()
    for line in source[:MAX_CHARACTERS].split("\n"):
        statement = line.split("#", 1)[0].rstrip()
        if _IMPORT.match(statement):
            names.update(re.findall(r"[^\W\d]\w*", statement))
    return frozenset(n for n in names - {"import", "from", "as"} if len(n) > 1 or n == "F")


def prose_tokens(text: str) -> list[Token]:
    """The lowercased words of `text`, each with its line; Markdown's marks are not words."""
    out: list[Token] = []
    for number, line in enumerate(text[:MAX_CHARACTERS].split("\n")):
        out.extend(Token(word.lower(), number) for word in _WORD.findall(line))
    return out
