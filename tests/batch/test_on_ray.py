"""Grading on a Ray cluster gives the same results as grading locally (a local cluster the test starts)."""

import json
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ray = pytest.importorskip("ray", reason="the ray extra is not installed")

from grader.batch.on_ray import grade_on_ray  # noqa: E402
from grader.grading import grade  # noqa: E402
from tests.support.mutations import MUTATIONS, mutated_notebook  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
SELECT = "pool2d or corr2d_reproduces or test_lenet_loss_falls or test_lenet_has_61706"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def cluster():
    """A one-node Ray cluster on loopback, started for these tests and stopped after them."""
    ray_cli = str(Path(sys.executable).with_name("ray"))
    port = free_port()
    start = [ray_cli, "start", "--head", f"--port={port}", "--node-ip-address=127.0.0.1", "--num-cpus=2",
             "--include-dashboard=false", "--disable-usage-stats"]  # fmt: skip
    with pytest.MonkeyPatch.context() as patch:
        # A cluster on loopback for these tests only: no token authentication between its processes.
        patch.setenv("RAY_AUTH_MODE", "disabled")
        subprocess.run(start, check=True, capture_output=True, timeout=180)
        try:
            yield f"127.0.0.1:{port}"
        finally:
            if ray.is_initialized():
                ray.shutdown()
            subprocess.run([ray_cli, "stop", "--force"], capture_output=True, timeout=120)


@pytest.fixture(scope="module")
def notebooks(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("class")
    shutil.copy(ROOT / "submissions" / "solved.ipynb", folder / "alice.ipynb")
    (folder / "carol.ipynb").write_text(mutated_notebook(MUTATIONS["pool2d_average_as_sum"]))
    shutil.copy(
        ROOT / "tests" / "fixtures" / "notebooks" / "hostile" / "exits.ipynb",
        folder / "mallory.ipynb",
    )
    return folder


def verdicts(results_json: dict) -> dict[str, tuple[float, str]]:
    return {t["number"]: (t["score"], t["output"]) for t in results_json["tests"]}


def test_the_ray_executor_grades_like_the_local_one(
    cluster, notebooks: Path, tmp_path: Path
) -> None:
    common = ["-m", "grader", "grade", str(notebooks), "-k", SELECT]
    local = subprocess.run(
        [sys.executable, *common, "--out", str(tmp_path / "local")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    remote = subprocess.run(
        [
            sys.executable,
            *common,
            "--out",
            str(tmp_path / "ray"),
            "--executor",
            "ray",
            "--address",
            cluster,
            "--jobs",
            "2",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )

    assert local.returncode == 0, local.stderr[-2000:]
    assert remote.returncode == 0, remote.stderr[-2000:]
    for student in ("alice", "carol", "mallory"):
        by_local = json.loads((tmp_path / "local" / student / "results.json").read_text())
        by_ray = json.loads((tmp_path / "ray" / student / "results.json").read_text())
        assert verdicts(by_ray) == verdicts(by_local), student
        assert by_ray["output"].startswith("Isolation: ")
    assert (tmp_path / "ray" / "gradebook.csv").read_text() == (
        tmp_path / "local" / "gradebook.csv"
    ).read_text()

    again = subprocess.run(
        [
            sys.executable,
            *common,
            "--out",
            str(tmp_path / "ray"),
            "--executor",
            "ray",
            "--address",
            cluster,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )

    assert "3 submissions: 3 already graded, 0 to grade" in again.stdout


def test_smoke_runs_split_off_to_their_own_actor_merge_back(
    cluster, notebooks: Path, sandbox
) -> None:
    """The GPU plan (smoke runs on a separate actor), run with 0 GPUs: the halves merge into the whole."""
    path = notebooks / "alice.ipynb"
    local = grade(path, sandbox=sandbox, extra_args=("-k", SELECT))

    [(index, book)] = list(
        grade_on_ray(
            [(path.name, path.read_bytes())],
            address=cluster,
            workers=1,
            select=("-k", SELECT),
            split_smoke_runs=True,
            gpus_per_smoke_run=0,
        )
    )

    assert index == 0
    assert {r.check_id: r.outcome for r in book.results} == {
        r.check_id: r.outcome for r in local.results
    }
    assert any(r.data.get("losses") for r in book.results)
