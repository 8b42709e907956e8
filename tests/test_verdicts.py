"""Every verdict, message and point on every notebook the project ships, pinned by a golden file.

The sample class, the solved and template notebooks, the style and format fixtures, the hostile
fixtures and every seeded mistake are graded with all checks (public and hidden) in one session, and
each check's outcome, points and student message are compared with `tests/golden/verdicts.json`.
A change to the grader's structure must leave this file as it is; a change meant to alter a grade or
a message rewrites it with `--update-goldens` and says so in the CHANGELOG.

Timings are left out, and the checkout's own path reads `<repo>` (a hostile fixture's message
names the file it failed to open, and CI clones the project elsewhere). The fixtures whose outcome depends on the isolation in force (a file the
sandbox hides is readable without one) are compared only under bubblewrap, where the golden was made.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from grader.grading import GradingSession
from grader.reports.results import results_json
from tests.support.mutations import MUTATIONS, mutated_notebook

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "notebooks"
DEPENDS_ON_ISOLATION = {"hostile/reads_grader_files"}

pytestmark = pytest.mark.slow


def notebooks(tmp_path: Path) -> dict[str, Path]:
    """Every notebook to grade, by a name that does not depend on where it lies."""
    found = {f"submissions/{p.name}": p for p in sorted((ROOT / "submissions").glob("*.ipynb"))}
    found |= {
        f"students/{p.stem}": p for p in sorted((ROOT / "submissions/students").glob("*.ipynb"))
    }
    found |= {
        str(p.relative_to(FIXTURES).with_suffix("")): p for p in sorted(FIXTURES.rglob("*.ipynb"))
    }
    for name in sorted(MUTATIONS):
        path = tmp_path / f"{name}.ipynb"
        path.write_text(mutated_notebook(MUTATIONS[name]), encoding="utf-8")
        found[f"mutations/{name}"] = path
    return found


def verdicts(results: str) -> dict[str, Any]:
    """What a student and the gradebook see of one results.json, without timings."""
    data = json.loads(results)
    return {
        "score": data["score"],
        "max_score": data["max_score"],
        "checks": [
            [
                t["number"],
                t["name"],
                t["extra_data"]["outcome"],
                t["score"],
                t["max_score"],
                t["output"].replace(str(ROOT), "<repo>"),
            ]
            for t in data["tests"]
        ],
    }


def test_every_notebook_keeps_its_verdicts(sandbox, tmp_path: Path, request) -> None:
    bubblewrap = sandbox.isolation.mode == "bubblewrap"
    got: dict[str, Any] = {}
    with GradingSession(sandbox) as session:
        for name, path in notebooks(tmp_path).items():
            if name in DEPENDS_ON_ISOLATION and not bubblewrap:
                continue
            got[name] = verdicts(results_json(session.grade(path)))
    golden = ROOT / "tests" / "golden" / "verdicts.json"
    if request.config.getoption("update_goldens"):
        assert bubblewrap, "write the verdicts' golden file under bubblewrap"
        golden.write_text(json.dumps(got, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    expected = json.loads(golden.read_text(encoding="utf-8"))
    if not bubblewrap:
        expected = {k: v for k, v in expected.items() if k not in DEPENDS_ON_ISOLATION}
    assert sorted(got) == sorted(expected)
    changed = {name: (expected[name], got[name]) for name in got if got[name] != expected[name]}
    assert not changed, json.dumps(changed, indent=1)[:6000]
