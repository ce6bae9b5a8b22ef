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
