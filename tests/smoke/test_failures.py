"""One fixture project with a module per failure class (and clean twins), smoked once.

Every verdict is checked against Python: a fresh ``python -c "import m"`` (or a call of the
function) really fails the way the finding says, and every clean twin really imports.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.smoke.helpers import SmokeRun, find_python, git_repo, python_in, smoke

FILES = {
    "premerge.yaml": """\
        smoke:
          run_scripts: ["pkg/crash_exit.py"]
        """,
    "pkg/__init__.py": "",
    "pkg/clean.py": """\
        import json
        from pkg import helper

        def load(text):
            return helper.decode(json.loads(text))
        """,
    "pkg/helper.py": """\
        def decode(value):
            return value
        """,
    "pkg/missing_first.py": """\
        import os

        from .gone import thing
        """,
    "pkg/missing_third.py": """\
        import json
        import definitely_not_installed_xyz
        """,
    "pkg/cannot_name.py": """\
        from json import no_such_name_here
        """,
    # importing cyc_a first works (cyc_b finds cyc_a half-done, which is fine for it);
    # importing cyc_b first fails: a one-process smoke test that imports cyc_a first misses it
    "pkg/cyc_a.py": """\
        from pkg.cyc_b import VALUE
        """,
    "pkg/cyc_b.py": """\
        import pkg.cyc_a
        VALUE = 1
        """,
    "pkg/syntax.py": """\
        x = 1
        def broken(:
            pass
        """,
    "pkg/name_err.py": """\
        import functools

        @undefined_decorator
        def f():
            pass
        """,
    "pkg/boom.py": """\
        SETTINGS = {}
        PORT = SETTINGS["port"]
        """,
    "pkg/exits.py": """\
        import sys
        sys.stderr.write("usage: exits FILE\\n")
        raise SystemExit(2)
        """,
    "pkg/crash_segv.py": """\
        import ctypes
        ctypes.string_at(0)
        """,
    "pkg/crash_exit.py": """\
        import os
        os._exit(7)
        """,
    "pkg/uses_boom.py": """\
        import pkg.boom
        """,
    "pkg/orch.py": """\
        class Orchestrator:
            def setup(self):
                from json import JSONDecoder as BriefingSystem
                self.system = BriefingSystem()

            def run(self):
                return BriefingSystem()
        """,
}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return git_repo(tmp_path_factory.mktemp("failures") / "repo", FILES)


@pytest.fixture(scope="module")
def result(project: Path) -> SmokeRun:
    return smoke(project, "--timeout", "10")


def test_exit_code_and_module_field(result: SmokeRun) -> None:
    assert result.code == 1
    assert all(f["module"] for f in result.findings)
    assert result.one("pkg/boom.py", "PM307")["module"] == "pkg.boom"


def test_clean_modules_are_silent(result: SmokeRun, project: Path) -> None:
    for clean in ("pkg/__init__.py", "pkg/clean.py", "pkg/helper.py", "pkg/cyc_a.py"):
        assert result.by_path(clean) == [], clean
    proc = python_in(project, "import pkg.clean, pkg.helper; print(pkg.clean.load('[1]'))")
    assert proc.returncode == 0 and proc.stdout.strip() == "[1]"


def test_missing_first_party(result: SmokeRun, project: Path) -> None:
    finding = result.one("pkg/missing_first.py", "PM301")
    assert finding["line"] == 3 and "'pkg.gone'" in finding["message"]
    proc = python_in(project, "import pkg.missing_first")
    assert "ModuleNotFoundError: No module named 'pkg.gone'" in proc.stderr


def test_missing_third_party(result: SmokeRun, project: Path) -> None:
    finding = result.one("pkg/missing_third.py", "PM302")
    assert finding["line"] == 2
    assert "'definitely_not_installed_xyz'" in finding["message"]
    assert "not installed for" in finding["message"]
    assert "ModuleNotFoundError" in python_in(project, "import pkg.missing_third").stderr


def test_cannot_import_name(result: SmokeRun, project: Path) -> None:
    finding = result.one("pkg/cannot_name.py", "PM303")
    assert finding["line"] == 1
    assert "cannot import name 'no_such_name_here' from 'json'" in finding["message"]
    assert "ImportError" in python_in(project, "import pkg.cannot_name").stderr


def test_circular_import_that_one_process_misses(result: SmokeRun, project: Path) -> None:
    # one process importing everything in order sees nothing ...
    assert python_in(project, "import pkg.cyc_a, pkg.cyc_b").returncode == 0
    # ... but importing cyc_b first (a fresh interpreter, a test runner) fails
    proc = python_in(project, "import pkg.cyc_b")
    assert "circular import" in proc.stderr
    finding = result.one("pkg/cyc_b.py", "PM304")
    assert finding["line"] == 1
    assert "pkg.cyc_b -> pkg.cyc_a -> pkg.cyc_b" in finding["message"]
    related = [(r["path"], r["line"]) for r in finding["related"]]
    assert related == [("pkg/cyc_b.py", 1), ("pkg/cyc_a.py", 1)]
    assert result.by_path("pkg/cyc_a.py") == []


def test_syntax_error(result: SmokeRun) -> None:
    finding = result.one("pkg/syntax.py", "PM305")
    assert finding["line"] == 2 and "pkg/syntax.py:2" in finding["message"]


def test_name_error_at_import(result: SmokeRun, project: Path) -> None:
    finding = result.one("pkg/name_err.py", "PM306")
    assert finding["line"] == 3 and "undefined_decorator" in finding["message"]
    assert "NameError" in python_in(project, "import pkg.name_err").stderr


def test_other_exception_and_folding(result: SmokeRun, project: Path) -> None:
    finding = result.one("pkg/boom.py", "PM307")
    assert finding["line"] == 2 and "KeyError" in finding["message"]
    # pkg.uses_boom fails only because pkg.boom does: folded into boom's finding
    assert result.by_path("pkg/uses_boom.py") == []
    assert ("pkg/uses_boom.py", 1) in [(r["path"], r["line"]) for r in finding["related"]]
    assert "KeyError" in python_in(project, "import pkg.uses_boom").stderr


def test_system_exit(result: SmokeRun, project: Path) -> None:
    finding = result.one("pkg/exits.py", "PM308")
    assert finding["line"] == 3
    assert "SystemExit(2)" in finding["message"] and "usage: exits FILE" in finding["message"]
    assert python_in(project, "import pkg.exits").returncode == 2


def test_crash_by_signal_and_os_exit(result: SmokeRun, project: Path) -> None:
    segv = result.one("pkg/crash_segv.py", "PM310")
    assert "SIGSEGV" in segv["message"] and segv["line"] == 2
    assert python_in(project, "import pkg.crash_segv").returncode < 0
    exited = result.one("pkg/crash_exit.py", "PM310")
    assert "status 7" in exited["message"]
    assert python_in(project, "import pkg.crash_exit").returncode == 7


def test_runtime_global_check_finds_the_orchestrator_bug(result: SmokeRun,
                                                         project: Path) -> None:
    finding = result.one("pkg/orch.py", "PM313")
    assert finding["line"] == 7
    assert finding["message"] == ("calling Orchestrator.run raises NameError: 'BriefingSystem' "
                                  "does not exist in module pkg.orch")
    proc = python_in(project, "import pkg.orch\no = pkg.orch.Orchestrator()\no.setup()\n"
                              "o.run()")
    assert "NameError: name 'BriefingSystem' is not defined" in proc.stderr


def test_fresh_fallback_classifies_the_same(result: SmokeRun, project: Path) -> None:
    fresh = smoke(project, "--timeout", "10", env={"PREMERGE_SMOKE_FRESH": "1"})
    assert sorted((f["path"], f["code"], f["line"]) for f in fresh.findings) == \
        sorted((f["path"], f["code"], f["line"]) for f in result.findings)


@pytest.mark.parametrize("version", ["3.9", "3.13"])
def test_other_interpreter_versions_classify_the_same(result: SmokeRun, project: Path,
                                                      version: str) -> None:
    python = find_python(version)
    if python is None:
        pytest.skip(f"no working python{version} here")
    other = smoke(project, "--timeout", "10", python=python)
    assert other.findings, other.stderr
    got = sorted((f["path"], f["code"], f["line"]) for f in other.findings)
    want = sorted((f["path"], f["code"], f["line"]) for f in result.findings)
    assert got == want


def test_json_paths_are_relative_and_no_progress_line_off_a_terminal(result: SmokeRun) -> None:
    assert all(not f["path"].startswith("/") for f in result.findings)
    assert "\r[" not in result.stderr


def test_missing_distribution_metadata_is_not_a_missing_module(tmp_path: Path) -> None:
    """``importlib.metadata.version()`` of a distribution that is not installed raises
    PackageNotFoundError, a ModuleNotFoundError subclass: PM307 naming the distribution, not
    PM301 "'mypkg' is not in the repository" for a package that is right there."""
    project = git_repo(tmp_path / "repo", {
        "mypkg/__init__.py": """\
            from importlib.metadata import version
            __version__ = version("mypkg_not_installed_xyz")
            """,
        "mypkg/core.py": "import mypkg\n",
    })
    run = smoke(project)
    assert run.code == 1
    assert not [f for f in run.findings if f["code"] in ("PM301", "PM302")], run.findings
    finding = run.one("mypkg/__init__.py", "PM307")
    assert "PackageNotFoundError" in finding["message"]
    assert "no installed distribution 'mypkg_not_installed_xyz'" in finding["message"]
    assert "pip install -e ." in finding["message"]
    proc = python_in(project, "import mypkg")
    assert "PackageNotFoundError" in proc.stderr and proc.returncode == 1
