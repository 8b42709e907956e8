"""Gradescope's own scripts, end to end, in a temporary root (`AUTOGRADER`): `setup.sh` builds the
image as Gradescope would (apt-get stubbed, this checkout's packages standing in for the downloads),
and `run_autograder` grades each kind of upload a student makes into a results.json."""

import json
import os
import shutil
import site
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from grader.distributions.gradescope import build_gradescope_bundle
from grader.rubric import load_rubric

ROOT = Path(__file__).resolve().parents[2]
SOLVED = ROOT / "submissions" / "solved.ipynb"
FEW_CHECKS = "test_corr2d_reproduces_the_book_example or test_pool2d"
GRADED_ITEMS = {"corr2d", "pool2d"}


def base_python() -> Path:
    """The interpreter this environment was made from: a new virtual environment starts from it."""
    return (
        Path(sys.base_prefix) / "bin" / f"python{sys.version_info.major}.{sys.version_info.minor}"
    )


def fake_bin(folder: Path) -> Path:
    """A PATH folder with `apt-get` that logs what it was asked, and `python3` the base interpreter."""
    folder.mkdir()
    apt = folder / "apt-get"
    apt.write_text(f'#!/bin/sh\necho "$@" >> "{folder / "apt.log"}"\n')
    apt.chmod(0o755)
    (folder / "python3").symlink_to(base_python())
    return folder


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An autograder root built by the bundle's setup.sh. The virtual environment is made first,
    with this checkout's site directory on its path, so that setup.sh finds torch and every
    requirement installed and downloads nothing; it still runs its own version check, pip and
    plan drawing."""
    root = tmp_path_factory.mktemp("image") / "autograder"
    bundle = build_gradescope_bundle(root.parent / "autograder.zip")
    zipfile.ZipFile(bundle).extractall(root / "source")
    subprocess.run(
        [str(base_python()), "-m", "venv", "--without-pip", str(root / "venv")], check=True
    )
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    # A plain path line (not `import site`): this checkout's editable grader must not shadow the
    # bundle's copy.
    (root / "venv" / "lib" / version / "site-packages" / "checkout.pth").write_text(
        site.getsitepackages()[0] + "\n"
    )
    stubs = fake_bin(root.parent / "bin")
    setup = root / "source" / "setup.sh"
    for script in (setup, root / "source" / "run_autograder"):
        script.chmod(0o755)  # as the bundle's zip says; extractall drops the mode

    built = subprocess.run(
        [str(setup)],
        env={**os.environ, "AUTOGRADER": str(root), "PATH": f"{stubs}:{os.environ['PATH']}"},
        capture_output=True,
        text=True,
        timeout=900,
    )

    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    assert (
        "install -y python3 python3-pip python3-venv bubblewrap" in (stubs / "apt.log").read_text()
    )
    assert any((root / "plans").iterdir())
    return root


def run_autograder(image: Path, tmp_path: Path, upload: Callable[[Path], None]) -> dict:
    """Gradescope's run for one upload, in a root of its own that shares the image's files."""
    root = tmp_path / "autograder"
    root.mkdir()
    for shared in ("source", "venv", "plans"):
        (root / shared).symlink_to(image / shared)
    (root / "submission").mkdir()
    (root / "results").mkdir()
    upload(root / "submission")

    result = subprocess.run(
        [str(root / "source" / "run_autograder")],
        env={**os.environ, "AUTOGRADER": str(root), "HW2_GRADER_SELECT": FEW_CHECKS},
        capture_output=True,
        text=True,
        timeout=600,
    )

    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    data: dict = json.loads((root / "results" / "results.json").read_text())
    return data


def assert_full_marks(data: dict) -> None:
    assert data["score"] == data["max_score"] > 0
    assert {test["tags"][0] for test in data["tests"]} == GRADED_ITEMS


def notebook_with(code: str) -> str:
    return json.dumps(
        {
            "cells": [
                {
                    "cell_type": "code",
                    "metadata": {},
                    "source": code,
                    "outputs": [],
                    "execution_count": None,
                }
            ],
            "metadata": {},
            "nbformat": 4,
            "nbformat_minor": 5,
        }
    )


def test_one_notebook(image: Path, tmp_path: Path) -> None:
    data = run_autograder(image, tmp_path, lambda s: shutil.copy(SOLVED, s / "homework.ipynb"))

    assert_full_marks(data)
    assert data["output"].startswith("Graded homework.ipynb.\n")


def test_a_checkpoint_copy_is_ignored(image: Path, tmp_path: Path) -> None:
    def upload(folder: Path) -> None:
        shutil.copy(SOLVED, folder / "hw2.ipynb")
        (folder / ".ipynb_checkpoints").mkdir()
        (folder / ".ipynb_checkpoints" / "hw2-checkpoint.ipynb").write_text(notebook_with("x = 1"))

    data = run_autograder(image, tmp_path, upload)

    assert_full_marks(data)
    assert data["output"].startswith("Graded hw2.ipynb.\n")


def test_of_two_notebooks_the_one_with_the_homework_is_graded(image: Path, tmp_path: Path) -> None:
    def upload(folder: Path) -> None:
        shutil.copy(SOLVED, folder / "hw2_final.ipynb")
        (folder / "Untitled.ipynb").write_text(
            notebook_with("import torch\n\ndef corr2d(X, K):\n    return X")
        )

    data = run_autograder(image, tmp_path, upload)

    assert_full_marks(data)
    assert data["output"].startswith(
        "Graded hw2_final.ipynb (of 2 files uploaded: Untitled.ipynb, hw2_final.ipynb; "
        "it defines the most homework items).\n"
    )


def test_an_empty_upload_scores_zero_with_a_message(image: Path, tmp_path: Path) -> None:
    data = run_autograder(image, tmp_path, lambda folder: None)

    assert data["score"] == 0
    assert data["max_score"] == load_rubric().total()
    assert (
        data["output"] == "Nothing was graded: your upload is empty. Upload your homework notebook."
    )


def test_a_python_file_is_graded_as_the_homework(image: Path, tmp_path: Path) -> None:
    cells = json.loads(SOLVED.read_text())["cells"]
    script = "\n\n# %%\n".join(
        "".join(cell["source"]) for cell in cells if cell["cell_type"] == "code"
    )

    data = run_autograder(image, tmp_path, lambda s: (s / "hw2.py").write_text(script))

    assert_full_marks(data)
    assert data["output"].startswith("Graded hw2.py.\n")


def test_a_zip_is_opened_and_macos_clutter_ignored(image: Path, tmp_path: Path) -> None:
    def upload(folder: Path) -> None:
        with zipfile.ZipFile(folder / "hw2.zip", "w") as archive:
            archive.write(SOLVED, "hw2/homework.ipynb")
            archive.writestr("__MACOSX/hw2/._homework.ipynb", b"\x00\x05\x16\x07 resource fork")

    data = run_autograder(image, tmp_path, upload)

    assert_full_marks(data)
    assert data["output"].startswith("Graded hw2.zip:hw2/homework.ipynb.\n")


def test_a_notebook_that_writes_its_own_results_gets_its_real_grade(
    image: Path, tmp_path: Path
) -> None:
    results = tmp_path / "autograder" / "results"
    forgery = (
        "    import json\n"
        "    for name in ('results.json', 'planted.txt'):\n"
        "        try:\n"
        f"            with open({str(results)!r} + '/' + name, 'w') as f:\n"
        "                json.dump({'score': 1000, 'max_score': 100, 'tests': []}, f)\n"
        "        except OSError:\n"
        "            pass\n"
    )
    book = json.loads(SOLVED.read_text())
    for cell in book["cells"]:
        source = "".join(cell["source"])
        if "def pool2d(" in source:
            cell["source"] = source.replace(
                "    p_h, p_w = pool_size\n", forgery + "    p_h, p_w = pool_size\n"
            )

    data = run_autograder(image, tmp_path, lambda s: (s / "hw2.ipynb").write_text(json.dumps(book)))

    assert_full_marks(data)
    assert data["score"] < 1000
    assert not (results / "planted.txt").exists()


def test_setup_refuses_a_python_older_than_3_10_with_a_message(tmp_path: Path) -> None:
    zipfile.ZipFile(build_gradescope_bundle(tmp_path / "autograder.zip")).extractall(
        tmp_path / "autograder" / "source"
    )
    stubs = fake_bin(tmp_path / "bin")
    (stubs / "python3").unlink()
    (stubs / "python3").write_text('#!/bin/sh\n[ "$1" = -V ] && echo "Python 3.8.10"\nexit 1\n')
    (stubs / "python3").chmod(0o755)
    setup = tmp_path / "autograder" / "source" / "setup.sh"
    setup.chmod(0o755)

    result = subprocess.run(
        [str(setup)],
        env={
            **os.environ,
            "AUTOGRADER": str(tmp_path / "autograder"),
            "PATH": f"{stubs}:{os.environ['PATH']}",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 1
    assert (
        "the grader needs Python 3.10 or newer; this image's python3 is Python 3.8.10"
        in result.stderr
    )
    assert not (tmp_path / "autograder" / "venv").exists()
