"""A small stand-in for the `d2l` package, as used by the homework (`from d2l import torch as d2l`).

The PyPI `d2l` package pins old numpy, pandas and matplotlib and downloads data, so the grader, the
reference and students' self-checks use this module instead. It holds only what the d2l package itself
ships for chapters 7 and 8 (no homework solution beyond that), because it also goes to students.
"""

from grader.d2l import torch

__all__ = ["torch"]
