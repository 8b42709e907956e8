"""Report files written so that a reader, or a rerun after a kill, never sees half of one."""

from __future__ import annotations

import os
from pathlib import Path


def write_atomically(path: Path, text: str) -> None:
    """Write `text` to `path` so that a reader sees either the old file or the whole new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)


def discard_unfinished_writes(folder: Path) -> None:
    """Remove the temporary files `write_atomically` left in `folder` when a run was killed mid-write.

    Call it only while no other process writes into `folder` (one grading run per output folder)."""
    for temporary in folder.glob(".*.*.tmp"):
        temporary.unlink(missing_ok=True)
