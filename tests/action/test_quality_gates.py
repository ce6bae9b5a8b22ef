"""Quality gates on the Action, the workflows and the hook manifest, run offline.

Schemas (check-jsonschema's vendored GitHub schemas), zizmor's offline audits, pre-commit's
manifest validation, SHA pins from tests/data/pinned-actions.json, the contract's inputs and
outputs, and no template expansion inside any ``run:``.  The tools are declared test
dependencies: a missing one skips its gate on a developer's machine and fails it under CI=true.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import DATA, ROOT, on_ci

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
CONTRACT_INPUTS = ["checks", "paths", "config", "python", "base-ref", "changed-only",
                   "sarif-file", "fail-on", "allow-untrusted"]
CONTRACT_OUTPUTS = ["findings", "sarif-file"]
PIN = re.compile(r"^(?P<action>[\w.-]+/[\w.-]+)(?P<sub>/[\w./-]+)?@(?P<sha>[0-9a-f]{40})$")


@functools.lru_cache(maxsize=1)
def _offline_prefix() -> tuple[str, ...]:
    """``unshare -rn`` (no network namespace at all) when the kernel allows it."""
    if shutil.which("unshare"):
        probe = subprocess.run(["unshare", "-rn", "true"], capture_output=True, check=False)
        if probe.returncode == 0:
            return ("unshare", "-rn")
    return ()


def declared_tool(name: str) -> str:
    """The declared test tool's executable: beside this interpreter (its virtualenv's bin,
    active or not), else on PATH.  Missing: fail under CI=true, saying which; skip elsewhere."""
    search = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    found = shutil.which(name, path=search)
    if found is None:
        message = f"{name} is not installed: it is a declared test tool (pip install -e '.[test]')"
        if on_ci():
            pytest.fail(f"CI=true: {message}", pytrace=False)
        pytest.skip(message)
    return found


def _offline(*cmd: str) -> subprocess.CompletedProcess[str]:
    """Run a tool with no network: a separate network namespace, else dead proxies."""
    executable = declared_tool(cmd[0])
    env = {**os.environ, "HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9",
           "NO_PROXY": ""}
    return subprocess.run([*_offline_prefix(), executable, *cmd[1:]], cwd=ROOT,
                          capture_output=True, text=True, env=env, timeout=300,
                          stdin=subprocess.DEVNULL, check=False)


#: the tools these gates run, each a declared test dependency (pyproject's `test` extra)
TOOLS = ("check-jsonschema", "pre-commit", "zizmor")


def test_the_gate_tools_are_declared_test_dependencies() -> None:
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    extra = re.search(r"^test = \[(.*?)^\]", text, re.MULTILINE | re.DOTALL)
    assert extra, "pyproject.toml has no `test` extra"
    declared = set(re.findall(r'"([A-Za-z0-9_.-]+)', extra.group(1)))
    assert set(TOOLS) <= declared


def test_a_missing_tool_fails_under_ci_and_says_which(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true: no-such-gate-tool is not installed"):
        declared_tool("no-such-gate-tool")
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="no-such-gate-tool is not installed"):
        declared_tool("no-such-gate-tool")


def _yaml(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_there_are_workflows() -> None:
    names = {p.name for p in WORKFLOWS}
    assert {"premerge.yml", "ci.yml"} <= names


def test_action_matches_the_github_actions_schema() -> None:
    proc = _offline("check-jsonschema", "--builtin-schema", "vendor.github-actions",
                    "action.yml")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_workflows_match_the_github_workflows_schema() -> None:
    proc = _offline("check-jsonschema", "--builtin-schema", "vendor.github-workflows",
                    *(str(p) for p in WORKFLOWS))
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_schema_check_can_fail(tmp_path: Path) -> None:
    """The gate is real: a broken action (no ``runs``) is rejected."""
    broken = tmp_path / "action.yml"
    broken.write_text("name: x\ndescription: y\n", encoding="utf-8")
    proc = _offline("check-jsonschema", "--builtin-schema", "vendor.github-actions", str(broken))
    assert proc.returncode != 0


def test_zizmor_offline_reports_nothing() -> None:
    proc = _offline("zizmor", "--offline", "--no-progress", "--format", "json", "action.yml",
                    ".github/workflows/")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert json.loads(proc.stdout) == []


def test_zizmor_gate_can_fail(tmp_path: Path) -> None:
    """The gate is real: the injection this action avoids is reported when present."""
    bad = tmp_path / "action.yml"
    bad.write_text(
        "name: x\ndescription: y\ninputs:\n  paths: {description: p}\n"
        "runs:\n  using: composite\n  steps:\n"
        "    - shell: bash\n      run: echo ${{ inputs.paths }}\n", encoding="utf-8")
    proc = _offline("zizmor", "--offline", "--no-progress", "--format", "json", str(bad))
    assert proc.returncode != 0
    assert any(f["ident"] == "template-injection" for f in json.loads(proc.stdout))


def test_pre_commit_validates_the_hook_manifest() -> None:
    proc = _offline("pre-commit", "validate-manifest", ".pre-commit-hooks.yaml")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_action_inputs_and_outputs_are_the_contracts() -> None:
    action = _yaml(ROOT / "action.yml")
    assert list(action["inputs"]) == CONTRACT_INPUTS
    assert list(action["outputs"]) == CONTRACT_OUTPUTS
    inputs = action["inputs"]
    assert inputs["checks"]["default"] == "scope,files,smoke"
    assert inputs["allow-untrusted"]["default"] == "false"
    assert inputs["changed-only"]["default"] == ""  # decided from the event at run time
    assert inputs["fail-on"]["default"] == "error"
    assert all(spec.get("description") for spec in inputs.values())
    assert action["runs"]["using"] == "composite"


def _run_steps(document: dict[str, Any]) -> list[dict[str, Any]]:
    steps = list(document.get("runs", {}).get("steps", []))
    for job in document.get("jobs", {}).values():
        steps += job.get("steps", [])
    return steps


@pytest.mark.parametrize("path", [ROOT / "action.yml", *WORKFLOWS], ids=lambda p: p.name)
def test_inputs_reach_shell_only_through_env(path: Path) -> None:
    for step in _run_steps(_yaml(path)):
        if "run" in step:
            assert "${{" not in step["run"], f"{path.name}: template expansion in run: {step}"


def test_every_input_is_passed_to_the_run_step_by_env() -> None:
    action = _yaml(ROOT / "action.yml")
    run_step = next(s for s in action["runs"]["steps"] if s.get("id") == "run")
    for name in CONTRACT_INPUTS:
        env_name = "INPUT_" + name.upper().replace("-", "_")
        assert run_step["env"][env_name] == f"${{{{ inputs.{name} }}}}"


def _pins() -> dict[str, dict[str, str]]:
    path = DATA / "pinned-actions.json"
    data: dict[str, dict[str, str]] = json.loads(path.read_text(encoding="utf-8"))["actions"]
    return data


@pytest.mark.parametrize("path", [ROOT / "action.yml", *WORKFLOWS], ids=lambda p: p.name)
def test_every_uses_is_pinned_by_sha_with_its_tag(path: Path) -> None:
    pins = _pins()
    text = path.read_text(encoding="utf-8")
    for match in re.finditer(r"^\s*(?:-\s*)?uses:\s*(?P<ref>\S+)(?P<rest>.*)$", text,
                             re.MULTILINE):
        ref = match["ref"]
        if ref.startswith(("./", "$/")):
            continue  # this repository's own action
        pin = PIN.match(ref)
        assert pin, f"{path.name}: {ref} is not OWNER/REPO@SHA"
        expected = pins[pin["action"]]
        assert pin["sha"] == expected["sha"], f"{path.name}: {ref} is not the pinned commit"
        assert match["rest"].strip() == f"# {expected['tag']}", \
            f"{path.name}: {ref} lacks the comment '# {expected['tag']}'"


def test_dogfooding_workflow_uses_the_local_action_and_uploads_sarif() -> None:
    workflow = _yaml(ROOT / ".github" / "workflows" / "premerge.yml")
    triggers = workflow[True] if True in workflow else workflow["on"]  # YAML 1.1: on -> True
    assert "pull_request" in triggers
    steps = workflow["jobs"]["premerge"]["steps"]
    checkout = steps[0]
    assert checkout["with"]["fetch-depth"] == 0
    local = next(s for s in steps if s.get("uses") == "./")
    upload = next(s for s in steps if "upload-sarif" in s.get("uses", ""))
    assert upload["with"]["sarif_file"] == f"${{{{ steps.{local['id']}.outputs.sarif-file }}}}"
    sharded = next(job for job in workflow["jobs"].values() if "matrix" in job.get("strategy", {}))
    assert any("--shard" in s.get("run", "") for s in sharded["steps"])


def _readme_action_section() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("## In CI: the GitHub Action")
    end = text.find("\n## ", start + 1)
    return text[start:end if end != -1 else None]


def test_readme_workflow_snippet_is_valid_and_zizmor_clean(tmp_path: Path) -> None:
    """What users paste must pass the same gates (with the placeholder pin made concrete)."""
    snippet = re.findall(r"```yaml\n(.*?)```", _readme_action_section(), re.S)[0]
    workflow = tmp_path / ".github" / "workflows" / "premerge.yml"
    workflow.parent.mkdir(parents=True)
    workflow.write_text(snippet.replace("OWNER/premerge@SHA", "octo/premerge@" + "a" * 40),
                        encoding="utf-8")
    proc = _offline("check-jsonschema", "--builtin-schema", "vendor.github-workflows",
                    str(workflow))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    proc = _offline("zizmor", "--offline", "--no-progress", "--format", "json", str(workflow))
    assert proc.returncode == 0 and json.loads(proc.stdout) == [], proc.stdout + proc.stderr
    assert "fetch-depth: 0" in snippet and "${{ inputs" not in snippet


def test_readme_pre_commit_snippet_is_valid(tmp_path: Path) -> None:
    snippet = next(block for block in re.findall(r"```yaml\n(.*?)```", _readme_action_section(),
                                                 re.S) if "repos:" in block)
    config = tmp_path / ".pre-commit-config.yaml"
    config.write_text(snippet, encoding="utf-8")
    proc = _offline("pre-commit", "validate-config", str(config))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    hook_ids = {hook["id"] for hook in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml")
                                                      .read_text(encoding="utf-8"))}
    assert set(re.findall(r"id: (premerge-\w+)", snippet)) == hook_ids


def test_readme_documents_every_input() -> None:
    documented = re.findall(r"^\| `([a-z-]+)` \|", _readme_action_section(), re.MULTILINE)
    assert documented == CONTRACT_INPUTS
