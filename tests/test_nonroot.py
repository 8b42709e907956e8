"""The isolation tests again as a user without root (through `setpriv`, as `nobody`): bubblewrap
then maps a single uid, which every child of a template shares, so what one child leaves behind
must not reach the next by another way than as root (`nobody` children cannot write /tmp there)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from grader.sandbox import isolation

ROOT = Path(__file__).resolve().parent.parent
NOBODY = 65534
RERUN = "HW2_GRADER_TEST_AS_NOBODY"


@pytest.mark.slow
def test_the_isolation_tests_pass_as_a_user_without_root(tmp_path: Path) -> None:
    if os.environ.get(RERUN):
        pytest.skip("this is the run as nobody")
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root and setpriv to become nobody")
    if not isolation._can_drop_on_host():
        pytest.skip(f"nobody cannot reach {sys.base_prefix} or {ROOT} (a private home folder)")
    tmp_path.chmod(0o777)
    env = {
        **os.environ,
        RERUN: "1",
        "HOME": str(tmp_path),
        "TMPDIR": str(tmp_path),
        "HW2_GRADER_CACHE": str(tmp_path / "plans"),
    }
    done = subprocess.run(
        ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
         sys.executable, "-m", "pytest", "-q", "-p", "no:randomly",
         "tests/test_hostile.py", "tests/child/test_template.py", "tests/sandbox/test_isolation.py"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800,
    )  # fmt: skip

    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-2000:]
    assert " passed" in done.stdout
