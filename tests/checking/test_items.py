"""What a check says of a value that came back in place of the one it needs."""

import pytest

from grader.checking.items import describe_value
from grader.intake.submission import parse_submission
from grader.protocol.channel import (
    Opaque,
)


def submission(source: str):
    return parse_submission(source.encode(), "s.py")


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "None (is a `return` missing?)"),
        ([1], "a list"),
        (Opaque("numpy.ndarray"), "a value of type numpy.ndarray"),
        (3, "an int"),
    ],
)
def test_describe_value(value, text: str) -> None:
    assert describe_value(value) == text
