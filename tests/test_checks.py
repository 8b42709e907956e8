"""The homework checks as a whole: correct notebooks earn full marks, each known mistake costs exactly
its item and is named in the feedback, and grading is fair and repeatable."""

import ast
from pathlib import Path

import pytest

import reference
from grader.grading import grade
from grader.plugin import CHECKS_DIR
from grader.rubric import load_rubric
from grader.scoring import by_item, total
from tests.support.mutations import MUTATIONS, mutated_notebook

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "notebooks"


def check_functions() -> dict[str, Path]:
    found = {}
    for path in CHECKS_DIR.rglob("test_*.py"):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                found[node.name] = path
    return found


def test_the_rubric_sums_to_100_over_the_15_items() -> None:
    rubric = load_rubric()

    assert rubric.total() == 100
    assert sorted(rubric.item_totals()) == sorted(reference.ITEMS)


def test_every_check_is_in_the_rubric_with_its_visibility() -> None:
    rubric = load_rubric()
    checks = check_functions()

    assert sorted(checks) == sorted(rubric.entries)
    for name, path in checks.items():
        hidden = path.is_relative_to(CHECKS_DIR / "hidden")
        assert rubric.entries[name].visibility == ("hidden" if hidden else "public"), name


def test_every_check_says_what_it_checks() -> None:
    for path in CHECKS_DIR.rglob("test_*.py"):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                assert ast.get_docstring(node), f"{path.name}::{node.name} has no docstring"


@pytest.fixture(scope="module")
def graded(sandbox):
    cache: dict[str, object] = {}

    def run(path: Path, **kwargs):
        key = f"{path}:{kwargs}"
        if key not in cache:
            cache[key] = grade(path, sandbox=sandbox, **kwargs)
        return cache[key]

    return run


@pytest.mark.parametrize(
    "path",
    [
        ROOT / "submissions" / "solved.ipynb",
        FIXTURES / "book_style_with_training.ipynb",
        FIXTURES / "unfold_style.ipynb",
        FIXTURES / "functional_style.ipynb",
        FIXTURES / "einsum_style.ipynb",
        FIXTURES / "renamed_layers_style.ipynb",
        FIXTURES / "sequential_residual_style.ipynb",
    ],
    ids=lambda p: p.stem,
)
def test_a_correct_notebook_in_any_style_earns_full_marks(graded, path: Path) -> None:
    book = graded(path)

    failures = {
        r.check_id: r.message or r.staff_details for r in book.results if r.outcome != "passed"
    }
    assert failures == {}
    assert total(book.results).points == 100
    # Every check passes; calling the operators the homework asks students to write is the
    # business of the rubric's [integrity] rules, which find exactly those items here.
    not_from_scratch = {"corr2d", "corr2d_multi_in", "corr2d_multi_in_out", "pool2d"}
    assert set(book.operations) == (not_from_scratch if path.stem == "functional_style" else set())


def test_the_template_earns_nothing_and_says_what_is_missing(graded) -> None:
    book = graded(ROOT / "submissions" / "homework.ipynb", visibility="public")

    assert total(book.results).points == 0
    assert all(r.visibility == "public" for r in book.results)
    message = next(r.message for r in book.results if r.item == "corr2d")
    assert message.startswith("corr2d(X, K) raised NotImplementedError")


def test_self_check_runs_only_public_checks(graded) -> None:
    book = graded(ROOT / "submissions" / "solved.ipynb", visibility="public")

    assert {r.visibility for r in book.results} == {"public"}
    assert total(book.results).points == load_rubric().total("public")


def test_grading_twice_gives_identical_results(graded, sandbox) -> None:
    path = FIXTURES / "redefinition.ipynb"

    first = graded(path)
    again = grade(path, sandbox=sandbox)

    def verdicts(book):
        return [(r.check_id, r.outcome, r.points, r.message) for r in book.results]

    assert verdicts(first) == verdicts(again)


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_each_known_mistake_costs_exactly_its_item_and_is_named(
    graded, tmp_path: Path, name: str
) -> None:
    mutation = MUTATIONS[name]
    path = tmp_path / f"{name}.ipynb"
    path.write_text(mutated_notebook(mutation), encoding="utf-8")

    book = graded(path)

    items = by_item(book.results)
    lost = {item for item, t in items.items() if t.points < t.max_points}
    assert lost == {mutation.item}, {
        r.check_id: r.message[:200] for r in book.results if r.outcome != "passed"
    }
    messages = "\n".join(r.message for r in book.results if r.item == mutation.item)
    assert mutation.named in messages, messages
    assert all(r.outcome != "not_graded" for r in book.results)
    # counted in the staff summary by name, not by its message
    assert mutation.named in {r.mistake for r in book.results}


def test_warnings_and_stderr_output_cost_nothing(graded, tmp_path: Path) -> None:
    solved = (ROOT / "submissions" / "solved.ipynb").read_text()
    noisy = solved.replace(
        '    h, w = K.shape\\n",',
        '    import sys, warnings\\n",\n    "    warnings.warn(\\"this is slow\\")\\n",\n    "    print(\\"debug\\", file=sys.stderr)\\n",\n    "    h, w = K.shape\\n",',
        1,
    )
    assert noisy != solved
    path = tmp_path / "noisy.ipynb"
    path.write_text(noisy)

    book = graded(path)

    assert total(book.results).points == 100


