"""The Jinja environment both HTML pages render in (autoescaping, strict), and what they share."""

from __future__ import annotations

from pathlib import Path
from typing import Any

OUTCOME_LABELS = {
    "passed": "passed",
    "failed": "failed",
    "timeout": "timed out",
    "missing": "missing",
    "not_graded": "not graded",
    "unreadable": "not read",
}


def points(value: float) -> str:
    return f"{value:g}"


def environment() -> Any:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).with_name("templates")),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["points"] = points
    return env


def floats(values: object) -> list[float]:
    return [float(v) for v in values] if isinstance(values, list) else []
