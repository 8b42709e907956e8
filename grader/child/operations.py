"""Which torch operations a call into student code ran, for the rubric's "from scratch" rules
(`grader.policy.integrity`): a `TorchFunctionMode` is on only while the parent asked for it (a
call of an item that has a rule), so every other call runs as it would without it.

Names are torch's own (`torch.nn.functional.conv2d`, `torch.Tensor.sum`): an alias
(`from torch.nn.functional import conv2d as c`) or a layer (`nn.Conv2d` runs `conv2d`) records the
operation itself. What is sent back is plain strings, capped in number and length.
"""

from __future__ import annotations

from typing import Any

from torch.overrides import TorchFunctionMode, resolve_name

MAX_NAMES = 256
MAX_NAME_CHARS = 120


class OperationRecorder(TorchFunctionMode):
    """Records every torch function and tensor method that runs inside it.

    While it records, student code may have replaced builtins (`isinstance`, `len`) that name
    resolution uses: it only keeps the function objects then, and names them in `recorded`, after
    the call, once the protected namespaces are restored (`grader.child.serve`)."""

    def __init__(self) -> None:
        super().__init__()
        self.functions: set[Any] = set()
        self.full = False

    def __torch_function__(
        self,
        func: Any,
        types: Any,
        args: tuple[Any, ...] = (),
        kwargs: dict[str, Any] | None = None,
    ) -> Any:
        if not self.full:
            self.functions.add(func)
            self.full = self.functions.__len__() >= MAX_NAMES
        return func(*args, **(kwargs or {}))

    def recorded(self) -> list[str]:
        names = set()
        for func in self.functions:
            try:
                name = resolve_name(func) or getattr(func, "__qualname__", None) or repr(func)
            except Exception:  # a function object the student made: named by its type alone
                name = type(func).__name__
            names.add(str(name)[:MAX_NAME_CHARS])
        return sorted(names)