def test_items_that_build_on_others_share_children_without_replacing_themselves() -> None:
    from grader.checking.standins import SUBSTITUTIONS, children

    groups = children()

    assert sorted(item for group in groups for item in group) == sorted(SUBSTITUTIONS)
    assert len(groups) == 2  # two children per submission for the six items that build on others
    for group in groups:
        stand_ins = {target for item in group for target in SUBSTITUTIONS[item]}
        replaced_owners = {target.partition(".")[0] for target in stand_ins}
        assert not replaced_owners & set(group), group


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (
            b'{"nbformat": 4, "cells": [',
            "it is not valid JSON: expecting value at line 1, column 27 (the file ends at line 1, "
            "column 27)",
        ),
        (b"", "the file is empty (0 bytes)"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "it is a binary file"),
    ],
    ids=["truncated", "empty", "binary"],
)
def test_an_unreadable_file_runs_no_check_and_says_why_once(
    graded, tmp_path: Path, content: bytes, reason: str
) -> None:
    path = tmp_path / "hw2.ipynb"
    path.write_bytes(content)

    book = graded(path)

    assert {r.outcome for r in book.results} == {"unreadable"}
    assert book.unreadable.startswith(f"hw2.ipynb could not be read: {reason}")
    assert total(book.results).points == 0
    assert total(book.results).max_points == load_rubric().total() == 100


def test_a_dangling_symlink_is_unreadable(graded, tmp_path: Path) -> None:
    path = tmp_path / "hw2.ipynb"
    path.symlink_to(tmp_path / "gone.ipynb")

    book = graded(path)

    assert (
        book.unreadable
        == "hw2.ipynb could not be read: it could not be opened (No such file or directory)"
    )


def test_each_case_of_a_parametrised_check_says_which_it_is(graded) -> None:
    book = graded(ROOT / "submissions" / "solved.ipynb")

    descriptions = [r.description for r in book.results]
    assert len(set(descriptions)) == len(descriptions), sorted(descriptions)
    assert not any("{" in d for d in descriptions)
    assert (
        "With its own weights, Residual(6, use_1x1conv=True, strides=2) computes conv-BN-ReLU-conv-BN "
        "plus the (projected) input, then ReLU, in eval mode." in descriptions
    )
    assert (
        "comp_conv2d with a LazyConv2d of kernel_size=3, padding=1, stride=2 gives the book's "
        "output shape (4, 4) on an 8x8 input (7.3)." in descriptions
    )


@pytest.mark.parametrize(
    ("name", "mistake"),
    [("lenet_wrong_pooling", "wrong pooling"), ("lenet_wrong_activation", "wrong activation")],
)
def test_a_lenet_whose_numbers_print_alike_is_told_where_and_why_they_differ(
    graded, tmp_path: Path, name: str, mistake: str
) -> None:
    path = tmp_path / f"{name}.ipynb"
    path.write_text(mutated_notebook(MUTATIONS[name]), encoding="utf-8")

    book = graded(path)

    [forward] = [r for r in book.results if r.check_id == "test_lenet_forward_pass_is_the_books"]
    assert forward.mistake == mistake
    assert "largest difference" in forward.message


def test_a_residual_in_a_sequential_is_matched_to_the_books_roles() -> None:
    import torch
    from torch import nn
    from torch.nn import functional as F

    from grader.checks.test_resnet import by_role, residual_forward, residual_roles

    class SequentialResidual(nn.Module):
        def __init__(self, channels: int, strides: int) -> None:
            super().__init__()
            self.shortcut = nn.Conv2d(3, channels, kernel_size=1, stride=strides, bias=False)
            self.body = nn.Sequential(
                nn.Conv2d(3, channels, 3, padding=1, stride=strides),
                nn.BatchNorm2d(channels),
                nn.ReLU(),
                nn.Conv2d(channels, channels, 3, padding=1),
                nn.BatchNorm2d(channels),
            )

        def forward(self, X):
            return F.relu(self.body(X) + self.shortcut(X))

    torch.manual_seed(0)
    block = SequentialResidual(6, 2)
    X = torch.randn(4, 3, 6, 6)
    block.train()
    block(X)  # running statistics
    block.eval()
    state = dict(block.state_dict())

    roles = residual_roles(state, 3, project=True)

    assert roles == [
        {
            "conv1": "body.0",
            "conv2": "body.3",
            "bn1": "body.1",
            "bn2": "body.4",
            "conv3": "shortcut",
        },
        {
            "conv1": "body.0",
            "conv2": "body.3",
            "bn1": "body.4",
            "bn2": "body.1",
            "conv3": "shortcut",
        },
    ]
    with torch.no_grad():
        expected = residual_forward(by_role(state, roles[0]), X, False, True, 2)
        torch.testing.assert_close(block(X), expected)
