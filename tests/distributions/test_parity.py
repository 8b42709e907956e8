"""The self-check and the staff grade agree: every public check gets the same verdict and points
from the unpacked student kit as from the staff's grader, on the sample class, the style fixtures
and every known mistake, and under the portable isolation level (`spawn`, forced here on Linux) as
under bubblewrap. A student who sees a check fail in the kit sees the grade's reason."""

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

from grader.distributions.kit import build_student_kit
from tests.support.distribution import FROM_THE_DISTRIBUTION
from tests.support.mutations import MUTATIONS, mutated_notebook

ROOT = Path(__file__).resolve().parents[2]

# Grades every notebook named on the command line with the public checks, in one session of the
# grader found first on sys.path (argv[1]), and prints {notebook: {check: [outcome, points]}}.
# `reference` cannot be imported, as in the kit on a student's laptop.
GRADE_ALL = (
    FROM_THE_DISTRIBUTION
    + """
import json
from pathlib import Path
from grader.grading import GradingSession
from grader.sandbox.launcher import Sandbox

verdicts = {}
with Sandbox() as sandbox, GradingSession(sandbox, visibility="public") as session:
    for name in sys.argv[2:]:
        book = session.grade(Path(name))
        verdicts[Path(name).name] = {
            r.check_id: [r.outcome, r.points, r.max_points] for r in book.results
        }
print("VERDICTS " + json.dumps(verdicts))
"""
)


def grade_all(
    grader_root: Path, notebooks: list[Path], *, isolation: str = "auto"
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", GRADE_ALL, str(grader_root), *map(str, notebooks)],
        cwd=grader_root,
        env={**os.environ, "HW2_GRADER_ISOLATION": isolation},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def verdicts(process: subprocess.Popen[str]) -> dict[str, dict[str, list]]:
    out, err = process.communicate(timeout=1800)
    assert process.returncode == 0, out[-3000:] + err[-3000:]
    [line] = [line for line in out.splitlines() if line.startswith("VERDICTS ")]
    result: dict[str, dict[str, list]] = json.loads(line.removeprefix("VERDICTS "))
    return result


def test_the_kit_and_the_staff_grade_agree_on_every_public_check(tmp_path: Path) -> None:
    notebooks = sorted((ROOT / "submissions" / "students").glob("*.ipynb"))
    notebooks += sorted((ROOT / "tests" / "fixtures" / "notebooks").glob("*.ipynb"))
    for name, mutation in sorted(MUTATIONS.items()):
        notebooks.append(tmp_path / f"mutation_{name}.ipynb")
        notebooks[-1].write_text(mutated_notebook(mutation), encoding="utf-8")
    zipfile.ZipFile(build_student_kit(tmp_path / "kit.zip")).extractall(tmp_path)

    kit, staff = grade_all(tmp_path / "hw2", notebooks), grade_all(ROOT, notebooks)
    in_kit, by_staff = verdicts(kit), verdicts(staff)

    assert set(in_kit) == {path.name for path in notebooks}
    disagreements = {
        notebook: {
            check: (in_kit[notebook].get(check), by_staff[notebook].get(check))
            for check in set(in_kit[notebook]) | set(by_staff[notebook])
            if in_kit[notebook].get(check) != by_staff[notebook].get(check)
        }
        for notebook in in_kit
    }
    assert not {name: d for name, d in disagreements.items() if d}
    # and the comparison has teeth: the mistakes fail checks in both
    assert any(v[0] == "failed" for v in in_kit["mutation_corr2d_kernel_flipped.ipynb"].values())


def test_the_portable_isolation_level_gives_the_same_verdicts(tmp_path: Path) -> None:
    """`spawn` (Windows, macOS): a fresh Python process per child rather than a fork."""
    notebooks = sorted((ROOT / "submissions" / "students").glob("*.ipynb"))
    notebooks.append(tmp_path / "mutation_residual.ipynb")
    notebooks[-1].write_text(
        mutated_notebook(MUTATIONS["residual_projection_without_stride"]), encoding="utf-8"
    )

    spawned, forked = grade_all(ROOT, notebooks, isolation="spawn"), grade_all(ROOT, notebooks)
    portable, sandboxed = verdicts(spawned), verdicts(forked)

    assert portable == sandboxed
    assert any(v[0] == "failed" for v in portable["bob_kernel_flipped.ipynb"].values())
