"""The `premerge-files` hook, end to end through a real `pre-commit try-repo`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import GIT_ENV, ROOT, git


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The checkout's working tree (tracked and new files) committed into one scratch clone.

    `pre-commit try-repo ROOT` on a dirty checkout commits a fresh shadow repository on
    every call, so each call would build a new hook environment; one commit shared by the
    module's calls builds it once and still tests the working tree, not just HEAD.
    """
    shadow = tmp_path_factory.mktemp("hook-repo")
    git(shadow, "init", "-q", "-b", "main")
    listed = git(ROOT, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    for rel in filter(None, listed.split("\0")):
        source = ROOT / rel
        if source.is_file():
            target = shadow / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    git(shadow, "add", "-A")
    git(shadow, "commit", "-q", "-m", "premerge working tree")
    return shadow, git(shadow, "rev-parse", "HEAD").strip()


def try_repo(repo: Path, home: Path, hook: tuple[Path, str]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **GIT_ENV, "PRE_COMMIT_HOME": str(home)}
    env.pop("PREMERGE_DEBUG", None)
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(hook[0]), "premerge-files",
         "--ref", hook[1], "--all-files"], cwd=repo, capture_output=True, text=True, env=env,
        timeout=600, stdin=subprocess.DEVNULL)


def test_try_repo_runs_the_hook(make_repo, pre_commit_home, hook_repo) -> None:
    repo = make_repo({"premerge.yaml": "required_files:\n  - CLAUDE.md\n",
                      "orch.py": "from pathlib import Path\n"
                                 "BRIEF = Path(__file__).parent / 'CLAUDE.md'\n"})
    proc = try_repo(repo.path, pre_commit_home, hook_repo)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "premerge files (required files manifest)" in proc.stdout and "Failed" in proc.stdout
    assert "premerge.yaml:2:5: PM201 required file 'CLAUDE.md' is missing" in proc.stdout
    assert "orch.py:2:9: referenced by the code here" in proc.stdout


def commit(repo, message: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **GIT_ENV, "PRE_COMMIT_HOME": str(home)}
    env.pop("PREMERGE_DEBUG", None)
    # git runs the hook with its output on stderr: merge the two streams
    return subprocess.run(["git", "commit", "-m", message], cwd=repo.path, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, env=env, timeout=600,
                          stdin=subprocess.DEVNULL)


def test_installed_hook_blocks_the_commit_until_the_file_is_there(
        make_repo, pre_commit_home, hook_repo, tmp_path) -> None:
    """What a user gets: `pre-commit install`, then `git commit` runs premerge files."""
    shadow, rev = hook_repo
    config = (f"repos:\n  - repo: {shadow.as_posix()}\n    rev: {rev}\n"
              "    hooks:\n      - id: premerge-files\n")
    repo = make_repo({".pre-commit-config.yaml": config,
                      "premerge.yaml": "required_files:\n  - path: CLAUDE.md\n"
                                       "    worktrees: true\n"})
    env = {**os.environ, "PRE_COMMIT_HOME": str(pre_commit_home)}
    subprocess.run([sys.executable, "-m", "pre_commit", "install"], cwd=repo.path, env=env,
                   check=True, capture_output=True)
    repo.write("orch.py", "print('hi')\n")
    repo.git("add", "orch.py")
    proc = commit(repo, "blocked", pre_commit_home)
    assert proc.returncode == 1, proc.stdout
    assert "PM201 required file 'CLAUDE.md' is missing" in proc.stdout
    assert repo.git("log", "--format=%s").splitlines() == ["initial"]  # nothing committed

    repo.write("CLAUDE.md", "# briefing\n")
    repo.git("add", "CLAUDE.md")
    proc = commit(repo, "with the briefing", pre_commit_home)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "premerge files (required files manifest)" in proc.stdout and "Passed" in proc.stdout

    # the orchestrator's failure: an agent worktree on a branch without the briefing
    repo.git("branch", "agent-1", "HEAD~1")
    agent = tmp_path / "agent-1"
    repo.git("worktree", "add", "-q", str(agent), "agent-1")
    repo.write("orch.py", "print('provision')\n")
    repo.git("add", "orch.py")
    proc = commit(repo, "blocked by the worktree", pre_commit_home)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert (f"PM206 'CLAUDE.md' is missing from the git worktree {agent.as_posix()} "
            "(branch agent-1)") in proc.stdout
