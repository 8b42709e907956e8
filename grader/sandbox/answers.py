"""What each probe's answer must look like, checked in the parent before any check reads it.

A probe (`grader.child.queries`) runs in the child beside student code, which can replace anything
the probe calls: a model's `state_dict`, `named_modules`, even a builtin. So a probe's answer is as
hostile as a student function's return value. Were it read unchecked, a `state_dict()` that returns
ints would make the check that reads `.shape` raise AttributeError: neither the student's failure
nor a fault of ours, and a student must never make a check count as our fault. Each probe's answer is
matched here against its shape; one that does not match is the submission's fault
(`WrongReturnType`, naming the part that is wrong). Probes that hand back what student code returned
(`forward`, `load_and_forward`, `summary`) are left to the checks, which expect tensors already.

A layers answer is then held to its own arguments: a torch.nn layer's parameter count follows from
them (a Conv2d from its channels, kernel, groups and bias), so a layer described with arguments it
does not have, or a look-alike that holds no weights, is refused here too (`agrees`). The child
names a class that only borrows a torch.nn name as not torch's (`grader.child.queries`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from grader.errors import WrongReturnType

Shape = Callable[[Any, str], None]
"""Checks a value found at a path (as `['weight']`, `.losses[3]`), raising `Mismatch` if wrong."""

MAX_ENTRIES = 100_000
"""Longer lists and dicts than any probe's honest answer (ResNet-18's state dict has 122 entries)."""


class Mismatch(Exception):
    def __init__(self, path: str, expected: str, value: Any, got: str | None = None) -> None:
        self.path, self.expected, self.got = path, expected, got or _kind(value)
        super().__init__(f"{self.got} at {path}, not {expected}")


def _kind(value: Any) -> str:
    name = type(value).__name__
    return f"{'an' if name[:1] in 'aeiouAEIOU' else 'a'} {name}"


def tensor(value: Any, path: str) -> None:
    import torch

    if not isinstance(value, torch.Tensor):
        raise Mismatch(path, "a tensor", value)


def integer(value: Any, path: str) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise Mismatch(path, "an int", value)


def boolean(value: Any, path: str) -> None:
    if not isinstance(value, bool):
        raise Mismatch(path, "a bool", value)


def number(value: Any, path: str) -> None:
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise Mismatch(path, "a number", value)


def text(value: Any, path: str) -> None:
    if not isinstance(value, str):
        raise Mismatch(path, "a str", value)


def optional(shape: Shape) -> Shape:
    def check(value: Any, path: str) -> None:
        if value is not None:
            shape(value, path)

    return check


def either(*shapes: Shape, expected: str) -> Shape:
    def check(value: Any, path: str) -> None:
        for shape in shapes:
            try:
                shape(value, path)
                return
            except Mismatch:
                continue
        raise Mismatch(path, expected, value)

    return check


def sequence_of(shape: Shape) -> Shape:
    """A list or tuple of at most `MAX_ENTRIES` values of `shape`."""

    def check(value: Any, path: str) -> None:
        if not isinstance(value, list | tuple) or len(value) > MAX_ENTRIES:
            raise Mismatch(path, f"a list of at most {MAX_ENTRIES:,} values", value)
        for i, entry in enumerate(value):
            shape(entry, f"{path}[{i}]")

    return check


def mapping_of(shape: Shape) -> Shape:
    """A dict of at most `MAX_ENTRIES` str keys to values of `shape`."""

    def check(value: Any, path: str) -> None:
        if not isinstance(value, dict) or len(value) > MAX_ENTRIES:
            raise Mismatch(path, f"a dict of at most {MAX_ENTRIES:,} entries", value)
        for key, entry in value.items():
            text(key, f"{path} (a key)")
            shape(entry, f"{path}[{key!r}]")

    return check


def record(fields: Mapping[str, Shape], extra: Shape | None = None) -> Shape:
    """A dict with every key of `fields` (each of its shape), and other str keys only with `extra`."""

    def check(value: Any, path: str) -> None:
        if not isinstance(value, dict):
            raise Mismatch(path, "a dict", value)
        for key, shape in fields.items():
            if key not in value:
                raise Mismatch(f"{path}[{key!r}]", f"a {key!r} entry", None, got="nothing")
            shape(value[key], f"{path}[{key!r}]")
        others = [key for key in value if key not in fields]
        if others and extra is None:
            raise Mismatch(
                f"{path}[{others[0]!r}]", f"only {sorted(fields)}", None, got="an extra entry"
            )
        if len(others) > MAX_ENTRIES:
            raise Mismatch(path, f"a dict of at most {MAX_ENTRIES:,} entries", value)
        for key in others:
            text(key, f"{path} (a key)")
            assert extra is not None
            extra(value[key], f"{path}[{key!r}]")

    return check


SCALAR = either(boolean, number, text, expected="a number")
SHAPE = optional(sequence_of(integer))
STATE = mapping_of(tensor)

PROBE_ANSWERS: dict[str, Shape] = {
    "state_dict": STATE,
    "apply_init": record({"before": STATE, "after": STATE, "types": sequence_of(text)}),
    "train_steps": record({"losses": sequence_of(number), "device": text}),
    "fit_kernel": record({"weight": optional(tensor), "losses": sequence_of(number)}),
    "layers": record(
        {
            "layers": sequence_of(
                record(
                    {
                        "type": text,
                        "name": text,
                        "output_shape": SHAPE,
                        "leaf": boolean,
                        "num_params": integer,
                    },
                    # the layer's key arguments (`kernel_size`, `padding`, ...)
                    extra=either(
                        SCALAR,
                        sequence_of(optional(SCALAR)),
                        expected="a number or a tuple of numbers",
                    ),
                )
            ),
            "top": sequence_of(text),
            "output_shape": SHAPE,
            "num_params": integer,
        }
    ),
}
"""The shape of each probe's answer; a probe not named here answers what student code returned."""


