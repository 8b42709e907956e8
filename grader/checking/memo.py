"""Expected values computed once per process: the checks' own reference computations, memoized.

The checks compute what a correct answer is (torch.nn.functional on the check's inputs, a forward
pass with given weights, a synthetic batch) in the trusted parent. Grading is derandomized, so a
class of submissions asks for the same expected values again and again; `remember` keeps them,
keyed by the exact contents of the arguments (a tensor by dtype, shape and a digest of its bytes),
and hands out copies, so that no caller can change what the next one gets. Arguments it cannot key
(anything but tensors, numbers, strings, None and containers of them) bypass the memory.
"""

from __future__ import annotations

import functools
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, ParamSpec, TypeVar

from grader.protocol import values

P = ParamSpec("P")
R = TypeVar("R")

MAX_ENTRIES = 4096
"""Per function; the least recently used entry goes first (a class needs a few hundred)."""


def remember(function: Callable[P, R]) -> Callable[P, R]:
    """`function`, computing each distinct call once per process (see the module's docstring)."""
    memory: OrderedDict[Hashable, Any] = OrderedDict()

    @functools.wraps(function)
    def remembered(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            key = (values.key_of(args), values.key_of(dict(sorted(kwargs.items()))))
        except values.Unkeyable:
            return function(*args, **kwargs)
        if key in memory:
            memory.move_to_end(key)
        else:
            memory[key] = function(*args, **kwargs)
            if len(memory) > MAX_ENTRIES:
                memory.popitem(last=False)
        result: R = values.detached_copy(memory[key])
        return result

    remembered.cache_clear = memory.clear  # type: ignore[attr-defined]
    return remembered


__all__ = ["MAX_ENTRIES", "remember"]
