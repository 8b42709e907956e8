"""Intake: fixture notebooks in several styles and formats become the right program and items."""

import contextlib
import io
import json
from pathlib import Path

import pytest
import torch

import reference
from grader.child.execution import execute_program
from grader.errors import BrokenDefinition, MissingDefinition
from grader.intake.submission import HOMEWORK_ITEMS, Submission, load_submission, parse_submission
from tests.fixtures import build_notebooks
from tests.support.programs import run

FIXTURES = Path(__file__).parents[1] / "fixtures" / "notebooks"
SUBMISSIONS = Path(__file__).parents[2] / "submissions"

CORRECT = [
    FIXTURES / "book_style_with_training.ipynb",
    FIXTURES / "unfold_style.ipynb",
    FIXTURES / "functional_style.ipynb",
    FIXTURES / "einsum_style.ipynb",
    FIXTURES / "renamed_layers_style.ipynb",
    FIXTURES / "sequential_residual_style.ipynb",
    FIXTURES / "format_4_0_without_ids.ipynb",
    FIXTURES / "format_3.ipynb",
    SUBMISSIONS / "solved.ipynb",
]


def test_fixture_notebooks_are_what_the_builder_writes() -> None:
    """Rebuild with `python tests/fixtures/build_notebooks.py` when this fails."""
    for name, text in build_notebooks.contents().items():
        assert (FIXTURES / name).read_text(encoding="utf-8") == text, name


def test_homework_items_are_the_references() -> None:
    assert HOMEWORK_ITEMS == reference.ITEMS


@pytest.mark.parametrize("path", CORRECT, ids=lambda p: p.name)
def test_every_item_is_found_in_a_correct_notebook(path: Path) -> None:
    submission = load_submission(path)

    assert sorted(submission.definitions) == sorted(HOMEWORK_ITEMS)
    assert all(submission.status(item) == "defined" for item in HOMEWORK_ITEMS)
    assert submission.program.broken == ()


@pytest.mark.parametrize("path", CORRECT, ids=lambda p: p.name)
def test_extracted_items_compute_what_the_reference_computes(path: Path) -> None:
    items = run(load_submission(path))
    torch.manual_seed(0)
    X, K = torch.randn(5, 7), torch.randn(2, 3)
    X3, K3 = torch.randn(3, 5, 6), torch.randn(2, 3, 2, 3)

    torch.testing.assert_close(items["corr2d"](X, K), reference.corr2d(X, K))
    torch.testing.assert_close(items["pool2d"](X, (2, 3)), reference.pool2d(X, (2, 3)))
    torch.testing.assert_close(
        items["pool2d"](X, (3, 2), "avg"), reference.pool2d(X, (3, 2), "avg")
    )
    torch.testing.assert_close(
        items["corr2d_multi_in"](X3, K3[0]), reference.corr2d_multi_in(X3, K3[0])
    )
    torch.testing.assert_close(
        items["corr2d_multi_in_out"](X3, K3), reference.corr2d_multi_in_out(X3, K3)
    )
    K1 = torch.randn(4, 3, 1, 1)
    torch.testing.assert_close(
        items["corr2d_multi_in_out_1x1"](X3, K1), reference.corr2d_multi_in_out_1x1(X3, K1)
    )
    model = items["ResNet18"](num_classes=3)
    assert model(torch.zeros(2, 1, 32, 32)).shape == (2, 3)
    summary = io.StringIO()
    with contextlib.redirect_stdout(summary):
        items["layer_summary"](items["LeNet"](), (1, 1, 28, 28))
    assert summary.getvalue().splitlines()[-1] == "Linear output shape:\t torch.Size([1, 10])"


def test_training_cells_are_dropped_not_run() -> None:
    """The homework's 10-epoch cells need Fashion-MNIST: running them here would raise."""
    submission = load_submission(FIXTURES / "book_style_with_training.ipynb")

    failures = execute_program(submission.program.statements, {"__name__": "x"})

    assert failures == []
    sources = "\n".join(s.source for s in submission.program.statements)
    assert "trainer.fit" not in sources
    assert "FashionMNIST" not in sources
    fits = [d for d in submission.program.dropped if d.excerpt.startswith("trainer.fit")]
    assert len(fits) == 3
    assert all(d.reason == "top-level expression: not run by the grader" for d in fits)


def test_the_homeworks_pool2d_rebinding_does_not_replace_the_function() -> None:
    submission = load_submission(FIXTURES / "book_style_with_training.ipynb")

    rebinding = [
        d for d in submission.program.dropped if d.excerpt.startswith("pool2d = nn.MaxPool2d")
    ]

    assert len(rebinding) == 1
    assert "rebinds `pool2d`" in rebinding[0].reason
    assert callable(run(submission)["pool2d"])
    assert submission.definitions["pool2d"].kind == "def"


