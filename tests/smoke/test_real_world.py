"""Misclassifications found by running `premerge smoke` on installed third-party packages
(GitPython, flask, rich, click, setuptools, docker, pygments, jsonschema), reduced to a small
project.  One smoke run; each verdict is checked against a real interpreter."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.smoke.helpers import SmokeRun, git_repo, python_in, smoke

FILES = {
    "app/__init__.py": "",
    # GitPython's Repo.blame: a TypedDict declared inside a method
    "app/typed.py": """\
        from typing import TypedDict

        def blame():
            class Info(TypedDict, total=False):
                sha: str
                line: int
            return Info(sha="x")
        """,
    # rich: probes for IPython's injected get_ipython; urllib3: a Python 2 branch
    "app/probes.py": """\
        import sys

        def in_notebook():
            try:
                get_ipython
            except NameError:
                return False
            return get_ipython() is not None

        def to_text(obj):
            if isinstance(obj, str) and sys.version_info < (3,):
                obj = unicode(obj, "ascii")
            return obj

        def broken():
            return get_ipython()
        """,
    # flask/sansio/: a directory without __init__.py inside a regular package
    "app/sansio/app.py": """\
        from .blueprints import Blueprint
        from .. import typed

        class App:
            blueprint = Blueprint
        """,
    "app/sansio/blueprints.py": """\
        from .. import typed

        class Blueprint:
            pass
        """,
    # pygments/cmdline.py, jsonschema/cli.py: sys.argv only as a default argument
    "app/cli.py": """\
        import sys

        def main(args=sys.argv[1:]):
            return len(args)
        """,
    # rich/ansi.py: a demo under a platform test *and* the __main__ guard
    "app/demo.py": """\
        import sys

        def render():
            return "ok"

        if sys.platform != "win32" and __name__ == "__main__":
            import subprocess
            subprocess.run(["true"])
        """,
    # pre_commit/resources/empty_template_setup.py: a setup script under another name
    "app/template_setup.py": """\
        from setuptools import setup

        setup(name="placeholder", version="0.0.0", py_modules=[])
        """,
    # pip/__pip-runner__.py: refuses to be imported, on purpose
    "app/runner.py": """\
        import sys

        assert __name__ == "__main__", "Cannot run runner.py as a non-main module"
        sys.exit(0)
        """,
    "app/runner2.py": """\
        if __name__ != "__main__":
            raise RuntimeError("run me, do not import me")
        """,
    # click/_winconsole.py, rich/_win32_console.py: modules for another platform
    "app/wincon.py": """\
        import sys

        assert sys.platform == "win32"
        """,
    "app/winonly.py": """\
        import sys

        if sys.platform == "win32":
            VALUE = 1
        else:
            raise ImportError("app.winonly can only be imported on Windows")
        """,
    # setuptools' msvc9compiler (winreg), docker's npipesocket (pywintypes)
    "app/registry.py": "import winreg\n",
    "app/npipe.py": "import pywintypes\n",
    # psutil/_psaix.py, _pswindows.py: the compiled part for another platform is not built here
    "app/_psaix.py": "from app import _native_aix as cext\n",
    "app/_pswin.py": "from app._native_windows import handle\n",
    # openai/helpers: a message that announces its point on the next lines
    "app/extras.py": """\
        class MissingDependencyError(Exception):
            pass

        raise MissingDependencyError(
            "\\n\\nApp error:\\n\\n    missing `numpy`\\n\\nThis feature requires more:\\n\\n"
            "    $ pip install app[voice]\\n")
        """,
    # the twins: a real missing dependency and a plain failure stay errors
    "app/speedups.py": "from app import _native_speedups\n",
    "app/needs_dep.py": "import no_such_dependency_premerge\n",
    "app/fails.py": """\
        import sys

        if sys.version_info > (3,):
            raise ImportError("refuses everything")
        """,
}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return git_repo(tmp_path_factory.mktemp("real-world") / "repo", FILES)


@pytest.fixture(scope="module")
def result(project: Path) -> SmokeRun:
    return smoke(project)


def test_class_body_annotations_in_a_function_are_not_globals(result: SmokeRun,
                                                              project: Path) -> None:
    assert result.by_path("app/typed.py") == []
    assert python_in(project, "import app.typed; app.typed.blame()").returncode == 0


def test_guarded_probes_and_python2_branches_are_silent(result: SmokeRun, project: Path) -> None:
    found = [(f["code"], f["name"], f["line"]) for f in result.by_path("app/probes.py")]
    assert found == [("PM313", "get_ipython", 16)], found  # only broken()
    proc = python_in(project, "import app.probes as p; p.in_notebook(); p.to_text('x')")
    assert proc.returncode == 0, proc.stderr
    proc = python_in(project, "import app.probes as p; p.broken()")
    assert "NameError" in proc.stderr


def test_namespace_directory_inside_a_package_is_its_subpackage(result: SmokeRun,
                                                                project: Path) -> None:
    assert result.by_path("app/sansio/app.py") == []
    assert result.by_path("app/sansio/blueprints.py") == []
    proc = python_in(project, "import app.sansio.app")
    assert proc.returncode == 0, proc.stderr


def test_argv_default_and_guarded_demo_are_not_scripts(result: SmokeRun) -> None:
    assert result.by_path("app/cli.py") == []
    assert result.by_path("app/demo.py") == []


def test_setup_script_under_another_name_is_not_imported(result: SmokeRun,
                                                         project: Path) -> None:
    finding = result.one("app/template_setup.py", "PM312")
    assert "setuptools.setup()" in finding["message"] and finding["severity"] == "note"
    # importing it really runs setup(), which exits without a command
    proc = python_in(project, "import app.template_setup")
    assert proc.returncode != 0 and "SystemExit" not in proc.stderr  # exits, no traceback


@pytest.mark.skipif(sys.platform == "win32", reason="the fixtures are Windows-only modules")
@pytest.mark.parametrize("relpath,code", [("app/wincon.py", "PM307"),
                                          ("app/winonly.py", "PM307"),
                                          ("app/registry.py", "PM302"),
                                          ("app/npipe.py", "PM302"),
                                          ("app/_psaix.py", "PM303"),
                                          ("app/_pswin.py", "PM301")])
def test_modules_for_another_platform_are_notes(result: SmokeRun, project: Path, relpath: str,
                                                code: str) -> None:
    finding = result.one(relpath, code)
    assert finding["severity"] == "note", finding
    assert "for another platform" in finding["message"]
    module = relpath[:-3].replace("/", ".")
    assert python_in(project, f"import {module}").returncode != 0


def test_other_failures_stay_errors(result: SmokeRun) -> None:
    assert result.one("app/needs_dep.py", "PM302")["severity"] == "error"
    fails = result.one("app/fails.py", "PM307")
    assert fails["severity"] == "error"
    assert "another platform" not in fails["message"]
    # a compiled part whose name says no platform is missing, not foreign
    speedups = result.one("app/speedups.py", "PM303")
    assert speedups["severity"] == "error"
    assert "another platform" not in speedups["message"]


def test_an_announcing_first_line_takes_its_point_with_it(result: SmokeRun,
                                                          project: Path) -> None:
    finding = result.one("app/extras.py", "PM307")
    assert finding["message"].endswith(
        "cannot be imported: MissingDependencyError: App error: missing `numpy`"), finding
    assert "missing `numpy`" in python_in(project, "import app.extras").stderr


def test_no_pseudo_file_frames_in_related_locations(result: SmokeRun) -> None:
    for finding in result.findings:
        for related in finding.get("related") or []:
            assert not str(related["path"]).startswith("<"), finding
            assert "frozen" not in str(related["path"]), finding


@pytest.mark.parametrize("relpath", ["app/runner.py", "app/runner2.py"])
def test_module_that_refuses_import_is_a_script(result: SmokeRun, project: Path,
                                                relpath: str) -> None:
    finding = result.one(relpath, "PM312")
    assert "refuses to be imported" in finding["message"] and finding["severity"] == "note"
    module = relpath[:-3].replace("/", ".")
    assert python_in(project, f"import {module}").returncode != 0  # it really refuses
    assert python_in(project, f"import runpy; runpy.run_module({module!r}, "
                              f"run_name='__main__')").returncode == 0
