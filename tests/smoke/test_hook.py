"""The ``premerge-smoke`` pre-commit hook, end to end through real ``pre-commit try-repo``."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import GIT_ENV, try_repo
from tests.smoke.helpers import git_repo


def test_hook_fails_on_a_broken_import_and_passes_when_fixed(tmp_path: Path,
                                                             pre_commit_home: Path,
                                                             hook_repo) -> None:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    repo = git_repo(tmp_path / "project", {
        "app/__init__.py": "",
        "app/settings.py": "CONFIG = {}\nPORT = CONFIG['port']\n",
        "app/main.py": "from app.settings import PORT\n",
    })
    proc = try_repo(repo, pre_commit_home, hook_repo, "premerge-smoke",
                    "--hook-stage", "manual", "--all-files")
    output = proc.stdout + proc.stderr
    assert proc.returncode == 1, output
    assert "app/settings.py:2:1: PM307 app.settings cannot be imported: KeyError: 'port'" \
        in output
    (repo / "app/settings.py").write_text("CONFIG = {'port': 80}\nPORT = CONFIG['port']\n")
    subprocess.run(["git", "commit", "-qam", "fix"], cwd=repo, check=True,
                   env={**os.environ, **GIT_ENV})
    proc = try_repo(repo, pre_commit_home, hook_repo, "premerge-smoke",
                    "--hook-stage", "manual", "--all-files")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Passed" in proc.stdout
