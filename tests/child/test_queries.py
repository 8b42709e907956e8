"""The probes the child runs for the checks: what a fast shape walk, a walk on the meta device and a
fused optimiser change (how long they take) and what they do not (what the checks see)."""

import math

import pytest
import torch
from torch import nn

from grader.child import queries as probes
from grader.child.seeding import seed_everything


def vgg_like() -> nn.Module:
    return nn.Sequential(
        nn.LazyConv2d(4, kernel_size=3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.LazyLinear(64),
        nn.ReLU(),
        nn.Dropout(0.5),
        nn.LazyLinear(5),
    )


@pytest.mark.parametrize("train", [False, True])
def test_a_fast_shape_walk_sees_what_a_full_one_sees(train) -> None:
    """The checks walk large models once with `fast_init`: the layers, their arguments, output
    shapes and parameter counts are those of a walk with the weights drawn."""
    X = torch.zeros(2, 1, 12, 10)
    seed_everything(0)
    full = probes.layers(vgg_like(), X, train=train)
    seed_everything(0)
    fast = probes.layers(vgg_like(), X, train=train, fast_init=True)

    assert fast == full
    assert full["num_params"] == 4 * 9 + 4 + (4 * 6 * 5) * 64 + 64 + 64 * 5 + 5


def batch_norm_net() -> nn.Module:
    return nn.Sequential(
        nn.LazyConv2d(6, kernel_size=3, stride=2, padding=1),
        nn.LazyBatchNorm2d(),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d((1, 1)),
        nn.Flatten(),
        nn.LazyLinear(3),
    )


@pytest.mark.parametrize("make", [vgg_like, batch_norm_net], ids=["vgg-like", "batch-norm"])
@pytest.mark.parametrize("train", [False, True])
def test_a_walk_on_the_meta_device_sees_what_a_walk_on_the_cpu_sees(make, train) -> None:
    X = torch.zeros(2, 1, 12, 10)
    seed_everything(0)
    full = probes.layers(make(), X, train=train)
    model = make()

    walked = probes.layers(model, X, train=train, fast_init=True, build=(make, [], {}))

    assert walked == full
    # The twin was walked: the model itself was never run, so its Lazy layers are still unsized.
    assert any(isinstance(p, nn.parameter.UninitializedParameter) for p in model.parameters())


class OnTheCpu(nn.Module):
    """A reasonable student model that cannot run on the meta device: it makes a CPU tensor."""

    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.LazyLinear(4))

    def forward(self, X):
        return self.net(X) + torch.zeros(4, device="cpu")


class ReadsAValue(nn.Module):
    """Another: its forward reads a value, which a meta tensor does not have."""

    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.LazyLinear(4))

    def forward(self, X):
        return self.net(X) * (2.0 if float(X.sum()) > 0 else 1.0)


@pytest.mark.parametrize("make", [OnTheCpu, ReadsAValue])
def test_a_model_that_cannot_run_on_the_meta_device_is_walked_itself(make) -> None:
    X = torch.zeros(2, 3, 5)
    seed_everything(0)
    expected = probes.layers(make(), X, fast_init=True)
    model = make()

    assert probes.meta_walk((make, [], {}), X, False) is None
    assert probes.layers(model, X, fast_init=True, build=(make, [], {})) == expected
    assert expected["output_shape"] == (2, 4)


def test_a_build_that_makes_no_module_is_not_walked_on_the_meta_device() -> None:
    assert probes.meta_walk((lambda: "not a model", [], {}), torch.zeros(1, 2), False) is None


def test_optimisers_are_fused_where_torch_can_fuse_them() -> None:
    weights = [nn.Parameter(torch.ones(3))]
    complex_weights = [nn.Parameter(torch.ones(3, dtype=torch.complex64))]

    assert probes._optimizer("adam", weights, 0.1).defaults["fused"] is True
    assert probes._optimizer("sgd", weights, 0.1).defaults["fused"] is True
    unfused = probes._optimizer("adam", complex_weights, 0.1)
    complex_weights[0].grad = torch.ones(3, dtype=torch.complex64)
    unfused.step()  # a fused step would raise for complex parameters

    assert not unfused.defaults["fused"]


def test_a_torch_that_cannot_fuse_gets_the_plain_optimiser(monkeypatch) -> None:
    plain = torch.optim.Adam

    def adam(params, lr, fused=None):
        if fused:
            raise RuntimeError("`fused=True` is not supported here")
        return plain(params, lr=lr)

    monkeypatch.setattr(torch.optim, "Adam", adam)

    optimiser = probes._optimizer("adam", [nn.Parameter(torch.ones(3))], 0.1)

    assert not optimiser.defaults["fused"]


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_a_short_training_run_lowers_the_loss(optimizer) -> None:
    seed_everything(0)
    X = torch.randn(64, 1, 12, 10)
    y = (X.mean(dim=(1, 2, 3)) > 0).long()

    result = probes.train_steps(
        vgg_like(), X, y, steps=30, lr=0.01, batch_size=16, optimizer=optimizer
    )

    losses = result["losses"]
    assert len(losses) == 30
    assert sum(losses[-5:]) < sum(losses[:5])


