"""Section 8.6: Residual, ResNet (b1, block) and ResNet18."""

import functools
import itertools

import pytest
import torch
from torch.nn import functional as F

from grader.checking.compare import check_equal, check_tensor, fail
from grader.checking.memo import remember
from grader.checking.mistakes import Diagnosis, Mistake, diagnose
from grader.checks.models import (
    check_layer_argument,
    check_layer_types,
    check_output_shapes,
    layers,
    top_layers,
)
from grader.errors import SubmissionCrashed

RESNET18_SHAPES = [
    (1, 64, 24, 24),
    (1, 64, 24, 24),
    (1, 128, 12, 12),
    (1, 256, 6, 6),
    (1, 512, 3, 3),
    (1, 10),
]


def test_residual_keeps_the_shape_without_a_projection(Residual, process):
    """Residual(3) maps a 4x3x6x6 input to 4x3x6x6 (8.6.2)."""
    info = layers(
        process,
        Residual(3, what="Residual(3)"),
        (4, 3, 6, 6),
        "Residual(3) on a 4x3x6x6 input",
        train=True,
    )
    check_equal(
        (4, 3, 6, 6),
        info["output_shape"],
        what="Residual(3) on a 4x3x6x6 input",
        problem="wrong output shape",
    )


def test_residual_with_a_1x1_convolution_and_stride_2_halves_and_projects(Residual, process):
    """Residual(6, use_1x1conv=True, strides=2) maps 4x3x6x6 to 4x6x3x3: the shortcut is projected by a strided 1x1 convolution."""
    what = "Residual(6, use_1x1conv=True, strides=2) on a 4x3x6x6 input"
    block = Residual(
        6, use_1x1conv=True, strides=2, what="Residual(6, use_1x1conv=True, strides=2)"
    )
    try:
        info = layers(process, block, (4, 3, 6, 6), what, train=True)
    except SubmissionCrashed as error:
        fail_if_the_shortcut_does_not_fit(process, block, (4, 3, 6, 6), what, error)
        raise
    check_equal((4, 6, 3, 3), info["output_shape"], what=what, problem="wrong output shape")
    one_by_one = [
        layer
        for layer in info["layers"]
        if layer["type"] == "Conv2d" and layer.get("kernel_size") == (1, 1)
    ]
    if not one_by_one or one_by_one[0].get("stride") != (2, 2):
        fail(
            what,
            "no strided 1x1 convolution on the shortcut",
            "",
            f"convolutions: {[(c['name'], c.get('kernel_size'), c.get('stride')) for c in info['layers'] if c['type'] == 'Conv2d']}",
            Diagnosis(
                "shortcut not projected",
                "conv3 = nn.LazyConv2d(num_channels, kernel_size=1, stride=strides)",
            ),
        )


def fail_if_the_shortcut_does_not_fit(process, block, X_shape, what, error):
    """Fail naming the mistake when `error` (from running `block`) is its shortcut not fitting
    its output: what the block was built with tells which (`shortcut_hint`)."""
    if "size of tensor" in error.error_message or "must match" in error.error_message:
        built = layers(process, block, X_shape, what, run=False)
        fail(what, "the shortcut does not fit", "", error.error_message, shortcut_hint(built))


def shortcut_hint(built):
    """What makes the input and the block's output differ in size, from the layers it was built
    with: no 1x1 convolution, or one without the stride, or a first convolution without it."""
    convs = [c for c in built["layers"] if c["type"] in ("Conv2d", "LazyConv2d")]
    one = [c for c in convs if c.get("kernel_size") == (1, 1)]
    three = [c for c in convs if c.get("kernel_size") == (3, 3)]
    if not one:
        return Diagnosis(
            "shortcut not projected",
            "with use_1x1conv=True, X goes through the strided 1x1 convolution before Y += X",
        )
    if one[0].get("stride") != (2, 2):
        return Diagnosis(
            "1x1 projection without stride",
            "conv3 = nn.LazyConv2d(num_channels, kernel_size=1, stride=strides), so that X "
            "shrinks as Y does",
        )
    if three and three[0].get("stride") != (2, 2):
        return Diagnosis(
            "first convolution without stride",
            "conv1 = nn.LazyConv2d(num_channels, kernel_size=3, padding=1, stride=strides)",
        )
    return None


