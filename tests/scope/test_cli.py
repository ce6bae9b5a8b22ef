"""``premerge scope`` through the command line: formats, exit codes, noqa, --changed, cache,
parallel runs, lazy imports."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import premerge.scope as scope_check
from premerge import startup
from tests.conftest import run_premerge
from tests.scope.helpers import scope_findings

BRANCH_BUG = """\
import json


def dump(obj, pretty):
    if pretty:
        import json
    return json.dumps(obj)
"""
OPTIONAL_BUG = """\
try:
    import no_such_module_premerge
except ImportError:
    pass


def load():
    return no_such_module_premerge.x
"""


def test_text_format_and_exit_1(run_cli, make_repo) -> None:
    repo = make_repo({"pkg/dump.py": BRANCH_BUG})
    result = run_cli("scope", cwd=repo.path)
    assert result.code == 1
    assert result.out.splitlines() == [
        "pkg/dump.py:7:12: PM102 'json' may be unbound here: it is imported only inside an "
        "if/elif branch (line 6)",
        "    pkg/dump.py:6:9: imported here",
    ]
    assert "1 finding (1 error) in 1 file" in result.err


def test_json_format(run_cli, make_repo) -> None:
    repo = make_repo({"pkg/dump.py": BRANCH_BUG})
    result = run_cli("scope", "--format", "json", cwd=repo.path)
    assert result.code == 1
    data = json.loads(result.out)
    [finding] = data["findings"]
    assert finding["code"] == "PM102" and finding["name"] == "json"
    assert finding["path"] == "pkg/dump.py" and (finding["line"], finding["col"]) == (7, 12)
    # the module-level import does not help: one import in dump() makes json local to it
    assert [r["line"] for r in finding["related"]] == [6]
    assert data["summary"]["by_code"] == {"PM102": 1}


def test_clean_repository_exits_0(run_cli, make_repo) -> None:
    repo = make_repo({"ok.py": "import json\n\ndef dump(o):\n    return json.dumps(o)\n"})
    result = run_cli("scope", cwd=repo.path)
    assert (result.code, result.out) == (0, "")


def test_fail_on_levels(run_cli, make_repo) -> None:
    repo = make_repo({"opt.py": OPTIONAL_BUG})
    assert run_cli("scope", cwd=repo.path).code == 0          # a warning, default: error
    assert run_cli("scope", "--fail-on", "warning", cwd=repo.path).code == 1
    bug = make_repo({"dump.py": BRANCH_BUG})
    assert run_cli("scope", "--fail-on", "never", cwd=bug.path).code == 0


def test_usage_and_manifest_errors_exit_2(run_cli, make_repo) -> None:
    repo = make_repo({"a.py": "x = 1\n", "premerge.yaml": "scope:\n  exclud: []\n"})
    result = run_cli("scope", cwd=repo.path)
    assert result.code == 2 and "exclud" in result.err
    assert run_cli("scope", "--fail-on", "sometimes", cwd=repo.path).code == 2


def test_manifest_exclude_applies(run_cli, make_repo) -> None:
    repo = make_repo({"gen/dump.py": BRANCH_BUG, "premerge.yaml": "scope:\n  exclude: [gen]\n"})
    assert run_cli("scope", cwd=repo.path).code == 0


@pytest.mark.parametrize("comment, suppressed", [
    ("  # noqa", True),
    ("  # noqa: PM102", True),
    ("  # noqa:PM101,PM102", True),
    ("  # noqa: PM101", False),
])
def test_noqa(run_cli, make_repo, comment: str, suppressed: bool) -> None:
    source = BRANCH_BUG.replace("return json.dumps(obj)", "return json.dumps(obj)" + comment)
    repo = make_repo({"dump.py": source})
    result = run_cli("scope", cwd=repo.path)
    assert (result.code == 0) is suppressed
    assert ("PM102" in result.out) is not suppressed


def test_changed_only_checks_changed_files(run_cli, make_repo) -> None:
    repo = make_repo({"old.py": BRANCH_BUG, "ok.py": "x = 1\n"})
    repo.git("checkout", "-q", "-b", "feature")
    repo.write("new.py", "def f():\n    return datetime.now()\n")
    repo.write("ok.py", "x = 2\n")
    repo.commit("feature work")
    result = run_cli("scope", "--changed", "--base", "main", "--format", "json",
                     cwd=repo.path)
    data = json.loads(result.out)
    assert [(f["path"], f["code"]) for f in data["findings"]] == [("new.py", "PM111")]
    assert result.code == 1
    everything = run_cli("scope", "--format", "json", cwd=repo.path)
    assert {f["path"] for f in json.loads(everything.out)["findings"]} == {"new.py", "old.py"}


def test_cache_serves_and_invalidates(tmp_path: Path) -> None:
    path = tmp_path / "dump.py"
    path.write_text(BRANCH_BUG)
    first = scope_findings(tmp_path, use_cache=True)
    second = scope_findings(tmp_path, use_cache=True)
    assert [f.to_json() for f in first] == [f.to_json() for f in second]
    assert [f.code for f in first] == ["PM102"]
    path.write_text(BRANCH_BUG.replace("    if pretty:\n        import json\n", ""))
    assert scope_findings(tmp_path, use_cache=True) == []


def test_cache_key_covers_every_analysis_module() -> None:
    """A cached report is as fresh as the code that made it: every scope module the analyzer
    loads is part of the cache key, so editing any of them invalidates old results."""
    code = ("import sys, premerge.scope.analyzer; print(' '.join(m for m in sys.modules if "
            "m.startswith('premerge.scope.') or m == 'premerge.builtin_names'))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=True)
    loaded = {("" if name.startswith("premerge.scope.") else "../") + name.rsplit(".", 1)[1]
              + ".py" for name in proc.stdout.split()}
    assert loaded == set(scope_check._ANALYSIS_MODULES)


def test_large_run_index_serves_and_invalidates(tmp_path: Path) -> None:
    count = scope_check.INDEX_MIN_FILES + 6
    for index in range(count):
        (tmp_path / f"m{index:03}.py").write_text("ok = 1\n")
    assert scope_findings(tmp_path, use_cache=True) == []
    (tmp_path / "m005.py").write_text(BRANCH_BUG)
    assert [f.code for f in scope_findings(tmp_path, use_cache=True)] == ["PM102"]
    assert [f.code for f in scope_findings(tmp_path, use_cache=True)] == ["PM102"]  # warm
    (tmp_path / "m005.py").write_text("ok = 2\n")
    assert scope_findings(tmp_path, use_cache=True) == []


def test_cross_file_answer_follows_other_files(tmp_path: Path) -> None:
    """The cached whole-run answer is dropped when a file the submodule check read changes."""
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "sub.py").write_text("X = 1\n")
    (tmp_path / "user.py").write_text("import pkg\n\ndef f():\n    return pkg.sub.X\n")
    user = tmp_path / "user.py"
    assert [f.code for f in scope_findings(tmp_path, user, use_cache=True)] == ["PM109"]
    (tmp_path / "pkg" / "__init__.py").write_text("from . import sub\n")
    assert scope_findings(tmp_path, user, use_cache=True) == []


def test_parallel_equals_serial(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sources = [BRANCH_BUG, OPTIONAL_BUG, "x = (\n", "def f():\n    return g()\n", "ok = 1\n"]
    for index in range(40):
        (tmp_path / f"m{index:02}.py").write_text(sources[index % len(sources)])
    monkeypatch.setattr(scope_check, "PARALLEL_MIN_FILES", 1000)
    serial = [f.to_json() for f in scope_findings(tmp_path)]
    monkeypatch.setattr(scope_check, "PARALLEL_MIN_FILES", 2)
    from premerge.config import Config

    config = Config(root=tmp_path)
    config.run.use_cache = False
    config.run.jobs = 2
    assert scope_check._jobs(config, 40) == 2
    parallel = [f.to_json() for f in scope_check.run(config, [str(tmp_path)]).findings]
    assert serial == parallel and len(serial) == 32


def test_one_file_run_imports_nothing_heavy(tmp_path: Path) -> None:
    """A one-file pre-commit run must not pay for git, YAML, process pools or JSON reporters."""
    (tmp_path / "one.py").write_text(BRANCH_BUG)
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "premerge", "scope",
                           "one.py"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1, proc.stderr
    imported = {line.split("|")[-1].strip() for line in proc.stderr.splitlines()
                if line.startswith("import time:")}
    assert "premerge.scope.analyzer" in imported
    heavy = {"git", "yaml", "multiprocessing", "concurrent.futures", "premerge.report.json"}
    assert not imported & heavy, imported & heavy


def test_python_dash_m_subprocess(tmp_path: Path) -> None:
    (tmp_path / "one.py").write_text(OPTIONAL_BUG)
    proc = run_premerge("scope", "--format", "json", "one.py", cwd=tmp_path)
    assert proc.returncode == 0
    assert [f["code"] for f in json.loads(proc.stdout)["findings"]] == ["PM105"]


def _imported(*args: str, cwd: Path) -> set[str]:
    """Modules a fresh interpreter imports for ``args``, without ``site`` (whose .pth files may
    load some of them first and hide a regression), finding premerge through PYTHONPATH."""
    import os

    import premerge

    package_root = str(Path(premerge.__file__).resolve().parents[1])
    proc = subprocess.run([sys.executable, "-S", "-X", "importtime", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": package_root})
    return {line.split("|")[-1].strip() for line in proc.stderr.splitlines()
            if line.startswith("import time:")}


def test_one_file_no_cache_run_skips_avoidable_imports(tmp_path: Path) -> None:
    """dataclasses (which pulls in inspect), json, tokenize, typing, tempfile, the hash module
    and shutil (zlib, bz2, lzma: argparse's stock formatter imports it for its width) cost a
    one-file --no-cache run start-up time and do nothing for it."""
    (tmp_path / "one.py").write_text(BRANCH_BUG)
    before = _imported("-c", "pass", cwd=tmp_path)
    during = _imported("-m", "premerge", "scope", "--no-cache", "one.py", cwd=tmp_path)
    assert "premerge.scope.analyzer" in during
    avoidable = {"dataclasses", "inspect", "json", "tokenize", "_blake2", "hashlib", "typing",
                 "tempfile", "subprocess", "shutil", "premerge.files", "premerge.smoke"}
    assert not (during - before) & avoidable, (during - before) & avoidable


def test_a_run_that_ends_the_process_keeps_its_verdicts(tmp_path: Path) -> None:
    import gc

    path = (tmp_path / "one.py").as_posix()
    raw = (BRANCH_BUG + OPTIONAL_BUG).encode()
    plain = scope_check.analyze_file(path, raw, None)
    assert gc.isenabled()
    try:
        kept = scope_check.analyze_file(path, raw, None, ends_process=True)
        assert not gc.isenabled()  # the tree is left for the exit: no collector walks it
        assert len(startup.left_for_exit) == 1
    finally:
        gc.enable()
        startup.left_for_exit.clear()
    assert kept.to_json() == plain.to_json()
    assert [f.code for f in plain.findings] == ["PM102", "PM105"]


@pytest.mark.parametrize(("checks", "collector_left_off"), [("scope", True),
                                                             ("scope,files", False)])
def test_only_a_run_whose_last_check_is_scope_leaves_the_collector_off(
        make_repo, monkeypatch: pytest.MonkeyPatch, checks: str,
        collector_left_off: bool) -> None:
    """The process entry exits right after the run: scope may then leave its last tree to the
    OS with the collector off, but never when another check still runs after it."""
    import gc

    from premerge.cli import main

    repo = make_repo({"one.py": BRANCH_BUG})
    monkeypatch.chdir(repo.path)
    try:
        code = main(["check", "--checks", checks, "--no-cache", "--format", "json",
                     "--output", str(repo.path / "out.json"), "one.py"], ends_process=True)
        assert (not gc.isenabled()) is collector_left_off
    finally:
        gc.enable()
        startup.left_for_exit.clear()
    assert code == 1
    codes = [f["code"] for f in json.loads((repo.path / "out.json").read_text())["findings"]]
    assert "PM102" in codes