def _product(values: Any) -> int:
    result = 1
    for value in values if isinstance(values, list | tuple) else (values,):
        result *= value
    return result


def expected_parameters(layer: Mapping[str, Any]) -> int | None:
    """How many parameters a torch.nn layer with these arguments holds; None where its arguments do
    not tell (a type this does not know, a Lazy layer not yet sized, an argument that is missing)."""
    try:
        kind = layer["type"]
        if kind in PARAMETERLESS:
            return 0
        if kind == "Conv2d":
            bias = layer["out_channels"] if layer["bias"] else 0
            per_output = layer["in_channels"] // layer["groups"] * _product(layer["kernel_size"])
            return int(layer["out_channels"] * per_output + bias)
        if kind == "Linear":
            bias = layer["out_features"] if layer["bias"] else 0
            return int(layer["in_features"] * layer["out_features"] + bias)
        if kind == "BatchNorm2d":
            return int(2 * layer["num_features"]) if layer["affine"] else 0
    except (KeyError, TypeError, ZeroDivisionError):
        return None
    return None


PARAMETERLESS = frozenset(
    {"ReLU", "Sigmoid", "Tanh", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "Flatten", "Dropout",
     "Identity"}
)  # fmt: skip


def agrees(answer: Mapping[str, Any]) -> None:
    """Raise Mismatch for the first leaf layer of a layers answer whose parameter count is not the
    one its arguments give."""
    for index, layer in enumerate(answer["layers"]):
        if not layer["leaf"]:
            continue
        expected = expected_parameters(layer)
        if expected is not None and expected != layer["num_params"]:
            arguments = ", ".join(
                f"{key} {layer[key]}"
                for key in ("in_channels", "out_channels", "kernel_size", "groups",
                            "in_features", "out_features", "num_features", "bias")
                if key in layer
            )  # fmt: skip
            raise Mismatch(
                f".layers[{index}]",
                f"the {expected:,} parameters its arguments give ({arguments})",
                None,
                got=f"a {layer['type']} {layer['name']!r} that holds {layer['num_params']:,}",
            )


CONSISTENT: dict[str, Callable[[Any], None]] = {"layers": agrees}
"""Checks of an answer against itself, after its shape."""


def checked(probe: str, answer: Any, what: str) -> Any:
    """`answer` if it has the shape of `probe`'s answers; WrongReturnType naming what is wrong."""
    shape = PROBE_ANSWERS.get(probe)
    if shape is not None:
        try:
            shape(answer, "")
            if probe in CONSISTENT:
                CONSISTENT[probe](answer)
        except Mismatch as mismatch:
            where = f" at {mismatch.path}" if mismatch.path else ""
            raise WrongReturnType(what, mismatch.expected, f"{mismatch.got}{where}") from None
    return answer


__all__ = ["PROBE_ANSWERS", "Mismatch", "checked"]
