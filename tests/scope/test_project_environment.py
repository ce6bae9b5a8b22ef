"""What the checked project's interpreter loads decides PM109, not premerge's own environment
(issue 11 item 6): a pre-commit hook virtualenv and a local run must agree.

A real virtualenv plays the project's environment; the third-party package lives only there, so
premerge's own interpreter cannot see it.  Verdicts are confirmed by running the module with
that interpreter.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from premerge.config import Config
from premerge.findings import Finding
from premerge.scope import run
from tests.scope.helpers import last_error, project_venv, write_module

USER = """
    import fakemd
    import urllib

    def quote(text):
        return urllib.parse.quote(text)
    """


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The project's interpreter and its site-packages."""
    return project_venv(tmp_path_factory.mktemp("project-venv"))


def _scope(root: Path, python: Path | str) -> list[Finding]:
    config = Config(root=root)
    config.run.use_cache = False
    config.run.python = str(python)
    return [f for f in run(config, [str(root / "mod.py")]).findings if f.code == "PM109"]


def _run_in_project(python: Path, site: Path, root: Path) -> str | None:
    """The module run by the project's interpreter without site (nothing else pre-imported),
    its site-packages on the path."""
    code = (f"import sys; sys.path[:0] = [{str(root)!r}, {str(site)!r}]; "
            "import mod; mod.quote('a b')")
    return last_error(subprocess.run([str(python), "-S", "-c", code], capture_output=True,
                                     text=True, timeout=60, cwd=root))


@contextlib.contextmanager
def _project_package(site: Path, init: str) -> Iterator[None]:
    """``fakemd`` installed in the project's site-packages only, for the ``with`` block."""
    package = site / "fakemd"
    write_module(package, init, "__init__.py")
    try:
        yield
    finally:
        (package / "__init__.py").unlink()
        package.rmdir()


def test_submodule_loaded_by_a_package_only_the_project_has_is_silent(
        project: tuple[Path, Path], tmp_path: Path) -> None:
    project_python, site = project
    with _project_package(site, "import urllib.parse\n"):
        write_module(tmp_path, USER)
        assert __import__("importlib.util").util.find_spec("fakemd") is None  # not ours
        assert _scope(tmp_path, project_python) == []
        assert _run_in_project(project_python, site, tmp_path) is None


def test_package_in_the_project_that_does_not_load_it_is_reported(
        project: tuple[Path, Path], tmp_path: Path) -> None:
    project_python, site = project
    with _project_package(site, "VERSION = 1\n"):
        write_module(tmp_path, USER)
        assert [f.name for f in _scope(tmp_path, project_python)] == ["urllib.parse"]
        assert _run_in_project(project_python, site, tmp_path) == "AttributeError"


def test_import_no_environment_resolves_is_silent(project: tuple[Path, Path],
                                                  tmp_path: Path) -> None:
    """Neither premerge's interpreter nor the project's has the package: what it loads is
    unknown, so PM109 stays silent rather than guess."""
    project_python = project[0]
    write_module(tmp_path, USER)
    assert _scope(tmp_path, project_python) == []
    assert _scope(tmp_path, sys.executable) == []


def test_stdlib_only_file_is_still_reported(project: tuple[Path, Path], tmp_path: Path) -> None:
    project_python = project[0]
    write_module(tmp_path, "import urllib\n\ndef quote(text):\n"
                           "    return urllib.parse.quote(text)\n")
    assert [f.name for f in _scope(tmp_path, project_python)] == ["urllib.parse"]