def test_methods_added_with_add_to_class_apply_in_cell_order() -> None:
    submission = load_submission(FIXTURES / "book_style_with_training.ipynb")

    items = run(submission)

    resnet = items["ResNet"](((1, 8), (1, 16)), num_classes=4)
    assert [name for name, _ in resnet.net.named_children()] == ["0", "b2", "b3", "last"]
    assert submission.definitions["layer_summary"].decorators == (
        "d2l.add_to_class(d2l.Classifier)",
    )


def test_magics_and_shell_lines_are_neutralised() -> None:
    submission = load_submission(FIXTURES / "magics.ipynb")

    reasons = {(d.cell, d.reason) for d in submission.program.dropped}

    # %%time and %%capture cells keep their Python body; %%bash is not Python.
    assert {"corr2d", "pool2d", "corr2d_multi_in"} <= set(submission.definitions)
    assert (4, "cell magic %%bash: not Python") in reasons
    assert (1, "IPython magic or shell command: not run by the grader") in reasons
    assert submission.definitions["corr2d"].where == "cell 3, line 2"
    items = run(submission)
    assert items["corr2d"](torch.ones(3, 3), torch.ones(2, 2)).tolist() == [[4.0, 4.0], [4.0, 4.0]]


def test_a_cell_of_hundreds_of_magics_is_neutralised_and_the_rest_kept() -> None:
    """IPython's transformer gives up on a cell with hundreds of magics; it is then transformed in
    pieces instead of being left unparseable (which cost every item after it)."""
    magics = "\n".join(["%time x = 1"] * 600)
    cells = [build_notebooks.homework()[0], magics, build_notebooks.CORR2D_LOOPS]
    data = build_notebooks.as_json(build_notebooks.notebook(cells)).encode()

    submission = parse_submission(data, "m.ipynb")

    assert submission.program.broken == ()
    assert submission.status("corr2d") == "defined"
    assert sum(s.names == ("x",) for s in submission.program.statements) == 0  # demo code, dropped


def test_a_broken_cell_of_a_thousand_lines_is_parsed_in_bounded_work(monkeypatch) -> None:
    """After a syntax error a cell is parsed piece by piece; the pieces tried are bounded by a
    multiple of the cell's length, not by the square of its statements."""
    import ast as ast_module

    from grader.intake import program

    cell = "\n".join(f"x{i} = (" if i % 2 else f"y{i} = {i}" for i in range(1000))
    parsed: list[int] = []
    real_parse = ast_module.parse

    def counting_parse(source, *args, **kwargs):
        parsed.append(len(source))
        return real_parse(source, *args, **kwargs)

    monkeypatch.setattr(program.ast, "parse", counting_parse)
    broken: list = []

    chunks = program._parse_chunks(cell, 1, broken)

    # the whole cell once, the budget, the piece that spent it, then each remaining piece once
    bound = (program.PARSE_BUDGET + 3) * len(cell) + program.PARSE_BUDGET_FLOOR
    assert sum(parsed) <= bound
    assert broken  # the unclosed parentheses are reported
    assert chunks  # and what parses before them is kept


class TestRedefinitionsAndSyntaxErrors:
    @pytest.fixture(scope="class")
    @classmethod
    def submission(cls) -> Submission:
        return load_submission(FIXTURES / "redefinition.ipynb")

    def test_the_last_definition_wins(self, submission: Submission) -> None:
        assert submission.definitions["corr2d"].cell == 4
        items = run(submission)
        assert items["corr2d"](torch.ones(3, 4), torch.ones(2, 3)).shape == (2, 2)

    def test_a_broken_first_try_is_overridden_by_a_later_good_one(
        self, submission: Submission
    ) -> None:
        assert submission.status("pool2d") == "defined"
        assert submission.definitions["pool2d"].cell == 6

    def test_a_broken_last_try_is_the_students_last_word(self, submission: Submission) -> None:
        assert submission.status("comp_conv2d") == "broken"
        with pytest.raises(BrokenDefinition) as info:
            submission.require("comp_conv2d")
        assert str(info.value).startswith(
            "`comp_conv2d` could not be read: the cell starting `def comp_conv2d(conv2d, X)` "
            "has a syntax error at line 1"
        )


