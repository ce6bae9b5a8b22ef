"""The runtime global check: found where calling really raises NameError, silent where the
namespace is filled dynamically -- each verdict checked by calling the function."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.smoke.helpers import SmokeRun, git_repo, python_in, smoke

FILES = {
    "lib/__init__.py": "",
    "lib/star.py": """\
        from os.path import *
        globals().update({"injected": 42})
        for _name in ("alpha", "beta"):
            globals()[_name] = _name.upper()

        def uses_star():
            return join("a", "b")

        def uses_injected():
            return injected, alpha, beta
        """,
    "lib/late.py": """\
        def register():
            globals()["plugin"] = object()

        def use():
            return plugin
        """,
    "lib/lazy.py": """\
        def __getattr__(name):
            return name

        def use():
            return anything
        """,
    "lib/globals_stmt.py": """\
        def init():
            global CACHE
            CACHE = {}

        def use():
            return CACHE
        """,
    "lib/conditional.py": """\
        import sys
        if sys.platform == "win32":
            import winreg

        def read():
            if sys.platform == "win32":
                return winreg.HKEY_CURRENT_USER
            return None
        """,
    "lib/nested.py": """\
        import json

        class Outer:
            class Inner:
                def method(self):
                    return [undefined_in_comprehension for _ in range(2)]

            @staticmethod
            def static():
                return json.dumps(1)

            @property
            def prop(self):
                def helper():
                    return undefined_in_closure
                return helper()

        def decorated(func):
            return func

        @decorated
        def wrapped():
            lam = lambda: undefined_in_lambda
            return lam()
        """,
    "lib/dead.py": """\
        import sys
        if sys.version_info < (3, 0):
            def old():
                return undefined_but_never_defined
        """,
    # `os` is imported nowhere: a broad handler hides the NameError, it does not handle it
    "lib/broad.py": """\
        def cwd_or_error():
            try:
                return os.getcwd()
            except Exception as exc:
                return exc

        def cwd_bare():
            try:
                return os.getcwd()
            except:  # noqa: E722
                return None

        def cwd_base():
            try:
                return os.getcwd()
            except BaseException:
                return None
        """,
    # the clean twins: a handler that names NameError expects the name may be missing
    "lib/probe.py": """\
        def cwd_or_none():
            try:
                return os.getcwd()
            except NameError:
                return None
        """,
    "lib/imported.py": """\
        import os

        def cwd_or_error():
            try:
                return os.getcwd()
            except Exception as exc:
                return exc
        """,
}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return git_repo(tmp_path_factory.mktemp("globals") / "repo", FILES)


@pytest.fixture(scope="module")
def result(project: Path) -> SmokeRun:
    return smoke(project)


def test_star_import_and_globals_update_are_silent(result: SmokeRun, project: Path) -> None:
    assert result.by_path("lib/star.py") == []
    proc = python_in(project, "import lib.star as m; print(m.uses_star(), m.uses_injected())")
    assert proc.returncode == 0, proc.stderr


def test_dynamic_namespaces_are_silent(result: SmokeRun) -> None:
    for rel in ("lib/late.py", "lib/lazy.py", "lib/globals_stmt.py", "lib/conditional.py",
                "lib/dead.py"):
        assert result.by_path(rel) == [], rel


def test_nested_code_objects_are_checked(result: SmokeRun, project: Path) -> None:
    found = {(f["line"], f["name"]): f["message"] for f in result.by_path("lib/nested.py")}
    assert set(found) == {(6, "undefined_in_comprehension"), (15, "undefined_in_closure"),
                          (23, "undefined_in_lambda")}
    assert "calling Outer.Inner.method raises NameError" in found[(6,
                                                                  "undefined_in_comprehension")]
    for call in ("m.Outer.Inner().method()", "m.Outer().prop", "m.wrapped()"):
        proc = python_in(project, f"import lib.nested as m\n{call}")
        assert "NameError" in proc.stderr, call
    assert python_in(project, "import lib.nested as m\nm.Outer.static()").returncode == 0


def test_broad_handlers_do_not_guard_a_missing_name(result: SmokeRun, project: Path) -> None:
    found = sorted((f["code"], f["line"], f["name"]) for f in result.by_path("lib/broad.py"))
    assert found == [("PM313", 3, "os"), ("PM313", 9, "os"), ("PM313", 15, "os")], found
    proc = python_in(project, "import lib.broad as m\nprint(type(m.cwd_or_error()).__name__)")
    assert proc.stdout.strip() == "NameError", proc.stderr


def test_a_name_error_handler_and_a_real_import_are_clean(result: SmokeRun,
                                                          project: Path) -> None:
    assert result.by_path("lib/probe.py") == []
    assert result.by_path("lib/imported.py") == []
    proc = python_in(project, "import lib.probe as p, lib.imported as i\n"
                              "assert p.cwd_or_none() is None\n"
                              "assert isinstance(i.cwd_or_error(), str)")
    assert proc.returncode == 0, proc.stderr
