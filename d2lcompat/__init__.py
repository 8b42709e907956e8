"""A small stand-in for the `d2l` package, as used by the homework (`from d2l import torch as d2l`).

The PyPI `d2l` package pins old numpy, pandas and matplotlib and downloads data, so the grader, the
reference and students' self-checks use this module instead. It holds only what the d2l package itself
ships for chapters 7 and 8 (no homework solution beyond that), because it also goes to students.
"""

from d2lcompat import torch

__all__ = ["install", "torch"]


def install() -> None:
    """Make `import d2l` and `from d2l import torch as d2l` resolve to this module, in this process.

    The grader's child process calls this before running a submission, so grading needs no d2l
    package and never downloads anything.
    """
    import sys

    sys.modules["d2l"] = sys.modules[__name__]
    sys.modules["d2l.torch"] = torch
