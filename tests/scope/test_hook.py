"""The ``premerge-scope`` pre-commit hook, end to end through real ``pre-commit try-repo``
(which builds the hook from this checkout's working tree) on staged files, as a commit runs it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import git, try_repo

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


def test_hook_fails_on_the_bug_and_passes_when_fixed(tmp_path: Path,
                                                     pre_commit_home: Path, hook_repo) -> None:
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
    proc = try_repo(repo, pre_commit_home, hook_repo, "premerge-scope")
    output = proc.stdout + proc.stderr
    assert proc.returncode == 1, output
    assert ("orch/session.py:7:16: PM101 'Briefing' is not defined here: it is imported only "
            "inside Orchestrator.run()") in output
    assert "orch/session.py:3:9: imported here, in Orchestrator.run()" in output

    (repo / "orch" / "session.py").write_text(FIXED)
    git(repo, "add", "orch/session.py")
    proc = try_repo(repo, pre_commit_home, hook_repo, "premerge-scope")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Passed" in proc.stdout
