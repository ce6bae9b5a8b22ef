"""The ``premerge-scope`` pre-commit hook, end to end through real ``pre-commit try-repo``
(which builds the hook from this checkout's working tree) on staged files, as a commit runs it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import GIT_ENV, ROOT, git

BUGGY = """\
class Orchestrator:
    def run(self):
        from collections import OrderedDict as Briefing
        return Briefing()

    def start(self):
        return Briefing()
"""
FIXED = """\
from collections import OrderedDict as Briefing


class Orchestrator:
    def run(self):
        return Briefing()

    def start(self):
        return Briefing()
"""


def _try_repo(repo: Path, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **GIT_ENV, "PRE_COMMIT_HOME": str(home)}
    env.pop("VIRTUAL_ENV", None)
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), "premerge-scope"],
        cwd=repo, capture_output=True, text=True, timeout=600, env=env,
        stdin=subprocess.DEVNULL)


def test_hook_fails_on_the_bug_and_passes_when_fixed(tmp_path: Path,
                                                     pre_commit_home: Path) -> None:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    repo = tmp_path / "project"
    (repo / "orch").mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    (repo / "README.md").write_text("project\n")
    git(repo, "add", "README.md")
    git(repo, "commit", "-qm", "initial")

    (repo / "orch" / "session.py").write_text(BUGGY)
    git(repo, "add", "orch/session.py")
    proc = _try_repo(repo, pre_commit_home)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 1, output
    assert ("orch/session.py:7:16: PM101 'Briefing' is not defined here: it is imported only "
            "inside Orchestrator.run()") in output
    assert "orch/session.py:3:9: imported here, in Orchestrator.run()" in output

    (repo / "orch" / "session.py").write_text(FIXED)
    git(repo, "add", "orch/session.py")
    proc = _try_repo(repo, pre_commit_home)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Passed" in proc.stdout
