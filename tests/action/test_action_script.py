"""The Action's run step (action/premerge_action.py): inputs, base, refusal, outputs."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.action.runner import parse_output_file
from tests.conftest import ROOT


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("premerge_action",
                                                  ROOT / "action" / "premerge_action.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["premerge_action"] = module
    spec.loader.exec_module(module)
    return module


action = _load()


def _event(tmp_path: Path, payload: dict[str, object]) -> str:
    path = tmp_path / "event.json"
    path.write_text(json.dumps(payload), encoding="utf-8")
    return str(path)


def test_defaults() -> None:
    inputs = action.read_inputs({})
    assert inputs.checks == ["scope", "files", "smoke"]
    assert inputs.fail_on == "error"
    assert inputs.changed_only is None and inputs.allow_untrusted is False


@pytest.mark.parametrize("env, message", [
    ({"INPUT_CHECKS": "scope,lint"}, "unknown check lint"),
    ({"INPUT_FAIL_ON": "sometimes"}, "fail-on must be one of"),
    ({"INPUT_CHANGED_ONLY": "maybe"}, "changed-only must be true or false"),
    ({"INPUT_ALLOW_UNTRUSTED": "yes please"}, "allow-untrusted must be true or false"),
    ({"INPUT_PATHS": "'unterminated"}, "input paths"),
])
def test_bad_inputs_are_one_line_errors(env: dict[str, str], message: str) -> None:
    with pytest.raises(action.ActionError, match=message):
        action.read_inputs(env)


def test_paths_split_on_whitespace_and_quotes() -> None:
    inputs = action.read_inputs({"INPUT_PATHS": "src\ntests/unit 'with space/x.py'"})
    assert inputs.paths == ["src", "tests/unit", "with space/x.py"]


@pytest.mark.parametrize("name, payload, expected", [
    ("pull_request", {"pull_request": {"base": {"sha": "a" * 40, "ref": "main"}}}, "a" * 40),
    ("pull_request", {"pull_request": {"base": {"ref": "dev"}}}, "origin/dev"),
    ("pull_request_target", {"pull_request": {"base": {"sha": "b" * 40}}}, "b" * 40),
    ("merge_group", {"merge_group": {"base_sha": "c" * 40}}, "c" * 40),
    ("push", {"before": "d" * 40}, "d" * 40),
    ("push", {"before": "0" * 40}, ""),  # a new branch: nothing before it
    ("workflow_dispatch", {}, ""),
])
def test_event_base(name: str, payload: dict[str, object], expected: str) -> None:
    assert action.event_base(name, payload)[0] == expected


def test_plan_on_a_pull_request_uses_the_base_commit(make_repo, tmp_path: Path) -> None:
    repo = make_repo({"a.py": "x = 1\n"})
    base = repo.git("rev-parse", "HEAD").strip()
    env = {"GITHUB_WORKSPACE": str(repo.path), "GITHUB_EVENT_NAME": "pull_request",
           "GITHUB_EVENT_PATH": _event(tmp_path, {"pull_request": {"base": {"sha": base}}}),
           "RUNNER_TEMP": str(tmp_path)}
    plan = action.plan(action.read_inputs({"INPUT_PATHS": "a.py"}), env, python="py")
    assert plan.command[:5] == ["py", "-I", "-m", "premerge", "check"]
    assert plan.command[plan.command.index("--changed"):] == ["--changed", f"--base={base}",
                                                              "--", "a.py"]
    assert f"(`{base[:12]}`)" in plan.summary_lines[-1]
    assert plan.sarif_file == tmp_path / "premerge" / "premerge.sarif"
    assert plan.command[plan.command.index("--format") + 1] == "github"


def test_plan_on_push_checks_everything_by_default(make_repo, tmp_path: Path) -> None:
    repo = make_repo({"a.py": "x = 1\n"})
    env = {"GITHUB_WORKSPACE": str(repo.path), "GITHUB_EVENT_NAME": "push",
           "GITHUB_EVENT_PATH": _event(tmp_path, {"before": "e" * 40})}
    plan = action.plan(action.read_inputs({"INPUT_SARIF_FILE": "out/r.sarif"}), env)
    assert "--changed" not in plan.command
    assert plan.sarif_file == repo.path / "out" / "r.sarif"


def test_explicit_changed_only_without_any_base_is_an_error(make_repo, tmp_path: Path) -> None:
    repo = make_repo({"a.py": "x = 1\n"})
    env = {"GITHUB_WORKSPACE": str(repo.path), "GITHUB_EVENT_NAME": "workflow_dispatch"}
    with pytest.raises(action.ActionError, match="set base-ref"):
        action.plan(action.read_inputs({"INPUT_CHANGED_ONLY": "true"}), env)


def test_missing_base_commit_says_fetch_depth(make_repo, tmp_path: Path) -> None:
    repo = make_repo({"a.py": "x = 1\n"})
    env = {"GITHUB_WORKSPACE": str(repo.path), "GITHUB_EVENT_NAME": "pull_request",
           "GITHUB_EVENT_PATH": _event(tmp_path, {"pull_request": {"base": {"sha": "f" * 40}}})}
    with pytest.raises(action.ActionError, match="fetch-depth: 0"):
        action.plan(action.read_inputs({}), env)


def test_smoke_refused_on_pull_request_target(make_repo, tmp_path: Path) -> None:
    repo = make_repo({"a.py": "x = 1\n"})
    base = repo.git("rev-parse", "HEAD").strip()
    env = {"GITHUB_WORKSPACE": str(repo.path), "GITHUB_EVENT_NAME": "pull_request_target",
           "GITHUB_EVENT_PATH": _event(tmp_path, {"pull_request": {"base": {"sha": base}}})}
    refused = action.plan(action.read_inputs({}), env)
    assert refused.checks == ["scope", "files"]
    assert refused.warnings == [action.SMOKE_REFUSED]
    assert "secrets" in action.SMOKE_REFUSED
    allowed = action.plan(action.read_inputs({"INPUT_ALLOW_UNTRUSTED": "true"}), env)
    assert allowed.checks == ["scope", "files", "smoke"] and not allowed.warnings


def test_output_values_survive_any_text(tmp_path: Path) -> None:
    out = tmp_path / "out"
    env = {"GITHUB_OUTPUT": str(out)}
    action.set_output(env, "sarif-file", "/tmp/a=b\nc")
    action.set_output(env, "findings", "3")
    assert parse_output_file(out) == {"sarif-file": "/tmp/a=b\nc", "findings": "3"}


def test_main_with_only_smoke_refused_writes_an_empty_sarif(make_repo, tmp_path: Path,
                                                            capsys) -> None:
    repo = make_repo({"a.py": "x = 1\n"})
    base = repo.git("rev-parse", "HEAD").strip()
    env = {"GITHUB_WORKSPACE": str(repo.path), "GITHUB_EVENT_NAME": "pull_request_target",
           "GITHUB_EVENT_PATH": _event(tmp_path, {"pull_request": {"base": {"sha": base}}}),
           "RUNNER_TEMP": str(tmp_path), "GITHUB_OUTPUT": str(tmp_path / "out"),
           "GITHUB_STEP_SUMMARY": str(tmp_path / "summary"), "INPUT_CHECKS": "smoke"}
    assert action.main([], env=env) == 0
    outputs = parse_output_file(tmp_path / "out")
    assert outputs["findings"] == "0"
    sarif = json.loads(Path(outputs["sarif-file"]).read_text(encoding="utf-8"))
    assert sarif["runs"][0]["results"] == []
    assert "::warning title=premerge::smoke was not run" in capsys.readouterr().out
    assert "pull_request_target" in (tmp_path / "summary").read_text(encoding="utf-8")


def test_main_reports_a_bad_input_as_an_error_annotation(tmp_path: Path, capsys) -> None:
    env = {"INPUT_FAIL_ON": "sometimes", "GITHUB_STEP_SUMMARY": str(tmp_path / "summary")}
    assert action.main([], env=env) == 2
    assert capsys.readouterr().out.startswith("::error title=premerge::input fail-on")
    assert "did not run" in (tmp_path / "summary").read_text(encoding="utf-8")


def test_a_base_ref_cannot_smuggle_an_option(make_repo) -> None:
    repo = make_repo({"a.py": "x = 1\n"})
    env = {"GITHUB_WORKSPACE": str(repo.path), "GITHUB_EVENT_NAME": "pull_request"}
    with pytest.raises(action.ActionError, match="starts with '-'"):
        action.plan(action.read_inputs({"INPUT_BASE_REF": "--output=/tmp/x"}), env)


def test_a_base_ref_by_name(make_repo) -> None:
    repo = make_repo({"a.py": "x = 1\n"})
    env = {"GITHUB_WORKSPACE": str(repo.path), "GITHUB_EVENT_NAME": "pull_request"}
    plan = action.plan(action.read_inputs({"INPUT_BASE_REF": "main"}), env)
    assert "--base=main" in plan.command
    assert plan.summary_lines == ["Checked what changed since the base-ref input (`main`)."]


def test_values_that_look_like_options_stay_values(make_repo) -> None:
    repo = make_repo({"a.py": "x = 1\n"})
    env = {"GITHUB_WORKSPACE": str(repo.path), "GITHUB_EVENT_NAME": "push",
           "GITHUB_STEP_SUMMARY": "/s.md"}
    plan = action.plan(action.read_inputs({"INPUT_CONFIG": "-c.yaml", "INPUT_PYTHON": "-py",
                                           "INPUT_PATHS": "-weird.py"}), env)
    assert {"--config=-c.yaml", "--python=-py", "--summary=/s.md"} <= set(plan.command)
    assert plan.command[-2:] == ["--", "-weird.py"]
