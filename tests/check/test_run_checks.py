"""``premerge check``'s merge: order, ``# noqa``, de-duplication, per-check counts, crashes.

The real checks are swapped for small check modules written into a temporary directory (the
same ``run(config, paths) -> CheckResult`` interface), so the merge is tested on its own.
"""

from __future__ import annotations

import importlib
import json
import sys
import textwrap
import types
import uuid
from pathlib import Path

import pytest

from premerge import check
from premerge.config import Config

_CHECK_MODULE = '''
from premerge.findings import CheckResult, Location
from premerge.input_rules import SkippedFile, SyntaxErrorInFile


def run(config, paths):
    root = config.root.as_posix()
    {body}
'''


@pytest.fixture
def fake_checks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """``fake_checks(scope="return ...", smoke="...")`` installs check modules by body."""
    package = tmp_path / f"fake_checks_{uuid.uuid4().hex}"  # fresh: no stale sys.modules
    package.mkdir()
    (package / "__init__.py").write_text("", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))

    def install(**bodies: str) -> None:
        for name, body in bodies.items():
            source = _CHECK_MODULE.format(body=textwrap.indent(body, "    ").lstrip())
            (package / f"{name}.py").write_text(source, encoding="utf-8")
            module = importlib.import_module(f"{package.name}.{name}")
            monkeypatch.setitem(check.CHECKS, name, module.run)

    return install


def _repo(tmp_path: Path) -> Config:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "a.py").write_text("x = (\ny = 2  # noqa: PM002\nz = 3  # noqa: PM101\n",
                               encoding="utf-8")
    return Config(root=root, in_git=False)


SYNTAX = 'SyntaxErrorInFile.at(root + "/a.py", {line}, 1, reason="bad")'


def test_duplicates_count_once_for_the_first_check(tmp_path: Path, fake_checks) -> None:
    fake_checks(
        scope=f"return CheckResult(findings=[{SYNTAX.format(line=1)}], files=1)",
        smoke=f"return CheckResult(findings=[{SYNTAX.format(line=1)}, "
              f"SkippedFile.at(root + '/a.py', reason='big')], files=3)",
    )
    result = check.run_checks(_repo(tmp_path), [], ["scope", "smoke"])
    assert [f.code for f in result.findings] == ["PM004", "PM002"]  # sorted by place
    assert result.by_check == {"scope": 1, "smoke": 1}
    assert sum(result.by_check.values()) == len(result.findings)
    assert result.files == 3 and result.checks == ["scope", "smoke"]
    assert set(result.seconds_by_check) == {"scope", "smoke"}


def test_noqa_suppresses_only_its_codes(tmp_path: Path, fake_checks) -> None:
    fake_checks(scope="return CheckResult(findings=[" + ", ".join(
        SYNTAX.format(line=n) for n in (1, 2, 3)) + "])")
    result = check.run_checks(_repo(tmp_path), [], ["scope"])
    assert [f.line for f in result.findings] == [1, 3]  # line 2 has noqa: PM002
    assert result.by_check == {"scope": 2}


def test_a_crashing_check_does_not_hide_the_others(tmp_path: Path, fake_checks) -> None:
    fake_checks(scope="raise ValueError('oops')",
                files=f"return CheckResult(findings=[{SYNTAX.format(line=1)}], "
                      "notes=['worktrees skipped'])")
    result = check.run_checks(_repo(tmp_path), [], ["scope", "files"])
    codes = sorted(f.code for f in result.findings)
    assert codes == ["PM002", "PM009"]
    crash = next(f for f in result.findings if f.code == "PM009")
    assert "the scope check crashed: ValueError: oops" in crash.message
    assert result.notes == ["worktrees skipped"]


def test_a_user_error_from_a_check_is_a_one_line_exit_2(tmp_path: Path, fake_checks,
                                                         run_cli) -> None:
    config = _repo(tmp_path)
    fake_checks(smoke="from premerge.config import ConfigError\n"
                      "raise ConfigError('smoke.python: /nope/python does not exist')")
    result = run_cli("check", cwd=config.root)
    assert result.code == 2
    assert result.err.strip() == "premerge: error: smoke.python: /nope/python does not exist"


def test_unselected_checks_do_not_run(tmp_path: Path, fake_checks) -> None:
    fake_checks(scope="raise AssertionError('must not run')",
                files="return CheckResult(files=2)")
    result = check.run_checks(_repo(tmp_path), [], ["files"])
    assert result.findings == [] and result.by_check == {"files": 0}


@pytest.mark.parametrize("fail_on, code", [("error", 1), ("warning", 1), ("never", 0)])
def test_exit_code_follows_fail_on(tmp_path: Path, fake_checks, run_cli, fail_on: str,
                                   code: int) -> None:
    config = _repo(tmp_path)
    fake_checks(scope=f"return CheckResult(findings=[{SYNTAX.format(line=1)}], files=1)")
    result = run_cli("check", "--checks", "scope", "--fail-on", fail_on, cwd=config.root)
    assert result.code == code, result.err
    assert "a.py:1:1: PM002 syntax error: bad" in result.out


def test_warnings_pass_under_fail_on_error(tmp_path: Path, fake_checks, run_cli) -> None:
    config = _repo(tmp_path)
    fake_checks(files="return CheckResult(findings=[SkippedFile.at(root + '/a.py', "
                      "reason='big')])")
    assert run_cli("check", "--checks", "files", cwd=config.root).code == 0
    assert run_cli("check", "--checks", "files", "--fail-on", "warning",
                   cwd=config.root).code == 1


