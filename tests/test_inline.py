"""The self-check from a notebook cell, in a real kernel (nbclient executing a notebook): it grades
the saved notebook the front end names, or the cells the kernel ran when there is no file (Colab),
and shows an HTML table in the cell's output."""

import json
import zipfile
from pathlib import Path

import pytest

from grader import inline
from grader.distributions.kit import build_student_kit

ROOT = Path(__file__).resolve().parent.parent
SOLVED = ROOT / "submissions" / "solved.ipynb"

nbclient = pytest.importorskip("nbclient")
nbformat = pytest.importorskip("nbformat")
pytest.importorskip("ipykernel")


def homework_cells(*, replace: tuple[str, str] = ("", "")) -> list[str]:
    cells = json.loads(SOLVED.read_text())["cells"]
    sources = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
    old, new = replace
    return [s.replace(old, new) if old else s for s in sources]


@pytest.fixture(scope="module")
def kit(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The unpacked student kit: the kernels below import its grader, `hw2check` and `d2l`."""
    folder = tmp_path_factory.mktemp("kit")
    zipfile.ZipFile(build_student_kit(folder / "kit.zip")).extractall(folder)
    return folder / "hw2"


def execute(
    cells: list[str], folder: Path, kit: Path, monkeypatch, *, session_name: str = ""
) -> dict:
    """Run `cells` in a fresh kernel started in `folder`; the executed notebook."""
    if session_name:
        monkeypatch.setenv("JPY_SESSION_NAME", session_name)
    else:
        monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    monkeypatch.setenv("PYTHONPATH", str(kit))
    book = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    client = nbclient.NotebookClient(
        book,
        timeout=600,
        kernel_name="python3",
        allow_errors=True,  # a notebook with a mistake raises in a later cell, as it would for the student
        resources={"metadata": {"path": str(folder)}},
    )
    client.execute()
    return book


def html_of(cell) -> str:
    shown = [o["data"]["text/html"] for o in cell["outputs"] if "text/html" in o.get("data", {})]
    assert shown, cell["outputs"]
    return shown[-1]


def test_a_check_in_a_cell_grades_the_saved_notebook_and_shows_a_table(
    tmp_path: Path, kit: Path, monkeypatch
) -> None:
    saved = tmp_path / "homework.ipynb"
    saved.write_text(SOLVED.read_text().replace(".mean()", ".sum()"))
    cells = [
        "from hw2check import check\ncheck()",
        "report = check('pool2d')\nreport",
    ]

    book = execute(cells, tmp_path, kit, monkeypatch, session_name=str(saved))

    table = html_of(book.cells[0])
    assert "HW2 self-check</strong> of homework.ipynb" in table
    assert "<code>corr2d</code>" in table
    assert "<code>ResNet18</code>" in table
    assert "average computed as a sum" in table  # what failed, with its hint
    assert "expected" in table
    assert "Student code ran in a sandboxed process" in table
    one = html_of(book.cells[1])
    assert "<code>pool2d</code>" in one
    assert "<code>corr2d</code>" not in one
    [result] = [o for o in book.cells[1]["outputs"] if o["output_type"] == "execute_result"]
    # what it returns counts the items it shows, as the table does
    assert (
        result["data"]["text/plain"] == "HW2 self-check of homework.ipynb: 3.5 / 10 (public checks)"
    )


def test_without_a_notebook_file_the_kernels_history_is_graded(
    tmp_path: Path, kit: Path, monkeypatch
) -> None:
    """As in Colab: the front end names no file, so the cells the kernel ran are graded."""
    cells = homework_cells(
        replace=("X.shape[0] - h + 1, X.shape[1] - w + 1", "X.shape[0] - h, X.shape[1] - w")
    )
    cells.append("from hw2check import check\ncheck('corr2d', 'pool2d')")

    book = execute(cells, tmp_path, kit, monkeypatch)

    table = html_of(book.cells[-1])
    assert " cells this kernel ran" in table
    assert "output size off by one" in table
    assert "✓</span> <code>pool2d</code>" in table
    assert "✗</span> <code>corr2d</code>" in table
    assert not list(tmp_path.glob("*.ipynb"))


def test_an_unknown_item_is_named_with_the_items_there_are() -> None:
    with pytest.raises(ValueError, match="no homework item named 'corr2D'; the items are corr2d"):
        inline.check("corr2D")


class FakeShell:
    def __init__(self, cells: list[str], names: dict[str, object]) -> None:
        self.history_manager = type("History", (), {"input_hist_raw": ["", *cells]})()
        self.user_ns = names


def test_the_history_leaves_out_the_cells_that_call_the_check(monkeypatch) -> None:
    shell = FakeShell(["x = 1", "  ", "from hw2check import check\ncheck()", "y = x"], {})
    monkeypatch.setattr(inline, "_shell", lambda: shell)

    cells = inline.history_cells()

    assert cells == ["x = 1", "y = x"]
    assert [c["source"] for c in json.loads(inline.history_notebook(cells))["cells"]] == cells


def test_the_notebook_file_is_the_one_the_front_end_names(tmp_path: Path, monkeypatch) -> None:
    saved = tmp_path / "hw2.ipynb"
    saved.write_text("{}")
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(
        inline, "_shell", lambda: FakeShell([], {"__session__": "course/hw2.ipynb"})
    )

    assert inline.notebook_file() == Path.cwd() / "hw2.ipynb"
    monkeypatch.setattr(inline, "_shell", lambda: FakeShell([], {"__session__": "Untitled"}))
    assert inline.notebook_file() is None
