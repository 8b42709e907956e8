"""The student kit and the Gradescope bundle: what they hold, and that each grades on its own."""

import json
import shlex
import stat
import subprocess
import sys
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import yaml

from grader.distributions.gradescope import build_gradescope_bundle
from grader.distributions.kit import build_student_kit
from tests.support.distribution import FROM_THE_DISTRIBUTION

ROOT = Path(__file__).resolve().parents[2]
SOLVED = ROOT / "submissions" / "solved.ipynb"
FEW_CHECKS = "test_corr2d_reproduces_the_book_example or test_pool2d or test_vgg_block_halves_height_and_width"

# Runs the CLI from an unpacked distribution: its own grader first on sys.path, and `reference`
# impossible to import, as on a student's machine or in Gradescope's image.
RUNNER = (
    FROM_THE_DISTRIBUTION
    + """
from grader.cli import main
code = main(sys.argv[2:])
assert not any(m == "reference" or m.startswith("reference.") for m in sys.modules)
sys.exit(code)
"""
)


def run_from(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", RUNNER, str(folder), *args],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_the_kit_holds_the_public_grader_and_no_solutions(tmp_path: Path) -> None:
    kit = build_student_kit(tmp_path / "kit.zip")

    names = zipfile.ZipFile(kit).namelist()

    assert "hw2/homework.ipynb" in names
    assert "hw2/grader/checks/test_pooling.py" in names
    assert "hw2/d2lcompat/torch.py" in names
    assert "hw2/grader/checking/standins.py" in names
    assert {"hw2/hw2check/__init__.py", "hw2/d2l/__init__.py", "hw2/pyproject.toml"} <= set(names)
    assert not [
        n
        for n in names
        if "reference" in n.split("/") or "/hidden/" in n or n.endswith("substitutes.py")
    ]
    assert not [n for n in names if "__pycache__" in n]
    rubric = zipfile.ZipFile(kit).read("hw2/grader/rubric.toml").decode()
    assert "hidden" not in rubric.replace("hidden ones", "")
    assert "test_corr2d_on_a_larger_non_square_image" not in rubric
    workflow = yaml.safe_load(zipfile.ZipFile(kit).read("hw2/.github/workflows/hw2-selfcheck.yml"))
    steps = workflow["jobs"]["self-check"]["steps"]
    assert any("python -m grader check homework.ipynb" in step.get("run", "") for step in steps)


def test_the_kit_self_checks_a_notebook_without_the_repository(tmp_path: Path) -> None:
    zipfile.ZipFile(build_student_kit(tmp_path / "kit.zip")).extractall(tmp_path)
    kit = tmp_path / "hw2"
    (kit / "mine.ipynb").write_bytes(SOLVED.read_bytes())
    summary = tmp_path / "summary.md"

    result = run_from(kit, "check", "mine.ipynb", "-k", FEW_CHECKS, "--summary", str(summary))

    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "ok   pool2d" in result.stdout
    assert "**Total: " in summary.read_text()
    template = run_from(kit, "check", "homework.ipynb", "-k", FEW_CHECKS)
    assert template.returncode == 1
    assert "todo corr2d" in template.stdout


def test_a_classroom_template_grades_each_push_with_its_own_workflow_step(tmp_path: Path) -> None:
    """The GitHub Classroom template's grading step, run as the workflow writes it, in the unpacked
    template with the student's solved notebook committed: a job summary and a JUnit report."""
    archive = zipfile.ZipFile(build_student_kit(tmp_path / "classroom.zip", classroom=True))
    assert "hw2/.github/workflows/hw2-selfcheck.yml" not in archive.namelist()
    archive.extractall(tmp_path)
    kit = tmp_path / "hw2"
    workflow = yaml.safe_load((kit / ".github" / "workflows" / "hw2-grade.yml").read_text())
    [step] = [
        s for s in workflow["jobs"]["grade"]["steps"] if s.get("name") == "Grade homework.ipynb"
    ]
    summary = tmp_path / "summary.md"
    command = shlex.split(step["run"].replace("$GITHUB_STEP_SUMMARY", str(summary)))
    assert command[:4] == ["python", "-m", "grader", "check"]
    (kit / "homework.ipynb").write_bytes(SOLVED.read_bytes())

    result = run_from(kit, *command[3:], "-k", FEW_CHECKS)

    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "**Total: " in summary.read_text()
    junit = ElementTree.parse(kit / "hw2-junit.xml").getroot()
    [suite] = junit
    assert suite.get("name") == "homework.ipynb"
    assert int(suite.get("tests", "0")) > 0
    assert suite.get("failures") == "0"
    assert {case.get("classname") for case in suite} == {"corr2d", "pool2d", "vgg_block"}


def test_a_failing_check_is_a_junit_failure_with_its_message(tmp_path: Path) -> None:
    zipfile.ZipFile(build_student_kit(tmp_path / "kit.zip")).extractall(tmp_path)
    kit = tmp_path / "hw2"

    result = run_from(kit, "check", "homework.ipynb", "-k", FEW_CHECKS, "--junit", "out/j.xml")

    assert result.returncode == 1
    [suite] = ElementTree.parse(kit / "out" / "j.xml").getroot()
    failures = [case.find("failure") for case in suite]
    assert suite.get("failures") == str(len(failures))
    assert all(f is not None for f in failures)
    assert "NotImplementedError" in (failures[0].text or "")


def test_the_gradescope_bundle_grades_a_submission(tmp_path: Path) -> None:
    bundle = build_gradescope_bundle(tmp_path / "autograder.zip")
    archive = zipfile.ZipFile(bundle)
    names = archive.namelist()
    assert {
        "setup.sh",
        "run_autograder",
        "requirements.txt",
        "grader/checks/hidden/test_hidden.py",
    } <= set(names)
    assert archive.getinfo("run_autograder").external_attr >> 16 & stat.S_IXUSR
    run_autograder = archive.read("run_autograder").decode()
    assert 'AUTOGRADER="${AUTOGRADER:-/autograder}"' in run_autograder
    # The image keeps the examples drawn at setup, where each submission's run reads them.
    assert 'HW2_GRADER_CACHE="$AUTOGRADER/plans"' in run_autograder
    assert (
        'HW2_GRADER_CACHE="$AUTOGRADER/plans" "$AUTOGRADER/venv/bin/python" -m grader plans'
        in archive.read("setup.sh").decode()
    )
    source = tmp_path / "source"
    archive.extractall(source)
    plans = run_from(source, "plans")
    assert plans.returncode == 0, plans.stdout[-3000:] + plans.stderr[-3000:]
    assert "9 property checks planned" in plans.stdout
    submission = tmp_path / "submission"
    submission.mkdir()
    (submission / "hw2.ipynb").write_bytes(SOLVED.read_bytes())
    results = tmp_path / "results" / "results.json"

    result = run_from(
        source, "gradescope-run", str(submission), "--results", str(results), "-k", FEW_CHECKS
    )

    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    data = json.loads(results.read_text())
    assert data["score"] == data["max_score"] > 0
    assert {t["tags"][0] for t in data["tests"]} == {"corr2d", "pool2d", "vgg_block"}


def test_the_kits_rubric_leaves_out_the_late_policy_and_the_hidden_checks(
    tmp_path: Path, monkeypatch
) -> None:
    from grader import tomlreader
    from grader.distributions import archive

    (tmp_path / "rubric.toml").write_text(
        (archive.GRADER / "rubric.toml").read_text()
        + "\n[late]\ndue = 2026-12-10T23:59:00-05:00\nper_day = 10\n"
    )
    monkeypatch.setattr(archive, "GRADER", tmp_path)

    public = tomlreader.loads(archive.public_rubric())

    assert "late" not in public
    assert "test_corr2d_reproduces_the_book_example" in public["corr2d"]
    assert "test_corr2d_on_a_larger_non_square_image" not in public["corr2d"]
