"""Runtime namespaces refine static scope findings -- only where they disprove them."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from premerge.config import load_config
from premerge.findings import Finding
from premerge.smoke import run as smoke_run
from premerge.smoke.refine import refine_scope_findings
from tests.smoke.helpers import git_repo, python_in

SOURCE = """\
globals()["injected"] = 1


def uses_injected():
    return injected


def uses_local():
    if False:
        injected = 2
    return injected


def uses_missing():
    return truly_missing
"""


@pytest.fixture(scope="module")
def facts(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, object]]:
    repo = git_repo(tmp_path_factory.mktemp("refine") / "repo", {"mod.py": SOURCE})
    config = load_config(repo)
    config.run.python = sys.executable
    config.run.use_cache = False
    result = smoke_run(config, [])
    return repo, result.facts


def _finding(repo: Path, code: str, line: int, name: str) -> Finding:
    return Finding(code=code, message="static", path=(repo / "mod.py").as_posix(), line=line,
                   col=12, name=name)


def test_facts_hold_the_runtime_namespace(facts: tuple[Path, dict[str, object]]) -> None:
    repo, data = facts
    namespaces = data["namespaces"]
    assert isinstance(namespaces, dict)
    names = namespaces[(repo / "mod.py").as_posix()]
    assert "injected" in names and "truly_missing" not in names


def test_bound_nowhere_is_disproved_by_an_injected_global(
        facts: tuple[Path, dict[str, object]]) -> None:
    repo, data = facts
    injected = _finding(repo, "PM111", 5, "injected")
    assert refine_scope_findings([injected], data) == []
    assert python_in(repo, "import mod; mod.uses_injected()").returncode == 0


def test_local_scope_bugs_and_truly_missing_names_stay(
        facts: tuple[Path, dict[str, object]]) -> None:
    repo, data = facts
    local = _finding(repo, "PM102", 11, "injected")  # UnboundLocalError: a local name
    local_as_111 = _finding(repo, "PM111", 11, "injected")  # a local load is never dropped
    missing = _finding(repo, "PM111", 15, "truly_missing")
    other_file = Finding(code="PM111", message="x", path="/elsewhere.py", line=5,
                         name="injected")
    kept = [local, local_as_111, missing, other_file]
    assert refine_scope_findings(kept, data) == kept
    assert "UnboundLocalError" in python_in(repo, "import mod; mod.uses_local()").stderr
    assert "NameError" in python_in(repo, "import mod; mod.uses_missing()").stderr


def test_possibly_unbound_is_not_disproved_by_one_environment(
        facts: tuple[Path, dict[str, object]]) -> None:
    repo, data = facts
    for code in ("PM102", "PM105"):
        finding = _finding(repo, code, 5, "injected")
        assert refine_scope_findings([finding], data) == [finding]


def test_all_entry_disproved_by_namespace(facts: tuple[Path, dict[str, object]]) -> None:
    repo, data = facts
    assert refine_scope_findings([_finding(repo, "PM110", 1, "injected")], data) == []
    kept = _finding(repo, "PM110", 1, "truly_missing")
    assert refine_scope_findings([kept], data) == [kept]


def test_no_facts_changes_nothing() -> None:
    finding = Finding(code="PM111", message="x", path="/a.py", line=1, name="n")
    assert refine_scope_findings([finding], {}) == [finding]
