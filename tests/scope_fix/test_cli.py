"""``premerge scope --fix`` / ``--diff`` through the command line, and the README recipe
``args: [--fix]`` through a real ``pre-commit run``."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import GIT_ENV, ROOT, git, run_premerge, run_python
from tests.scope.helpers import last_error

BUGGY = """\
\"\"\"Sessions.\"\"\"

import os


class Orchestrator:
    def run(self):
        from collections import OrderedDict as Briefing
        return Briefing(), os.sep

    def start(self):
        return Briefing()
"""
UNFIXABLE = """\
def dump(obj, pretty):
    if pretty:
        import json
    return json.dumps(obj)
"""


def test_diff_prints_the_fix_writes_nothing_and_exits_1(run_cli, make_repo) -> None:
    repo = make_repo({"orch/session.py": BUGGY})
    result = run_cli("scope", "--diff", cwd=repo.path / "orch")
    assert result.code == 1, result.err
    assert result.out.startswith("--- a/orch/session.py\n+++ b/orch/session.py\n@@ ")
    assert "+from collections import OrderedDict as Briefing\n" in result.out
    assert "-        from collections import OrderedDict as Briefing\n" in result.out
    assert "session.py:12:16: PM101 " in result.out  # the findings are still reported
    assert (repo.path / "orch/session.py").read_text() == BUGGY
    assert repo.git("status", "--porcelain") == ""


def test_diff_on_clean_code_prints_nothing_and_exits_0(run_cli, make_repo) -> None:
    repo = make_repo({"ok.py": "import os\n\n\ndef f():\n    return os.sep\n"})
    result = run_cli("scope", "--diff", cwd=repo.path)
    assert (result.code, result.out) == (0, "")


def test_fix_then_a_plain_run_exits_0_and_the_code_runs(run_cli, make_repo) -> None:
    repo = make_repo({"orch/session.py": BUGGY})
    proc = run_python("import session; session.Orchestrator().start()", repo.path / "orch")
    assert last_error(proc) == "NameError"
    result = run_cli("scope", "--fix", cwd=repo.path)
    assert result.code == 0, result.out + result.err
    assert "premerge: fixed 1 finding in 1 file" in result.err
    assert run_cli("scope", cwd=repo.path).code == 0
    proc = run_python("import session; session.Orchestrator().start()", repo.path / "orch")
    assert proc.returncode == 0, proc.stderr
    assert "orch/session.py" in repo.git("status", "--porcelain")


def test_fix_reports_only_what_remains(run_cli, make_repo) -> None:
    repo = make_repo({"a.py": BUGGY, "b.py": UNFIXABLE})
    result = run_cli("scope", "--fix", "--format", "json", cwd=repo.path)
    assert result.code == 1
    findings = json.loads(result.out)["findings"]
    assert [(f["path"], f["code"]) for f in findings] == [("b.py", "PM102")]
    assert (repo.path / "b.py").read_text() == UNFIXABLE


def test_fix_and_diff_together_is_a_usage_error(run_cli, make_repo) -> None:
    repo = make_repo({"a.py": BUGGY})
    assert run_cli("scope", "--fix", "--diff", cwd=repo.path).code == 2
    assert (repo.path / "a.py").read_text() == BUGGY


def test_diff_json_report_says_how_each_finding_is_fixed(run_cli, make_repo,
                                                         tmp_path: Path) -> None:
    repo = make_repo({"a.py": BUGGY, "b.py": UNFIXABLE})
    report = tmp_path / "report.json"
    result = run_cli("scope", "--diff", "--format", "json", "--output", str(report),
                     cwd=repo.path)
    assert result.code == 1 and result.out.startswith("--- a/a.py\n")
    fixes = {f["code"]: f["fix"] for f in json.loads(report.read_text())["findings"]}
    assert fixes["PM101"]["description"] == (
        "import at module level: `from collections import OrderedDict as Briefing`")
    assert fixes["PM102"] is None


def test_fix_as_a_subprocess_on_named_files(make_repo) -> None:
    repo = make_repo({"a.py": BUGGY, "b.py": BUGGY})
    proc = run_premerge("scope", "--fix", "a.py", cwd=repo.path)
    assert proc.returncode == 0, proc.stderr
    assert (repo.path / "b.py").read_text() == BUGGY  # not named: not touched
    assert (repo.path / "a.py").read_text() != BUGGY


PRE_COMMIT_CONFIG = """\
repos:
  - repo: {repo}
    rev: {rev}
    hooks:
      - id: premerge-scope
        args: [--fix]
"""


@pytest.mark.slow
def test_pre_commit_recipe_fixes_fails_once_then_passes(tmp_path: Path,
                                                         pre_commit_home: Path) -> None:
    """README's recipe, for real: the hook fixes the staged file, pre-commit fails the run
    because a hook modified files, the fixed file is staged and the next run passes."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    snapshot = tmp_path / "premerge"
    tracked = git(ROOT, "ls-files", "-z").split("\0")
    for rel in filter(None, tracked):
        if (ROOT / rel).is_file():
            (snapshot / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, snapshot / rel)
    git(snapshot, "init", "-q", "-b", "main")
    git(snapshot, "add", "-A")
    git(snapshot, "commit", "-qm", "snapshot of the working tree")
    rev = git(snapshot, "rev-parse", "HEAD").strip()

    project = tmp_path / "project"
    project.mkdir()
    git(project, "init", "-q", "-b", "main")
    (project / ".pre-commit-config.yaml").write_text(
        PRE_COMMIT_CONFIG.format(repo=snapshot, rev=rev))
    (project / "session.py").write_text(BUGGY)
    git(project, "add", "-A")
    env = {**os.environ, **GIT_ENV, "PRE_COMMIT_HOME": str(pre_commit_home)}
    env.pop("VIRTUAL_ENV", None)

    def pre_commit_run() -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "pre_commit", "run"], cwd=project,
                              capture_output=True, text=True, timeout=900, env=env,
                              stdin=subprocess.DEVNULL)

    first = pre_commit_run()
    assert first.returncode == 1, first.stdout + first.stderr
    assert "files were modified by this hook" in first.stdout
    assert (project / "session.py").read_text().startswith(
        '"""Sessions."""\n\nimport os\nfrom collections import OrderedDict as Briefing\n')
    git(project, "add", "session.py")
    second = pre_commit_run()
    assert second.returncode == 0, second.stdout + second.stderr
    assert "Passed" in second.stdout
