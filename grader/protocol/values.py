"""Walks over the plain values that cross the channel: tensors, numbers, strings, layer specs and
the lists, tuples and dicts of them.

Each question the parent asks of such a value has one function here, so that "what counts as plain
data" is decided in one place: whether a value may be kept and sent again (`is_plain`), whether two
are equal as data (`equal`) or the same to the last bit (`identical`), a copy a check may change
(`fresh`), a copy no caller can change a kept original through (`detached_copy`), and a hashable key
for equal contents (`key_of`).
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Hashable
from typing import Any

import torch

from grader.protocol.channel import Layer


class Unkeyable(Exception):
    """A value that `key_of` cannot key: the caller computes afresh instead of remembering."""


def is_plain(value: Any) -> bool:
    """Whether `value` is data a call script can keep and send again: tensors, numbers, strings,
    layer specs and containers of them."""
    if value is None or type(value) in (bool, int, float, str):
        return True
    if type(value) is torch.Tensor:
        return True
    if type(value) in (tuple, list):
        return all(map(is_plain, value))
    if type(value) is dict:
        return all(type(k) is str for k in value) and all(map(is_plain, value.values()))
    if type(value) is Layer:
        return is_plain(value.args) and is_plain(value.kwargs)
    return False


def equal(a: Any, b: Any) -> bool:
    """Whether two plain values are equal as data: tensors by dtype, shape and every element."""
    if type(a) is not type(b):
        return False
    if type(a) is torch.Tensor:
        return a.dtype == b.dtype and a.shape == b.shape and bool(torch.equal(a, b))
    if type(a) in (tuple, list):
        return len(a) == len(b) and all(map(equal, a, b))
    if type(a) is dict:
        return a.keys() == b.keys() and all(equal(a[k], b[k]) for k in a)
    if type(a) is Layer:
        return a.type == b.type and equal(a.args, b.args) and equal(a.kwargs, b.kwargs)
    return bool(a == b)


def identical(a: Any, b: Any) -> bool:
    """Whether `a` and `b` are the same value to the last bit (types, dtypes, strides included)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(identical(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return list(a) == list(b) and all(identical(a[k], b[k]) for k in a)
    if isinstance(a, torch.Tensor):
        if (a.dtype, a.shape, a.stride(), a.requires_grad) != (
            b.dtype,
            b.shape,
            b.stride(),
            b.requires_grad,
        ):
            return False
        try:
            return bool(a.detach().numpy().tobytes() == b.detach().numpy().tobytes())
        except (TypeError, RuntimeError):  # no NumPy dtype (bfloat16): not worth keeping
            return False
    if isinstance(a, float):
        return bool(a.hex() == b.hex()) if a == a else bool(b != b)
    return bool(a == b) and repr(a) == repr(b)


def fresh(value: Any) -> Any:
    """A copy of an example's value that the check may change freely: what `copy.deepcopy` gives,
    faster for the tensors, numbers and containers that strategies draw."""
    if value is None or type(value) in (bool, int, float, complex, str, bytes):
        return value
    if type(value) is tuple:
        return tuple(fresh(v) for v in value)
    if type(value) is list:
        return [fresh(v) for v in value]
    if type(value) is dict:
        return {k: fresh(v) for k, v in value.items()}
    if type(value) is torch.Tensor and value.is_leaf and value.grad is None:
        return value.detach().clone().requires_grad_(value.requires_grad)
    return copy.deepcopy(value)


def detached_copy(value: Any) -> Any:
    """A copy of a kept result that no caller can change the original through (tensors cloned,
    containers rebuilt, anything else shared)."""
    if isinstance(value, torch.Tensor):
        return value.clone()
    if isinstance(value, tuple):
        return tuple(detached_copy(v) for v in value)
    if isinstance(value, list):
        return [detached_copy(v) for v in value]
    if isinstance(value, dict):
        return {k: detached_copy(v) for k, v in value.items()}
    return value


def key_of(value: Any) -> Hashable:
    """A hashable key equal for equal contents; raises `Unkeyable` for anything else."""
    if isinstance(value, torch.Tensor):
        data = value.detach().cpu().contiguous()
        raw = data.reshape(-1).view(torch.uint8).numpy().tobytes()
        digest = hashlib.blake2b(raw, digest_size=16)
        return ("tensor", str(data.dtype), tuple(data.shape), digest.digest())
    if value is None or isinstance(value, bool | int | float | str):
        return (type(value).__name__, value)
    if isinstance(value, list | tuple):
        return (type(value).__name__, tuple(key_of(v) for v in value))
    if isinstance(value, dict):
        return ("dict", tuple((key_of(k), key_of(v)) for k, v in value.items()))
    raise Unkeyable(type(value).__name__)