class Scaled(nn.Module):
    """A layer of a student's own that sizes its weight on its first input and draws it with
    torch's Kaiming init, which Xavier does not redraw (it is not a Linear or Conv2d)."""

    def __init__(self) -> None:
        super().__init__()
        self.scale: nn.Parameter | None = None

    def forward(self, X):
        if self.scale is None:
            self.scale = nn.Parameter(torch.empty(X.shape[-1], X.shape[-1]))
            nn.init.kaiming_uniform_(self.scale)
        return X @ self.scale


def test_weights_redrawn_after_sizing_are_drawn_once_and_the_others_still_are(monkeypatch) -> None:
    """With `xavier`, the Kaiming draws of the Lazy layers' sizing pass are skipped for the Linear
    and Conv2d weights that Xavier redraws next, and made for any other weight."""
    draws: list[tuple[int, ...]] = []
    kaiming = nn.init.kaiming_uniform_

    def counted(tensor, *args, **kwargs):
        draws.append(tuple(tensor.shape))
        return kaiming(tensor, *args, **kwargs)

    monkeypatch.setattr(nn.init, "kaiming_uniform_", counted)
    seed_everything(0)
    model = nn.Sequential(nn.Flatten(), nn.LazyLinear(5), Scaled(), nn.LazyLinear(3))
    X = torch.randn(8, 2, 3)
    y = torch.zeros(8, dtype=torch.long)

    probes.train_steps(model, X, y, steps=1, lr=0.0, batch_size=8, xavier=True)

    assert draws == [(5, 5)]  # the student's layer's only: the Linear weights were redrawn
    scale = model[2].scale
    assert torch.isfinite(scale).all()
    assert scale.abs().max() <= math.sqrt(6 / 5)
    assert model[1].weight.abs().max() <= math.sqrt(6 / (6 + 5))  # Xavier's bound


class Recording(nn.Module):
    """Records deterministic mode's fill flag in its forward pass and in the backward pass."""

    def __init__(self, seen: list[tuple[str, bool]]) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.LazyLinear(3))
        self.seen = seen

    def forward(self, X):
        self.seen.append(("forward", fill_flag()))
        out = self.net(X)
        if out.requires_grad:
            out.register_hook(lambda grad: self.seen.append(("backward", fill_flag())))
        return out


def fill_flag() -> bool:
    return bool(torch.utils.deterministic.fill_uninitialized_memory)


def test_training_steps_fill_new_memory_in_the_forward_pass_only() -> None:
    """Student code runs in the forward pass, where deterministic mode's filling of new memory
    stays on; torch's backward pass and optimiser step go without it; the flag is put back."""
    seen: list[tuple[str, bool]] = []
    X, y = torch.randn(4, 2, 3), torch.tensor([0, 1, 2, 0])

    probes.train_steps(Recording(seen), X, y, steps=2, lr=0.1, batch_size=4, xavier=True)

    steps = [entry for entry in seen if entry[0] == "backward"]
    assert len(steps) == 2
    assert all(flag for kind, flag in seen if kind == "forward")
    assert not any(flag for _, flag in steps)
    assert fill_flag()


def test_the_fill_flag_is_put_back_when_a_step_fails(monkeypatch) -> None:
    def broken_step(self, *args, **kwargs):
        raise RuntimeError("the step failed")

    monkeypatch.setattr(torch.optim.SGD, "step", broken_step)

    with pytest.raises(RuntimeError, match="the step failed"):
        probes.train_steps(
            nn.Sequential(nn.Flatten(), nn.Linear(6, 3)),
            torch.randn(4, 2, 3),
            torch.tensor([0, 1, 2, 0]),
            steps=1,
            lr=0.1,
            batch_size=4,
        )
    assert fill_flag()


def test_a_training_run_gives_the_same_losses_every_time() -> None:
    X, y = torch.randn(16, 1, 12, 10), torch.randint(0, 5, (16,))

    def losses() -> list[float]:
        seed_everything(3)
        result = probes.train_steps(
            vgg_like(), X, y, steps=5, lr=0.01, batch_size=8, optimizer="adam", xavier=True
        )
        return result["losses"]

    assert losses() == losses()


def test_a_lazy_layer_the_forward_pass_never_uses_is_walked_and_left_out() -> None:
    class Unused(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.LazyConv2d(4, 3, padding=1)
            self.spare = nn.LazyBatchNorm2d()  # never called

        def forward(self, X: torch.Tensor) -> torch.Tensor:
            return self.conv(X)

    model = Unused()

    walk = probes.layers(model, torch.zeros(1, 2, 5, 5))
    state = probes.state_dict(model)

    assert walk["output_shape"] == (1, 4, 5, 5)
    assert walk["num_params"] == 4 * 2 * 9 + 4
    # the spare's running statistics are not there yet; its batch counter is (a plain buffer)
    assert sorted(state) == ["conv.bias", "conv.weight", "spare.num_batches_tracked"]


def test_a_model_is_described_without_running_it_when_asked() -> None:
    model = nn.Sequential(nn.LazyConv2d(6, 1, stride=2), nn.ReLU())

    walk = probes.layers(model, torch.zeros(1, 3, 4, 4), run=False)

    assert walk["output_shape"] is None
    assert [(layer["type"], layer.get("stride")) for layer in walk["layers"]] == [
        ("LazyConv2d", (2, 2)),
        ("ReLU", None),
    ]
