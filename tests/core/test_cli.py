"""The CLI's shared surface: version, help, usage errors, exit codes, rules registry."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import premerge
from premerge.findings import all_rules
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
    listed = re.findall(r"^(PM\d{3}) +(error|warning|note) +(\S.*)$", result.out, re.MULTILINE)
    assert len(listed) == len(result.out.splitlines())  # every line is one rule
    expected = [(code, rule.severity.value, rule.title) for code, rule in all_rules().items()]
    assert listed == expected
    # the registry holds every family's rules, not just the ones imported so far
    assert {code[:3] for code, *_ in listed} == {"PM0", "PM1", "PM2", "PM3"}
    assert len(listed) >= 40


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


ENTRY_WITH_ATEXIT = """\
import atexit, sys
from premerge.cli import entry
atexit.register(lambda: print("atexit ran"))
sys.argv = ["premerge", *sys.argv[1:]]
raise SystemExit(entry())
"""


def test_process_entry_exits_fast_but_flushes_and_runs_atexit(tmp_path: Path) -> None:
    # entry() ends the process itself (os._exit): what sys.exit would still do must happen
    proc = subprocess.run([sys.executable, "-c", ENTRY_WITH_ATEXIT, "rules"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "PM101" in proc.stdout  # buffered stdout reached the pipe
    assert proc.stdout.rstrip().endswith("atexit ran")
    bad = subprocess.run([sys.executable, "-c", ENTRY_WITH_ATEXIT, "rules", "PM999"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "unknown code" in bad.stderr
    assert bad.stdout.strip() == "atexit ran"


def test_process_entry_returns_while_another_thread_runs(tmp_path: Path) -> None:
    # a live non-daemon thread keeps the normal shutdown (which waits for it)
    code = ENTRY_WITH_ATEXIT.replace(
        "from premerge.cli import entry\n",
        "from premerge.cli import entry\nimport threading, time\n"
        "threading.Thread(target=lambda: (time.sleep(0.5), print('thread done'))).start()\n")
    proc = subprocess.run([sys.executable, "-c", code, "rules", "PM101"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "thread done" in proc.stdout and "atexit ran" in proc.stdout


def test_console_script_uses_the_process_entry() -> None:
    pyproject = (Path(__file__).parents[2] / "pyproject.toml").read_text(encoding="utf-8")
    assert 'premerge = "premerge.cli:entry"' in pyproject


def test_help_is_as_wide_as_argparse_makes_it(monkeypatch) -> None:
    """The formatter that spares a run shutil sizes help exactly like argparse's own."""
    import argparse

    from premerge.cli import _HelpFormatter

    for columns in ("", "0", "60", "200", "wide"):
        monkeypatch.setenv("COLUMNS", columns)
        ours, stock = _HelpFormatter("premerge"), argparse.HelpFormatter("premerge")
        assert (ours._width, ours._max_help_position) == (stock._width,
                                                          stock._max_help_position)
    assert _HelpFormatter("premerge", width=50)._width == 50
