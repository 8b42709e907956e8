"""Probe answers are checked against their shapes in the parent: what a check reads is what it expects."""

import pytest
import torch

from grader.errors import WrongReturnType
from grader.sandbox.answers import checked

LAYERS = {
    "layers": [
        {
            "type": "Conv2d",
            "name": "net.0",
            "output_shape": (1, 6, 28, 28),
            "leaf": True,
            "num_params": 156,
            "kernel_size": (5, 5),
            "padding": (2, 2),
            "bias": True,
        },
        {"type": "AdaptiveAvgPool2d", "name": "net.1", "output_shape": None, "leaf": True,
         "num_params": 0, "output_size": (None, 1)},
    ],
    "top": ["net.0", "net.1"],
    "output_shape": (1, 10),
    "num_params": 156,
}  # fmt: skip


@pytest.mark.parametrize(
    ("probe", "answer"),
    [
        ("state_dict", {"weight": torch.zeros(2), "bias": torch.zeros(1)}),
        ("layers", LAYERS),
        ("train_steps", {"losses": [2.3, 2.1, float("nan")], "device": "cpu"}),
        ("fit_kernel", {"weight": None, "losses": []}),
        ("forward", [1, "anything"]),  # a student's own return value: the checks judge it
    ],
)
def test_honest_answers_pass_unchanged(probe: str, answer) -> None:
    assert checked(probe, answer, what="x") is answer


@pytest.mark.parametrize(
    ("probe", "answer", "message"),
    [
        ("state_dict", {"weight": 1}, "x returned an int at ['weight'], not a tensor"),
        (
            "state_dict",
            [torch.zeros(1)],
            "x returned a list, not a dict of at most 100,000 entries",
        ),
        ("train_steps", {"losses": ["1"], "device": "cpu"}, "a str at ['losses'][0], not a number"),
        ("train_steps", {"losses": []}, "x returned nothing at ['device'], not a 'device' entry"),
        ("layers", {**LAYERS, "num_params": True}, "a bool at ['num_params'], not an int"),
        (
            "layers",
            {**LAYERS, "layers": [{**LAYERS["layers"][0], "padding": {"a": 1}}]},
            "a dict at ['layers'][0]['padding'], not a number or a tuple of numbers",
        ),
        (
            "apply_init",
            {"before": {}, "after": {}, "types": [], "more": 1},
            "x returned an extra entry at ['more'], not only ['after', 'before', 'types']",
        ),
    ],
)
def test_malformed_answers_are_the_submissions_fault(probe: str, answer, message: str) -> None:
    with pytest.raises(WrongReturnType) as caught:
        checked(probe, answer, what="x")

    assert message in str(caught.value)