@remember
def residual_forward(state, X, train, project, stride, without=()):
    """The book's residual block, written with torch.nn.functional, for the given weights (named by
    role as in the book: conv1, bn1, conv2, bn2, conv3; a convolution may have no bias), or the
    block with the steps named in `without` left out (`bn1`, `bn2`, `relu`: the final ReLU), which
    are known mistakes."""

    def bn(Y, prefix):
        if prefix in without:
            return Y
        return F.batch_norm(
            Y,
            state[prefix + ".running_mean"].clone(),
            state[prefix + ".running_var"].clone(),
            state.get(prefix + ".weight"),
            state.get(prefix + ".bias"),
            training=train,
            eps=1e-5,
        )

    def conv(Y, prefix, **options):
        return F.conv2d(Y, state[prefix + ".weight"], state.get(prefix + ".bias"), **options)

    Y = F.relu(bn(conv(X, "conv1", stride=stride, padding=1), "bn1"))
    Y = bn(conv(Y, "conv2", padding=1), "bn2")
    if project:
        X = conv(X, "conv3", stride=stride)
    return Y + X if "relu" in without else F.relu(Y + X)


RESIDUAL_MISTAKES = (
    Mistake(
        "final ReLU missing",
        "return F.relu(Y) after adding the shortcut",
        functools.partial(residual_forward, without=("relu",)),
    ),
    Mistake(
        "missing batch norm",
        "Y = F.relu(self.bn1(self.conv1(X))), batch norm before the ReLU",
        functools.partial(residual_forward, without=("bn1",)),
    ),
    Mistake(
        "missing batch norm",
        "Y = self.bn2(self.conv2(Y)), batch norm before adding the shortcut",
        functools.partial(residual_forward, without=("bn2",)),
    ),
)


BOOKS_BLOCK = (
    "the book's block: conv1 (3x3, padding 1, stride `strides`), bn1, ReLU, conv2 (3x3, "
    "padding 1), bn2; plus conv3 (1x1, stride `strides`) on the input when use_1x1conv; add, ReLU"
)


def residual_roles(state, in_channels, project):
    """The ways the block's layers can play the book's roles, as {role: the layer's name in the
    state dict}, by type, shape and order, not by name: 4-D weights are convolutions (3x3 ones
    conv1 and conv2, a 1x1 one conv3), layers with running statistics batch norms. Where shapes
    cannot tell two layers apart (conv1 and conv2 of Residual(3) on 3 channels, bn1 and bn2), every
    order is a candidate, in registration order first. Returns what does not fit instead when no
    assignment exists."""
    modules = list(dict.fromkeys(key.rpartition(".")[0] for key in state))
    convs = {
        m: state[m + ".weight"]
        for m in modules
        if getattr(state.get(m + ".weight"), "ndim", 0) == 4
    }
    norms = [m for m in modules if m + ".running_mean" in state]
    three = [m for m, w in convs.items() if tuple(w.shape[-2:]) == (3, 3)]
    one = [m for m, w in convs.items() if tuple(w.shape[-2:]) == (1, 1)]
    found = (
        f"3x3 convolutions {three or 'none'}, 1x1 convolutions {one or 'none'}, "
        f"batch norms {norms or 'none'}, other convolutions "
        f"{[m for m in convs if m not in three and m not in one] or 'none'}"
    )
    if (
        len(three) != 2
        or len(norms) != 2
        or len(convs) != 2 + len(one)
        or (project and len(one) != 1)
    ):
        return found
    candidates = []
    for first, second in itertools.permutations(three):
        if convs[first].shape[1] != in_channels or convs[second].shape[1] != convs[first].shape[0]:
            continue
        for bn1, bn2 in itertools.permutations(norms):
            roles = {"conv1": first, "conv2": second, "bn1": bn1, "bn2": bn2}
            if project:
                roles["conv3"] = one[0]
            candidates.append(roles)
    return candidates or found


def by_role(state, roles):
    """`state` with each role's layer renamed to the role."""
    return {
        f"{role}.{key[len(name) + 1 :]}": value
        for role, name in roles.items()
        for key, value in state.items()
        if key.startswith(name + ".")
    }


