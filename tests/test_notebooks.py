"""The notebooks in submissions/: valid nbformat 4, up to date with `reference`, and the solution runs."""

import ast
import contextlib
import io
import sys
from pathlib import Path

import nbformat
import pytest
import torch

import d2lcompat
import reference
from reference import notebooks

SUBMISSIONS = Path(__file__).resolve().parent.parent / "submissions"


@pytest.mark.parametrize("name", ["homework.ipynb", "solved.ipynb"])
def test_committed_notebooks_are_what_the_builder_writes(tmp_path: Path, name: str) -> None:
    """Rebuild with `python -m reference.notebooks submissions` when this fails."""
    notebooks.write(tmp_path)

    assert (SUBMISSIONS / name).read_bytes() == (tmp_path / name).read_bytes()


@pytest.mark.parametrize("name", ["homework.ipynb", "solved.ipynb"])
def test_notebooks_are_valid_nbformat_4(name: str) -> None:
    notebook = nbformat.read(SUBMISSIONS / name, as_version=nbformat.NO_CONVERT)

    nbformat.validate(notebook)
    assert notebook.nbformat == 4


def top_level_names(notebook) -> set[str]:
    names = set()
    for cell in notebook.cells:
        if cell.cell_type == "code":
            for node in ast.parse(cell.source).body:
                if isinstance(node, ast.FunctionDef | ast.ClassDef):
                    names.add(node.name)
    return names


def test_both_notebooks_define_every_homework_item() -> None:
    for name in ("homework.ipynb", "solved.ipynb"):
        notebook = nbformat.read(SUBMISSIONS / name, as_version=4)
        assert set(reference.ITEMS) <= top_level_names(notebook), name


def test_template_leaves_every_item_to_the_student() -> None:
    notebook = nbformat.read(SUBMISSIONS / "homework.ipynb", as_version=4)
    sources = "\n".join(c.source for c in notebook.cells if c.cell_type == "code")

    assert sources.count("raise NotImplementedError") >= len(reference.ITEMS)
    assert "nn.LazyConv2d(6, kernel_size=5, padding=2)" not in sources


@pytest.mark.slow
def test_solved_notebook_runs_and_prints_the_homeworks_outputs(monkeypatch) -> None:
    """Every code cell but the Fashion-MNIST training ones, in order, as Jupyter would run them."""
    monkeypatch.setitem(sys.modules, "d2l", d2lcompat)
    monkeypatch.setitem(sys.modules, "d2l.torch", d2lcompat.torch)
    monkeypatch.setattr(
        d2lcompat.torch.Classifier, "layer_summary", d2lcompat.torch.Classifier.layer_summary
    )
    notebook = nbformat.read(SUBMISSIONS / "solved.ipynb", as_version=4)
    namespace: dict = {}
    torch.manual_seed(0)
    out = io.StringIO()

    with contextlib.redirect_stdout(out):
        for cell in notebook.cells:
            if cell.cell_type == "code" and "trainer.fit" not in cell.source:
                exec(compile(cell.source, f"<{cell.id}>", "exec"), namespace)

    assert "Sequential output shape:\t torch.Size([1, 512, 3, 3])" in out.getvalue()
    assert "epoch 10, loss" in out.getvalue()
    assert (
        repr(namespace["corr2d"](torch.eye(2), torch.ones(1, 1)))
        == "tensor([[1., 0.],\n        [0., 1.]])"
    )
    assert namespace["blk"](namespace["X"]).shape == (4, 6, 3, 3)


SAMPLES = {
    "bob_kernel_flipped": "corr2d_kernel_flipped",
    "carol_average_as_sum": "pool2d_average_as_sum",
    "dave_missing_dropout": "vgg_missing_dropout",
}


def test_the_sample_students_are_the_solution_with_one_known_mistake_each() -> None:
    """submissions/students/ is what the quick start grades: keep it in step with the mutations."""
    import json

    from tests.support.mutations import MUTATIONS, mutated_notebook

    students = SUBMISSIONS / "students"
    assert (students / "alice_solved.ipynb").read_text() == (
        SUBMISSIONS / "solved.ipynb"
    ).read_text()
    for name, mutation in SAMPLES.items():
        expected = json.loads(mutated_notebook(MUTATIONS[mutation]))
        assert json.loads((students / f"{name}.ipynb").read_text()) == expected, name
