"""Helpers for the intake tests: run a parsed submission in this process (trusted fixtures only)."""

from typing import Any

import grader.d2l
from grader.execution import execute_program, find_item
from grader.submission import Submission


def run(submission: Submission) -> dict[str, Any]:
    """The homework items of `submission`, made by running its program with our d2l."""
    grader.d2l.install()
    namespace: dict[str, Any] = {"__name__": "__submission__"}
    failures = execute_program(submission.program, namespace)
    assert not [f for f in failures if set(f.names) & set(submission.definitions)], failures
    return {item: find_item(namespace, d) for item, d in submission.definitions.items()}