@pytest.mark.parametrize("mode", ["train", "eval"])
@pytest.mark.parametrize(
    ("block", "args", "project", "stride"),
    [
        ("Residual(3)", (3,), False, 1),
        ("Residual(6, use_1x1conv=True, strides=2)", (6, True, 2), True, 2),
    ],
    ids=["plain", "projected"],
)
def test_residual_forward_pass_is_the_books(Residual, process, mode, block, args, project, stride):
    """With its own weights, {block} computes conv-BN-ReLU-conv-BN plus the (projected) input, then ReLU, in {mode} mode."""
    train = mode == "train"
    model = Residual(*args, what=block)
    X = torch.randn(4, 3, 6, 6)
    try:  # sizes the Lazy layers
        process.probe("forward", model, what=f"{block}(X)", X=X, train=True)
    except SubmissionCrashed as error:
        fail_if_the_shortcut_does_not_fit(process, model, tuple(X.shape), f"{block}(X)", error)
        raise
    state = process.probe("state_dict", model, what=f"{block}.state_dict()")
    roles = residual_roles(state, X.shape[1], project)
    if isinstance(roles, str):
        norms = sum(key.endswith(".running_mean") for key in state)
        fail(
            f"{block}",
            "its layers do not fit the book's block",
            "",
            roles + " (layers its forward pass does not use are left out)",
            Diagnosis("missing batch norm", BOOKS_BLOCK) if norms < 2 else BOOKS_BLOCK,
        )
    X = torch.randn(4, 3, 6, 6)
    got = process.probe("forward", model, what=f"{block}(X)", X=X, train=train)
    # The role assignment closest to what the block computes is the one to compare with.
    renamed, expected = min(
        (
            (weights, residual_forward(weights, X, train, project, stride))
            for weights in (by_role(state, r) for r in roles)
        ),
        key=lambda pair: distance(pair[1], got),
    )
    check_tensor(
        expected,
        got,
        what=f"{block}(X) in {mode} mode",
        inputs={"X": X},
        hint=lambda tensor: diagnose(tensor, RESIDUAL_MISTAKES, renamed, X, train, project, stride),
        shape_hint=BOOKS_BLOCK,
        atol=1e-4,
    )


def distance(expected, got):
    """How far `got` is from `expected`: the largest difference, or infinity for what cannot be
    compared."""
    if not isinstance(got, torch.Tensor) or got.shape != expected.shape:
        return float("inf")
    return float((got.detach().double() - expected.double()).abs().nan_to_num(float("inf")).max())


def test_resnet_b1_is_the_books_stem(ResNet, process):
    """ResNet's b1 is a 7x7 convolution with 64 channels and stride 2, BatchNorm, ReLU and 3x3 max pooling with stride 2."""
    model = ResNet(((1, 64),), what="ResNet(arch=((1, 64),))")
    stem = process.method(model, "b1", what="ResNet.b1()")
    info = layers(process, stem, (1, 1, 32, 32), "b1() on a 1x1x32x32 input")
    check_layer_types(["Conv2d", "BatchNorm2d", "ReLU", "MaxPool2d"], info, "ResNet.b1()")
    top = top_layers(info)
    for key, value in (("out_channels", 64), ("kernel_size", 7), ("stride", 2), ("padding", 3)):
        check_layer_argument(top[0], key, value, "b1's convolution")
    for key, value in (("kernel_size", 3), ("stride", 2), ("padding", 1)):
        check_layer_argument(top[3], key, value, "b1's max pooling")
    check_equal(
        (1, 64, 8, 8),
        info["output_shape"],
        what="b1() on a 1x1x32x32 input",
        problem="wrong output shape",
    )


def test_resnet_first_stage_keeps_the_size(ResNet, process):
    """block(2, 64, first_block=True) keeps a 1x64x8x8 input's size: the first stage does not downsample."""
    model = ResNet(((1, 64),), what="ResNet(arch=((1, 64),))")
    stage = process.method(
        model, "block", 2, 64, first_block=True, what="ResNet.block(2, 64, first_block=True)"
    )
    info = layers(
        process,
        stage,
        (2, 64, 8, 8),
        "block(2, 64, first_block=True) on a 2x64x8x8 input",
        train=True,
    )
    check_equal(
        (2, 64, 8, 8),
        info["output_shape"],
        what="block(2, 64, first_block=True) on a 2x64x8x8 input",
        problem="wrong output shape",
        hint=Diagnosis(
            "first stage downsampling",
            "with first_block=True no residual block uses strides=2 or a 1x1 convolution",
        ),
    )
    check_equal(
        2,
        len(info["top"]),
        what="block(2, 64, first_block=True)",
        problem="wrong number of residual blocks",
    )


