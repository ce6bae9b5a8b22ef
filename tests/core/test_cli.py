"""The CLI's shared surface: version, help, usage errors, exit codes, rules registry."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import premerge
from tests.conftest import run_premerge


def test_version_in_process(run_cli) -> None:
    result = run_cli("--version")
    assert result.code == 0
    assert result.out.strip() == f"premerge {premerge.__version__}"


def test_python_dash_m_and_help(tmp_path: Path) -> None:
    proc = run_premerge("--help", cwd=tmp_path)
    assert proc.returncode == 0
    for command in ("scope", "files", "smoke", "check", "init"):
        assert command in proc.stdout


def test_usage_error_exits_2_with_message(run_cli, tmp_path: Path) -> None:
    result = run_cli("scope", "--format", "yaml", cwd=tmp_path)
    assert result.code == 2
    assert "invalid choice" in result.err


def test_base_without_changed_is_usage_error(run_cli, tmp_path: Path) -> None:
    result = run_cli("scope", "--base", "main", cwd=tmp_path)
    assert result.code == 2
    assert result.err.strip() == "premerge: error: --base goes with --changed"


def test_unknown_check_is_usage_error(run_cli, tmp_path: Path) -> None:
    result = run_cli("check", "--checks", "scope,lint", cwd=tmp_path)
    assert result.code == 2
    assert "unknown check lint" in result.err


def test_rules_lists_every_registered_code(run_cli) -> None:
    result = run_cli("rules")
    assert result.code == 0
    codes = re.findall(r"^(PM\d{3})\s", result.out, re.MULTILINE)
    assert codes == sorted(codes) and "PM001" in codes and "PM002" in codes


def test_rules_explains_one_code(run_cli) -> None:
    result = run_cli("rules", "pm002")
    assert result.code == 0
    assert result.out.startswith("PM002: syntax error (error)")


def test_rules_unknown_code(run_cli) -> None:
    result = run_cli("rules", "PM999")
    assert result.code == 2
    assert "unknown code" in result.err


def test_internal_errors_are_one_line(tmp_path: Path) -> None:
    # an unwritable --output target is an OSError deep in the run: one line, exit 2
    proc = run_premerge("scope", "--output", str(tmp_path / "missing" / "out.txt"),
                        cwd=tmp_path)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def test_running_under_same_interpreter() -> None:
    assert sys.version_info >= (3, 10)


def test_diff_with_json_keeps_stdout_parseable(run_cli, make_repo) -> None:
    import json

    repo = make_repo({"orch.py": '''\
        class Orchestrator:
            def setup(self):
                from briefing import BriefingSystem
                self.briefing = BriefingSystem()

            def run(self):
                return BriefingSystem.render()
        ''', "briefing.py": "class BriefingSystem:\n    @staticmethod\n    def render():\n        return 1\n"})
    before = (repo.path / "orch.py").read_text()
    result = run_cli("scope", "--diff", "--format", "json", cwd=repo.path)
    assert result.code == 1
    document = json.loads(result.out)
    assert [f["code"] for f in document["findings"]] == ["PM101"]
    assert "+++ b/orch.py" in result.err
    assert (repo.path / "orch.py").read_text() == before