def test_a_cell_is_cited_as_jupyter_shows_it() -> None:
    def code(source: str, count: int | None) -> dict:
        return {"cell_type": "code", "metadata": {}, "source": source, "outputs": [],
                "execution_count": count}  # fmt: skip

    notebook = {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {},
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": "# 7.2"},
            code("def corr2d(X, K)\n    return X", 12),
            code("\n\ndef pool2d(X, pool_size mode='max'):\n    pass", None),
        ],
    }
    submission = parse_submission(json.dumps(notebook).encode(), "hw2.ipynb")

    with pytest.raises(BrokenDefinition, match=r"^`corr2d` could not be read: In \[12\] has"):
        submission.require("corr2d")
    with pytest.raises(BrokenDefinition) as info:
        submission.require("pool2d")
    assert str(info.value).startswith(
        "`pool2d` could not be read: the cell starting `def pool2d(X, pool_size mode='max'):` "
        "has a syntax error at line 3"
    )

    def test_a_syntax_error_costs_only_what_its_statement_defines(
        self, submission: Submission
    ) -> None:
        assert submission.status("corr2d_multi_in") == "defined"
        assert submission.status("corr2d_multi_in_out") == "broken"
        assert submission.status("vgg_block") == "defined"
        [broken] = [b for b in submission.program.broken if b.cell == 10]
        assert broken.names == ("corr2d_multi_in_out",)
        assert broken.line == 5  # where Python reports the unclosed parenthesis

    def test_definitions_inside_an_if_are_not_top_level(self, submission: Submission) -> None:
        assert submission.status("init_cnn") == "missing"
        with pytest.raises(MissingDefinition, match="define it at the top level of a code cell"):
            submission.require("init_cnn")

    def test_constants_are_kept_and_import_fallbacks_too(self, submission: Submission) -> None:
        constants = [s for s in submission.program.statements if s.kind == "constant"]
        assert [s.names for s in constants] == [("ARCH",), ("lr", "num_classes"), ("LR",)]
        namespace: dict = {}
        execute_program(submission.program.statements, namespace)
        assert namespace["ARCH"][0] == (1, 64)
        assert namespace["LR"] == 0.05
        imports = [s for s in submission.program.statements if s.kind == "import" and s.cell == 12]
        assert imports[0].source.startswith("try:")


def test_missing_item_message_names_the_item() -> None:
    submission = parse_submission(
        b'{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": []}', "a.ipynb"
    )

    assert submission.definitions == {}
    with pytest.raises(MissingDefinition) as info:
        submission.require("pool2d")
    assert str(info.value) == (
        "`pool2d` was not found in your notebook: define it at the top level of a code cell "
        "(not inside another function or an `if`), with the name exactly `pool2d`."
    )


def test_traceback_of_a_failing_statement_points_at_the_cell_and_line() -> None:
    source = "# %%\nimport torch\n\n# %%\nx = 1\n\nclass Broken:\n    value = 1 / 0\n"
    submission = parse_submission(source.encode(), "s.py")

    failures = execute_program(submission.program.statements, {})

    [failure] = failures
    assert (failure.cell, failure.line, failure.names) == (2, 3, ("Broken",))
    assert 'File "<cell 2>", line 4' in failure.error
    assert "value = 1 / 0" in failure.error
    assert failure.error.endswith("ZeroDivisionError: division by zero")


def test_future_imports_carry_to_later_statements() -> None:
    source = (
        "from __future__ import annotations\n\n# %%\ndef f(x: UndefinedType) -> None:\n    pass\n"
    )
    submission = parse_submission(source.encode(), "s.py")
    namespace: dict = {}

    assert execute_program(submission.program.statements, namespace) == []
    assert namespace["f"].__annotations__["x"] == "UndefinedType"


@pytest.mark.parametrize(
    "imports",
    ["from d2l import torch as d2l", "import d2l\nd2l = d2l.torch", "import d2l.torch as d2l"],
)
def test_the_d2l_import_resolves_to_our_module(imports: str) -> None:
    import d2lcompat.torch

    source = f"{imports}\n\nclass LeNet(d2l.Classifier):\n    pass\n"
    submission = parse_submission(source.encode(), "s.py")

    items = run(submission)

    assert issubclass(items["LeNet"], d2lcompat.torch.Classifier)


def test_top_level_values_are_kept_when_a_kept_definition_uses_them() -> None:
    source = (
        "import torch\nfrom torch import nn\n"
        "relu = nn.ReLU()\n"  # used by a method
        "width = compute_width()\n"  # used by `relu2` below, which a default uses
        "relu2 = nn.LeakyReLU(width)\n"
        "net = Residual()\n"  # a demo: nothing uses it
        "pool2d = nn.MaxPool2d(3)\n"  # the homework's own rebinding of an item
        "class Residual(nn.Module):\n"
        "    def forward(self, X, act=relu2):\n"
        "        return relu(X)\n"
        "def helper():\n"
        "    net = 3\n"  # a local of the same name does not keep the demo
        "    return net\n"
        "trainer.fit(net)\n"
    )
    program = parse_submission(source.encode(), "s.py").program

    kept = [(s.kind, s.names) for s in program.statements if s.kind == "value"]
    assert kept == [("value", ("relu",)), ("value", ("width",)), ("value", ("relu2",))]
    assert [(d.line, d.names, d.reason) for d in program.dropped] == [
        (6, ("net",), "computes a value that none of your definitions uses: not run by the grader"),
        (
            7,
            ("pool2d",),
            "rebinds `pool2d`, which must be your definition: not run, your `pool2d` is graded",
        ),
        (14, (), "top-level expression: not run by the grader"),
    ]


def test_a_long_chain_of_values_is_kept_whole() -> None:
    # Each value uses the one after it: a fixpoint that rescans the list would be quadratic.
    n = 20_000
    lines = [f"v{i} = f(v{i + 1})" for i in range(n)] + ["def corr2d(X, K):\n    return v0"]
    program = parse_submission("\n".join(lines).encode(), "s.py").program

    assert sum(s.kind == "value" for s in program.statements) == n