def test_resnet_later_stages_halve_the_size_and_double_the_channels(ResNet, process):
    """block(2, 128) maps 2x64x8x8 to 2x128x4x4: its first residual block has strides=2 and a 1x1 convolution."""
    model = ResNet(((1, 64),), what="ResNet(arch=((1, 64),))")
    stage = process.method(model, "block", 2, 128, what="ResNet.block(2, 128)")
    info = layers(process, stage, (2, 64, 8, 8), "block(2, 128) on a 2x64x8x8 input", train=True)
    check_equal(
        (2, 128, 4, 4),
        info["output_shape"],
        what="block(2, 128) on a 2x64x8x8 input",
        problem="wrong output shape",
        hint="the first residual block of a later stage is Residual(num_channels, use_1x1conv=True, strides=2)",
    )


def test_resnet_stacks_the_stem_the_stages_and_the_head(ResNet, process):
    """ResNet(arch=((1, 64), (1, 128)), num_classes=5) is b1, one stage per pair, then global average pooling, Flatten and Linear(5)."""
    model = ResNet(
        ((1, 64), (1, 128)), num_classes=5, what="ResNet(arch=((1, 64), (1, 128)), num_classes=5)"
    )
    info = layers(
        process,
        model,
        (2, 1, 32, 32),
        "ResNet(arch=((1, 64), (1, 128)), num_classes=5) on a 2x1x32x32 input",
        train=True,
    )
    check_output_shapes(
        [(2, 64, 8, 8), (2, 64, 8, 8), (2, 128, 4, 4), (2, 5)],
        info,
        "ResNet(arch=((1, 64), (1, 128)), num_classes=5) on a 2x1x32x32 input",
    )
    head = [
        layer["type"] for layer in info["layers"] if layer["name"].startswith(info["top"][-1] + ".")
    ]
    check_equal(
        ["AdaptiveAvgPool2d", "Flatten", "Linear"],
        head,
        what="ResNet's head",
        problem="wrong layers",
    )


@pytest.fixture(scope="module")
def resnet18_layers(ResNet18, process):
    return layers(
        process,
        ResNet18(what="ResNet18()"),
        (1, 1, 96, 96),
        "ResNet18() on a 1x1x96x96 input",
        fast_init=True,
    )


def test_resnet18_summary_at_96_matches_the_book(resnet18_layers):
    """On a 1x1x96x96 input, ResNet18's stem, four stages and head give the shapes of the book's summary."""
    check_output_shapes(
        RESNET18_SHAPES,
        resnet18_layers,
        "ResNet18() on a 1x1x96x96 input",
        hint=Diagnosis("wrong ResNet18 stages", "((2, 64), (2, 128), (2, 256), (2, 512))"),
    )


def test_resnet18_has_four_stages_of_two_residual_blocks(resnet18_layers):
    """ResNet18 has four stages of two residual blocks each, with 64, 128, 256 and 512 channels."""
    stages = resnet18_layers["top"][1:-1]
    by_name = {layer["name"]: layer for layer in resnet18_layers["layers"]}
    counts = [
        sum(
            1
            for name in by_name
            if name.startswith(stage + ".") and name.count(".") == stage.count(".") + 1
        )
        for stage in stages
    ]
    channels = [
        by_name[stage]["output_shape"][1] if by_name[stage]["output_shape"] else None
        for stage in stages
    ]
    hint = Diagnosis(
        "wrong ResNet18 stages",
        "super().__init__(((2, 64), (2, 128), (2, 256), (2, 512)), lr, num_classes)",
    )
    check_equal(
        [2, 2, 2, 2],
        counts,
        what="ResNet18()'s stages",
        problem="wrong number of residual blocks per stage",
        hint=hint,
    )
    check_equal(
        [64, 128, 256, 512],
        channels,
        what="ResNet18()'s stages",
        problem="wrong channels",
        hint=hint,
    )


def test_resnet18_has_11178378_parameters(resnet18_layers):
    """ResNet18 for one input channel and 10 classes has 11,178,378 parameters."""
    check_equal(
        11_178_378,
        resnet18_layers["num_params"],
        what="ResNet18()",
        problem="wrong number of parameters",
    )