def test_one_run_gives_annotations_sarif_and_summary(tmp_path: Path, fake_checks,
                                                     run_cli) -> None:
    config = _repo(tmp_path)
    fake_checks(scope=f"return CheckResult(findings=[{SYNTAX.format(line=1)}], files=1)")
    sarif, summary = tmp_path / "r.sarif", tmp_path / "s.md"
    result = run_cli("check", "--checks", "scope", "--format", "github", "--sarif", str(sarif),
                     "--summary", str(summary), cwd=config.root)
    assert result.code == 1
    assert result.out == "::error file=a.py,line=1,col=1,title=PM002::syntax error: bad\n"
    assert json.loads(sarif.read_text(encoding="utf-8"))["runs"][0]["results"][0]["ruleId"] \
        == "PM002"
    assert "1 finding (1 error)" in summary.read_text(encoding="utf-8")


def test_smoke_facts_refine_scope_findings(tmp_path: Path, fake_checks,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """run_checks hands smoke's facts to ``premerge.smoke.refine.refine_scope_findings``."""
    fake_checks(scope="return CheckResult(findings=[" + ", ".join(
                    SYNTAX.format(line=n) for n in (1, 3)) + "])",
                smoke="return CheckResult(facts={'bound_at_runtime': [3]})")
    seen: list[object] = []

    def refine_scope_findings(findings, facts):
        seen.append(facts)
        return [f for f in findings if f.line not in facts["bound_at_runtime"]]

    refine = types.ModuleType("premerge.smoke.refine")
    refine.refine_scope_findings = refine_scope_findings  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "premerge.smoke.refine", refine)
    result = check.run_checks(_repo(tmp_path), [], ["scope", "smoke"])
    assert seen == [{"bound_at_runtime": [3]}]
    assert [f.line for f in result.findings] == [1]
    assert result.by_check == {"scope": 1, "smoke": 0}
    (tmp_path / "again").mkdir()
    without_smoke = check.run_checks(_repo(tmp_path / "again"), [], ["scope"])
    assert [f.line for f in without_smoke.findings] == [1, 3] and len(seen) == 1


_STATIC_AND_RUNTIME = '''
from premerge.findings import Finding
path = root + "/a.py"
'''


def test_runtime_confirmation_folds_into_the_static_finding(tmp_path: Path,
                                                            fake_checks) -> None:
    fake_checks(
        scope=_STATIC_AND_RUNTIME + "return CheckResult(findings=["
              "Finding('PM101', 'helper is imported only in run()', path, 1, 5, name='helper'),"
              "Finding('PM002', 'syntax error: bad', path, 1, 1)])",
        smoke=_STATIC_AND_RUNTIME + "return CheckResult(findings=["
              "Finding('PM313', 'calling f raises NameError: helper\\nmore', path, 1, 5, "
              "name='helper'),"
              "Finding('PM305', 'pkg.a cannot be imported: syntax error', path, 1, 1)])",
    )
    result = check.run_checks(_repo(tmp_path), [], ["scope", "smoke"])
    assert [f.code for f in result.findings] == ["PM002", "PM101"]
    syntax, unbound = result.findings
    assert unbound.related[-1].message == \
        "confirmed at runtime (PM313): calling f raises NameError: helper"
    assert syntax.related[-1].message == \
        "confirmed at runtime (PM305): pkg.a cannot be imported: syntax error"
    assert result.by_check == {"scope": 2, "smoke": 0}


def test_runtime_findings_that_confirm_nothing_stay(tmp_path: Path, fake_checks) -> None:
    fake_checks(
        scope=_STATIC_AND_RUNTIME + "return CheckResult(findings=["
              "Finding('PM101', 'helper is imported only in run()', path, 1, 5, name='helper')])",
        smoke=_STATIC_AND_RUNTIME + "return CheckResult(findings=["
              "Finding('PM313', 'other name, same line', path, 1, 9, name='other'),"
              "Finding('PM313', 'same name, other line', path, 2, 5, name='helper'),"
              "Finding('PM307', 'not a confirmation', path, 1, 1)])",
    )
    result = check.run_checks(_repo(tmp_path), [], ["scope", "smoke"])
    assert sorted(f.code for f in result.findings) == ["PM101", "PM307", "PM313", "PM313"]
    assert all(not f.related for f in result.findings)
    assert result.by_check == {"scope": 1, "smoke": 3}


def test_real_checks_report_one_bug_once(make_repo, run_cli) -> None:
    """scope finds the bug statically, smoke confirms it at runtime: one finding, with both."""
    repo = make_repo({"pkg/__init__.py": "", "pkg/core.py": "def helper():\n    return 1\n",
                      "pkg/feature.py": textwrap.dedent("""\
                          class Orchestrator:
                              def run(self):
                                  from pkg.core import helper
                                  return helper()

                              def report(self):
                                  return helper()
                          """)})
    result = run_cli("check", "--format", "json", "--no-cache", cwd=repo.path)
    assert result.code == 1, result.err
    findings = json.loads(result.out)["findings"]
    assert [(f["code"], f["path"], f["line"]) for f in findings] == \
        [("PM101", "pkg/feature.py", 7)]
    messages = [r["message"] for r in findings[0]["related"]]
    assert any(m.startswith("confirmed at runtime (PM313)") for m in messages), messages
