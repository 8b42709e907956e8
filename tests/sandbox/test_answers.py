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


def _walk(model: torch.nn.Module, X_shape: tuple[int, ...]) -> dict:
    from grader.child import queries

    return queries.layers(model, torch.zeros(X_shape))


def _honest_models() -> list[tuple[torch.nn.Module, tuple[int, ...]]]:
    from torch import nn

    return [
        (nn.Sequential(nn.LazyConv2d(6, 5, padding=2), nn.Sigmoid(), nn.AvgPool2d(2), nn.Flatten(),
                       nn.LazyLinear(10)), (1, 1, 28, 28)),
        (nn.Sequential(nn.Conv2d(4, 8, 3, groups=2, bias=False), nn.BatchNorm2d(8), nn.ReLU(),
                       nn.BatchNorm2d(8, affine=False), nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(),
                       nn.Dropout(0.5), nn.Linear(8, 3, bias=False)), (2, 4, 6, 6)),
    ]  # fmt: skip


@pytest.mark.parametrize("index", [0, 1])
def test_the_layers_of_real_torch_models_agree_with_their_arguments(index: int) -> None:
    model, X_shape = _honest_models()[index]
    answer = _walk(model, X_shape)

    assert checked("layers", answer, "the model") is answer
    counted = [
        layer for layer in answer["layers"] if layer["type"] in {"Conv2d", "Linear", "BatchNorm2d"}
    ]
    assert len(counted) >= 2


def test_a_layer_whose_arguments_do_not_give_its_weights_is_the_submissions_fault() -> None:
    """A torch Conv2d whose kernel_size was changed after it was made (its weights are 5x5)."""
    from torch import nn

    conv = nn.Conv2d(1, 6, 5, padding=2)
    conv.kernel_size = (3, 3)
    answer = _walk(nn.Sequential(conv, nn.ReLU()), (1, 1, 8, 8))

    with pytest.raises(WrongReturnType) as error:
        checked("layers", answer, "the model")
    assert "'0' that holds 156" in str(error.value)
    assert "the 60 parameters its arguments give" in str(error.value)


def test_a_look_alike_of_a_torch_layer_is_named_as_not_torchs() -> None:
    """A class that borrows torch's name, with torch's arguments and no weights, is not torch's."""
    from torch import nn

    class Conv2d(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.in_channels, self.out_channels, self.groups, self.bias = 1, 6, 1, None
            self.kernel_size, self.padding = (5, 5), (2, 2)

        def forward(self, X: torch.Tensor) -> torch.Tensor:
            return torch.zeros(X.shape[0], 6, *X.shape[2:])

    answer = _walk(nn.Sequential(Conv2d(), nn.Conv2d(6, 2, 1)), (1, 1, 8, 8))

    types = [layer["type"] for layer in answer["layers"]]
    assert types == ["Conv2d (not torch.nn's)", "Conv2d"]
    # Its arguments are not torch's to check: its type fails the structure checks instead.
    assert checked("layers", answer, "the model") is answer
