"""Helpers for the intake tests: run a parsed submission in this process (trusted fixtures only)."""

from typing import Any

import d2lcompat
from grader.child.execution import execute_program, find_item
from grader.intake.submission import Submission


def run(submission: Submission) -> dict[str, Any]:
    """The homework items of `submission`, made by running its program with our d2l."""
    d2lcompat.install()
    namespace: dict[str, Any] = {"__name__": "__submission__"}
    failures = execute_program(submission.program.statements, namespace)
    assert not [f for f in failures if set(f.names) & set(submission.definitions)], failures
    return {item: find_item(namespace, d) for item, d in submission.definitions.items()}
