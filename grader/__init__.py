"""hw2-grader: grades the CNN homework (d2l 7.1-7.6, 8.2, 8.6) with student code kept in a sandbox.

This package's top level holds the version only and imports no torch, so `python -m grader --help`
and the pytest plugin load fast.
"""

__version__ = "0.1.0"
