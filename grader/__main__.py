"""`python -m grader`: the command line (see `grader.cli`)."""

from grader.cli import run

run()
