"""The Action end to end, in a simulated runner (tests/action/runner.py).

A copy of this checkout is the action (as the runner would download it); its install step
really creates the dedicated virtualenv and pip-installs premerge from that copy (once per
module); its run step then runs on a real git repository with a base branch and a pull-request
branch that adds a scope bug, a syntax error, a module that fails to import, and empties a
required file, while an old scope bug on the base branch stays untouched.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.action.runner import ActionRun, SimulatedRunner
from tests.conftest import ROOT, Repo, run_python
from tests.report.schema import assert_valid_sarif

BASE_FILES = {
    "premerge.yaml": "version: 1\nrequired_files:\n  - README.md\n",
    "README.md": "# demo\n",
    "pkg/__init__.py": "",
    "pkg/core.py": "def helper():\n    return 1\n",
    # On the base branch already: changed-only must not report it in the pull request.
    "pkg/legacy.py": """\
        def setup():
            import json
            return json


        def dump(value):
            return json.dumps(value)
        """,
}

PR_FILES = {
    # The scope bug the pull request adds: helper is imported only inside run().
    "pkg/feature.py": """\
        class Orchestrator:
            def run(self):
                from pkg.core import helper
                return helper()

            def report(self):
                return helper()
        """,
    "pkg/broken.py": "def f(:\n    pass\n",
    "pkg/boom.py": "raise RuntimeError('boom at import')\n",
    "README.md": "",
}


def _copy_checkout(target: Path) -> Path:
    """The files a user's runner would download for ``uses: OWNER/premerge@ref``."""
    listed = subprocess.run(["git", "ls-files", "-z", "-co", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout
    for rel in filter(None, listed.split("\0")):
        source = ROOT / rel
        if source.is_file():
            (target / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / rel)
    return target


@pytest.fixture(scope="module")
def action_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _copy_checkout(tmp_path_factory.mktemp("action"))


@pytest.fixture(scope="module")
def installed(action_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Run the action's install step for real, once; later runs reuse its outputs."""
    temp = tmp_path_factory.mktemp("runner-temp")
    workspace = tmp_path_factory.mktemp("install-workspace")
    event = temp / "event.json"
    event.write_text("{}", encoding="utf-8")
    runner = SimulatedRunner(action_dir, workspace, temp, "push", event)
    run = runner.run(only=("install",))
    (step,) = run.steps
    offline = ("No matching distribution", "Could not find a version", "NewConnectionError")
    if step.returncode != 0 and any(sign in step.stderr for sign in offline):
        pytest.skip("the install step needs PyPI (or a local wheel index) for "
                    f"PyYAML: {step.stderr.strip().splitlines()[-1]}")
    assert step.returncode == 0, step.stdout + step.stderr
    python = step.outputs["python"]
    assert Path(python).is_file() and Path(python).parent.parent == temp / "premerge-venv"
    return {"python": python}


def _pull_request(make_repo) -> tuple[Repo, str, str]:
    repo = make_repo(BASE_FILES)
    base = repo.git("rev-parse", "HEAD").strip()
    repo.git("checkout", "-q", "-b", "feature")
    repo.files(PR_FILES)
    head = repo.commit("feature: add the orchestrator")
    return repo, base, head


def _runner(repo: Repo, action_dir: Path, installed: dict[str, str], tmp_path: Path,
            event_name: str, payload: dict[str, object]) -> SimulatedRunner:
    temp = tmp_path / "runner-temp"
    temp.mkdir(parents=True)
    event = temp / "event.json"
    event.write_text(json.dumps(payload), encoding="utf-8")
    cache = os.environ["PREMERGE_CACHE_DIR"]
    return SimulatedRunner(action_dir, repo.path, temp, event_name, event,
                           base_env={"PREMERGE_CACHE_DIR": cache},
                           done_steps={"install": installed})


def _pr_event(base: str, head: str) -> dict[str, object]:
    return {"action": "synchronize", "number": 7,
            "pull_request": {"number": 7, "base": {"ref": "main", "sha": base},
                             "head": {"ref": "feature", "sha": head}}}


def _consistent(run: ActionRun) -> dict[str, object]:
    """What must hold whatever the checks find: SARIF valid, outputs, annotations and summary
    agree with it, and the exit code follows fail-on (default: error)."""
    assert run.returncode in (0, 1), run.stdout + run.stderr
    sarif_path = Path(run.outputs["sarif-file"])
    assert sarif_path.is_absolute() and sarif_path.is_file()
    sarif = json.loads(sarif_path.read_text(encoding="utf-8"))
    assert_valid_sarif(sarif)
    results = sarif["runs"][0]["results"]
    assert run.outputs["findings"] == str(len(results))
    finding_annotations = [a for a in run.annotations if a.properties.get("title", "")
                           .startswith("PM")]
    assert len(finding_annotations) == len(results)
    for note, result in zip(finding_annotations, results):
        assert note.properties["title"] == result["ruleId"]
        location = result["locations"][0]["physicalLocation"]
        assert note.properties["file"] == location["artifactLocation"]["uri"]
        region = location.get("region")
        assert note.properties.get("line") == (str(region["startLine"]) if region else None)
    has_error = any(r["level"] == "error" for r in results)
    assert run.returncode == (1 if has_error else 0)
    headline = re.search(r"^### .* premerge: (no findings|(\d+) findings?)", run.summary,
                         re.MULTILINE)
    assert headline, run.summary
    assert (headline.group(2) or "0") == str(len(results)) or \
        (len(results) == 0 and headline.group(1) == "no findings")
    return sarif


def _codes(sarif: dict[str, object]) -> set[tuple[str, str, int | None]]:
    """(code, root-relative file, line) of every result."""
    out = set()
    for result in sarif["runs"][0]["results"]:  # type: ignore[index]
        physical = result["locations"][0]["physicalLocation"]
        out.add((result["ruleId"], physical["artifactLocation"]["uri"],
                 physical.get("region", {}).get("startLine")))
    return out


#: what the pull request adds, one finding per bug (smoke's runtime confirmations of PM101 and
#: PM002 are folded into them as related locations)
PR_FINDINGS = {
    ("PM101", "pkg/feature.py", 7),  # helper imported only in run(), used in report()
    ("PM002", "pkg/broken.py", 1),
    ("PM307", "pkg/boom.py", 1),  # RuntimeError at import (smoke)
    ("PM205", "premerge.yaml", 3),  # the required README.md is now empty (files)
}


def _fingerprint(sarif: dict[str, object], code: str, uri: str) -> str:
    for result in sarif["runs"][0]["results"]:  # type: ignore[index]
        if result["ruleId"] == code and \
                result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == uri:
            return str(result["partialFingerprints"]["premerge/v1"])
    raise AssertionError(f"no {code} in {uri}")


def test_pull_request_end_to_end(make_repo, action_dir: Path, installed: dict[str, str],
                                 tmp_path: Path) -> None:
    repo, base, head = _pull_request(make_repo)
    # The scope bug is real: report() raises NameError; the clean twin run() works.
    proof = run_python("from pkg.feature import Orchestrator as O\nprint(O().run())\n"
                       "O().report()\n", cwd=repo.path)
    assert proof.stdout.strip() == "1"
    assert "NameError: name 'helper' is not defined" in proof.stderr

    run = _runner(repo, action_dir, installed, tmp_path, "pull_request",
                  _pr_event(base, head)).run()
    sarif = _consistent(run)
    assert f"--changed --base={base}" in run.stderr
    assert "Checked what changed since the pull request's base commit" in run.summary
    # pkg/legacy.py has the same bug class but is unchanged since the base: not reported.
    assert _codes(sarif) == PR_FINDINGS
    assert run.returncode == 1 and run.outputs["findings"] == "4"
    assert "pkg/legacy.py" not in run.stdout
    assert sarif["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"] == \
        repo.path.resolve().as_uri() + "/"

    (unbound,) = [a for a in run.annotations if a.properties.get("title") == "PM101"]
    assert unbound.properties["file"] == "pkg/feature.py"
    assert (unbound.properties["line"], unbound.properties["col"]) == ("7", "16")
    assert "'helper'" in unbound.message.splitlines()[0]
    assert "pkg/feature.py:3:9: imported here, in Orchestrator.run()" in unbound.message
    assert "confirmed at runtime (PM313)" in unbound.message
    assert "| ❌ `PM101`" in run.summary and "`pkg/feature.py:7:16`" in run.summary
    assert "| smoke | 1 |" in run.summary and "| scope | 2 |" in run.summary

    # A follow-up commit moves the bug down: code scanning must see the same alert.
    before = _fingerprint(sarif, "PM101", "pkg/feature.py")
    feature = repo.path / "pkg" / "feature.py"
    feature.write_text('"""The orchestrator."""\n\nimport os\n\n' + feature.read_text(),
                       encoding="utf-8")
    repo.commit("document the orchestrator")
    again = _consistent(_runner(repo, action_dir, installed, tmp_path / "again",
                                "pull_request", _pr_event(base, head)).run())
    assert ("PM101", "pkg/feature.py", 11) in _codes(again)
    assert _fingerprint(again, "PM101", "pkg/feature.py") == before
    # every other finding keeps its fingerprint too, and the findings differ in the hash part
    # itself (not only in the per-run :N counter), so none is taken for another
    places = {(code, uri) for code, uri, _line in PR_FINDINGS}
    assert {p: _fingerprint(again, *p) for p in places} == {p: _fingerprint(sarif, *p)
                                                            for p in places}
    hashes = {_fingerprint(again, *p).rsplit(":", 1)[0] for p in places}
    assert len(hashes) == len(places)


def test_the_whole_repository_without_changed_only(make_repo, action_dir: Path,
                                                   installed: dict[str, str],
                                                   tmp_path: Path) -> None:
    repo, base, head = _pull_request(make_repo)
    run = _runner(repo, action_dir, installed, tmp_path, "pull_request",
                  _pr_event(base, head)).run({"changed-only": "false", "fail-on": "never"})
    sarif = _consistent_never(run)
    assert "--changed" not in run.stderr
    assert _codes(sarif) == PR_FINDINGS | {("PM101", "pkg/legacy.py", 7)}


def _consistent_never(run: ActionRun) -> dict[str, object]:
    """With fail-on: never the step passes whatever is found."""
    assert run.returncode == 0, run.stdout + run.stderr
    sarif = json.loads(Path(run.outputs["sarif-file"]).read_text(encoding="utf-8"))
    assert_valid_sarif(sarif)
    assert run.outputs["findings"] == str(len(sarif["runs"][0]["results"]))
    return sarif


def test_pull_request_target_refuses_smoke(make_repo, action_dir: Path,
                                           installed: dict[str, str], tmp_path: Path) -> None:
    repo, base, head = _pull_request(make_repo)
    run = _runner(repo, action_dir, installed, tmp_path, "pull_request_target",
                  _pr_event(base, head)).run()
    sarif = _consistent(run)
    # scope and files still ran; smoke did not (no PM307, no runtime confirmation)
    assert _codes(sarif) == PR_FINDINGS - {("PM307", "pkg/boom.py", 1)}
    assert "confirmed at runtime" not in run.stdout
    refusal = [a for a in run.annotations if a.kind == "warning"
               and a.properties.get("title") == "premerge"]
    assert len(refusal) == 1
    assert "pull_request_target" in refusal[0].message and "secrets" in refusal[0].message
    assert "--checks scope,files " in run.stderr
    assert "smoke was not run" in run.summary


def test_shallow_clone_without_the_base_commit_fails_clearly(make_repo, action_dir: Path,
                                                             installed: dict[str, str],
                                                             tmp_path: Path) -> None:
    repo, _, head = _pull_request(make_repo)
    missing = "1234567890" * 4
    run = _runner(repo, action_dir, installed, tmp_path, "pull_request",
                  _pr_event(missing, head)).run()
    assert run.returncode == 2
    (error,) = [a for a in run.annotations if a.kind == "error"]
    assert missing in error.message and "fetch-depth: 0" in error.message
    assert run.outputs["findings"] == ""
    assert "premerge did not run" in run.summary


def test_the_run_step_uses_the_workflow_python_not_its_own(make_repo, action_dir: Path,
                                                           installed: dict[str, str],
                                                           tmp_path: Path) -> None:
    """premerge runs from its own virtualenv, yet smoke imports the project with the workflow's
    Python (the python3 actions/setup-python put first on PATH), which premerge leaves alone."""
    workflow_bin = tmp_path / "setup-python" / "bin"
    workflow_bin.mkdir(parents=True)
    launcher = workflow_bin / "python3"
    launcher.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n', encoding="utf-8")
    launcher.chmod(0o755)
    seen = tmp_path / "seen.json"
    repo = make_repo({
        "premerge.yaml": 'version: 1\nsmoke:\n  run_scripts: ["probe.py"]\n',
        "probe.py": "import json, sys\n"
                    f"with open({str(seen)!r}, 'w') as handle:\n"
                    "    json.dump({'prefix': sys.prefix, 'premerge': 'premerge' in "
                    "sys.modules or any('premerge-venv' in p for p in sys.path)}, handle)\n",
    })
    runner = _runner(repo, action_dir, installed, tmp_path, "push", {})
    runner.base_env = {**runner.base_env,
                       "PATH": os.pathsep.join([str(workflow_bin), os.environ["PATH"]])}
    run = runner.run({"checks": "smoke"})
    assert _codes(_consistent(run)) == set()
    premerge_venv = Path(installed["python"]).parent.parent
    assert json.loads(seen.read_text(encoding="utf-8")) == {"prefix": sys.prefix,
                                                            "premerge": False}
    assert premerge_venv != Path(sys.prefix) and premerge_venv.name == "premerge-venv"
    version = subprocess.run([installed["python"], "-m", "premerge", "--version"],
                             capture_output=True, text=True, check=True)
    assert version.stdout.startswith("premerge ")
