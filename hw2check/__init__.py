"""The HW2 self-check for a notebook cell: `from hw2check import check; check()`.

`check()` grades the notebook with the public checks and shows a table of points per item and what
failed; `check("corr2d")` shows one item. See `grader.inline` for how it finds the notebook.
"""

from grader.inline import Report, check

__all__ = ["Report", "check"]
