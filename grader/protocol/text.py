"""Text from a child made safe to hold: valid Unicode, bounded length.

A child's strings arrive through JSON, whose `\\ud800` escapes give Python strings with lone
surrogates: they compare and print, but cannot be encoded, so the first report that writes one
(results.json, the gradebook, a terminal) raises, and before this module that stopped a whole batch at
the same student on every rerun. `clean` replaces each lone surrogate with U+FFFD (a surrogate pair
written as two escapes becomes the character it encodes) and cuts text to a length the reports can
show. What each report must escape on top (CSV formulas, XML, Markdown fences, terminal control
sequences) is each report's business: `grader.reports.neutral`.
"""

from __future__ import annotations


def clean(text: str, limit: int | None = None) -> str:
    """`text` as valid Unicode, cut to `limit` characters (with a note) when longer."""
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if limit is not None and len(text) > limit:
        text = text[:limit] + f"... [{len(text) - limit} more characters]"
    return text


__all__ = ["clean"]
