"""Example plans kept on disk, so that a new process does not draw them again (see `grader.replay.plans`).

Drawing the examples of the property checks runs Hypothesis's engine, which is slow, the first
time a process meets them: a student's self-check pays it every time, a batch worker once. The draws
depend only on the check, the strategies, the settings and the versions of Hypothesis, NumPy and
torch, so `load` and `store` keep each check's plan in a file named by a digest of all of these (and
of the check's whole module), in the user's cache folder (`HW2_GRADER_CACHE` names another; `off`
turns the cache off). Only a derandomized run without an example database is cached: its examples
are the same on every run by design.

A plan is written in the channel's data-only format (`grader.protocol.channel.encode`, tensors as
safetensors): no pickle. It is stored only when it reads back exactly as drawn (same types, dtypes,
shapes, strides and bits); otherwise, and whenever a file is missing, unreadable or from other
versions, the examples are drawn as before. Whoever can write the cache folder can choose the
examples, so it belongs to the grader's user, and grading reads it only where student code cannot
reach it: under bubblewrap, whose sandbox shows the child neither the home folder nor the grader's
files (`grader.replay.plans.plan(on_disk=...)`). Under the weaker levels, student code runs on the host's
file system, so plans are drawn in every process, as before; a root grader runs it as `nobody`
there, who cannot write the cache, but a grader that is not root shares its user with student code
at those levels, which can then write whatever that user can (the cache, and the grader itself):
staff grading refuses those levels unless asked (`grader.sandbox.isolation.require_bubblewrap`).
A plan with fewer examples than the settings ask for is never kept nor trusted.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from grader.protocol import values
from grader.protocol.channel import HEADER, decode, encode, frame

Plan = list[dict[str, Any]]

FORMAT = "hw2-grader plan 2"  # 2: drawn with the constant pool pinned (checking.determinism)
STRATEGIES = Path(__file__).resolve().parents[1] / "checking" / "strategies.py"


def folder() -> Path | None:
    """Where plans are kept; None when caching is off."""
    chosen = os.environ.get("HW2_GRADER_CACHE", "")
    if chosen.lower() == "off":
        return None
    if chosen:
        return Path(chosen)
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    if not base.is_absolute():  # no home folder to speak of (`~` left as it is)
        return None
    return base / "hw2-grader" / "plans"


def key(test: Callable[..., Any]) -> str | None:
    """The digest that names `test`'s plan; None when its examples are not the same on every run."""
    settings = getattr(test, "_hypothesis_internal_use_settings", None)
    if settings is None or not settings.derandomize or settings.database is not None:
        return None
    import hypothesis
    import numpy
    import torch

    try:
        module = Path(inspect.getsourcefile(test) or "").read_bytes()
        strategies = STRATEGIES.read_bytes()
    except (OSError, TypeError):
        return None
    digest = hashlib.sha256()
    for part in (
        FORMAT,
        f"{test.__module__}.{test.__qualname__}",  # its source is in the module's, below
        repr(settings),
        hypothesis.__version__,
        numpy.__version__,
        torch.__version__,
        sys.version,
    ):
        digest.update(part.encode() + b"\0")
    digest.update(module + b"\0" + strategies)
    return digest.hexdigest()


def load(test: Callable[..., Any]) -> Plan | None:
    """`test`'s stored plan, or None (not stored, unreadable, or caching off)."""
    where, name = folder(), key(test)
    if where is None or name is None:
        return None
    try:
        plan = _read(bytearray((where / f"{name}.plan").read_bytes()))
    except Exception:  # missing, cut short or tampered with: the examples are drawn instead
        return None
    return plan if len(plan) >= _examples_asked(test) else None


def store(test: Callable[..., Any], plan: Plan) -> bool:
    """Keep `plan` for `test` if it reads back exactly as drawn; whether it was stored."""
    where, name = folder(), key(test)
    if where is None or name is None or len(plan) < _examples_asked(test):
        return False
    try:
        data = _written(plan)
        if data is None:
            return False
        where.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=where, prefix=".plan-")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            os.replace(temporary, where / f"{name}.plan")
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except (OSError, ValueError, TypeError, RecursionError):
        return False
    return True


def _examples_asked(test: Callable[..., Any]) -> int:
    """The examples `test`'s settings ask for. A plan with fewer is neither kept nor trusted: one
    with a single easy example would otherwise pass a wrong function (Hypothesis stops short only
    where a strategy has fewer distinct values, and then its plan is simply drawn every time)."""
    settings = getattr(test, "_hypothesis_internal_use_settings", None)
    return int(getattr(settings, "max_examples", 1))


def _written(plan: Plan) -> bytes | None:
    """The file's bytes for `plan`, or None when they would not read back exactly as drawn."""
    tensors: dict[str, Any] = {}
    data = frame(encode(plan, tensors), tensors)
    if not values.identical(plan, _read(bytearray(data))):
        return None
    return data


def _read(data: bytearray) -> Plan:
    from grader.protocol.tensorfile import unpack

    text_len, blob_len = HEADER.unpack_from(data)
    start = HEADER.size
    if len(data) != start + text_len + blob_len:
        raise ValueError("truncated plan file")
    text = json.loads(bytes(data[start : start + text_len]))
    tensors = unpack(data[start + text_len :]) if blob_len else {}
    plan = decode(text, tensors)
    if not (isinstance(plan, list) and all(isinstance(example, dict) for example in plan)):
        raise ValueError("not a plan")
    return plan
