"""The `premerge-files` hook, end to end through a real `pre-commit try-repo`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


from tests.conftest import pre_commit_env, try_repo


def test_try_repo_runs_the_hook(make_repo, pre_commit_home, hook_repo) -> None:
    repo = make_repo({"premerge.yaml": "required_files:\n  - CLAUDE.md\n",
                      "orch.py": "from pathlib import Path\n"
                                 "BRIEF = Path(__file__).parent / 'CLAUDE.md'\n"})
    proc = try_repo(repo.path, pre_commit_home, hook_repo, "premerge-files",
                    "--all-files")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "premerge files (required files manifest)" in proc.stdout and "Failed" in proc.stdout
    assert "premerge.yaml:2:5: PM201 required file 'CLAUDE.md' is missing" in proc.stdout
    assert "orch.py:2:9: referenced by the code here" in proc.stdout


def commit(repo, message: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = pre_commit_env(home)
    # git runs the hook with its output on stderr: merge the two streams
    return subprocess.run(["git", "commit", "-m", message], cwd=repo.path, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, env=env, timeout=600,
                          stdin=subprocess.DEVNULL)


def test_installed_hook_blocks_the_commit_until_the_file_is_there(
        make_repo, pre_commit_home, hook_repo, tmp_path) -> None:
    """What a user gets: `pre-commit install`, then `git commit` runs premerge files."""
    shadow, rev = hook_repo.path, hook_repo.rev
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
