"""The child's record of the torch operations a call ran (for the "from scratch" rules)."""

import builtins

import torch
from torch.nn import functional as F

from grader.child.operations import OperationRecorder


def test_aliases_and_layers_record_the_operator_itself() -> None:
    from torch.nn.functional import conv2d as c

    x = torch.ones(1, 1, 4, 4)
    with OperationRecorder() as recorder:
        c(x, torch.ones(1, 1, 2, 2))
        torch.nn.MaxPool2d(2)(x)
        x[0, 0, :2, :2].sum()

    names = recorder.recorded()
    assert "torch.nn.functional.conv2d" in names
    assert "torch.nn.functional.max_pool2d" in names
    assert "torch.Tensor.sum" in names


def test_patched_builtins_neither_break_the_call_nor_hide_the_operation() -> None:
    """Regression: a call that replaced `isinstance` and `len` failed inside the recorder, which
    named each operation as it ran; names now come after the call, once builtins are back."""
    saved = builtins.isinstance, builtins.len
    with OperationRecorder() as recorder:
        try:
            builtins.isinstance = lambda obj, cls: True
            builtins.len = lambda obj: 0
            value = F.avg_pool2d(torch.ones(1, 1, 2, 2), 2)
        finally:
            builtins.isinstance, builtins.len = saved

    assert value.item() == 1.0
    assert "torch.nn.functional.avg_pool2d" in recorder.recorded()


def test_the_record_is_capped(monkeypatch) -> None:
    from grader.child import operations

    monkeypatch.setattr(operations, "MAX_NAMES", 2)
    with OperationRecorder() as recorder:
        for make in (torch.zeros, torch.ones, torch.rand, torch.arange):
            make(2)

    assert len(recorder.recorded()) == 2
