"""``--fix`` never adds an import that can fail where none could before (issue 11 item 5).

The founding case: PM104's fix hoisted a ``TYPE_CHECKING`` import of an optional package that
is not installed to the top of the module, and the package ``__init__`` importing that module
failed for every user without the extra.  A hoist is kept for what resolves in the project's
environment and is not an extra there; everything else is imported locally where it is used.
Each verdict is checked by running the fixed code in a fresh interpreter.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from premerge.config import Config
from premerge.scope import run
from tests.conftest import run_python
from tests.scope.helpers import last_error, project_venv, write_module
from tests.scope_fix.helpers import codes, scope_run

TYPE_CHECKING_OPTIONAL = """
    from __future__ import annotations

    from typing import TYPE_CHECKING

    if TYPE_CHECKING:
        from premerge_absent_extra import Renderer


    def render(text):
        return Renderer(text)
    """


def test_type_checking_import_of_a_missing_package_is_imported_locally(tmp_path: Path) -> None:
    write_module(tmp_path / "pkg", "from . import view\n", "__init__.py")
    write_module(tmp_path / "pkg", TYPE_CHECKING_OPTIONAL, "view.py")
    assert last_error(run_python("import pkg; pkg.view.render('x')", tmp_path)) == "NameError"

    result = scope_run(tmp_path, fix=True)

    assert codes(result) == []
    fixed = (tmp_path / "pkg" / "view.py").read_text(encoding="utf-8")
    body = fixed.split("def render(text):", 1)[1]
    assert "from premerge_absent_extra import Renderer" in body  # local, in the function
    # the package still imports for a user without the extra; the call says what is missing
    assert last_error(run_python("import pkg", tmp_path)) is None
    assert last_error(run_python("import pkg; pkg.view.render('x')", tmp_path)) == \
        "ModuleNotFoundError"


def test_type_checking_import_of_the_standard_library_still_moves_out(tmp_path: Path) -> None:
    """The clean twin: what always resolves keeps the module-level fix."""
    write_module(tmp_path, TYPE_CHECKING_OPTIONAL.replace(
        "from premerge_absent_extra import Renderer", "from decimal import Decimal as Renderer"))
    scope_run(tmp_path, fix=True)
    fixed = (tmp_path / "mod.py").read_text(encoding="utf-8")
    assert fixed.index("from decimal import Decimal as Renderer") < fixed.index("def render")
    assert "TYPE_CHECKING:" not in fixed
    assert last_error(run_python("import mod; mod.render('1')", tmp_path)) is None


OTHER_FUNCTION = """
    def setup():
        import fancylib
        return fancylib


    def use():
        return fancylib.VALUE
    """


@pytest.fixture(scope="module")
def project_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project virtualenv where ``fancylib`` is installed (premerge's own has no such
    package)."""
    python, site = project_venv(tmp_path_factory.mktemp("project-venv"))
    write_module(site / "fancylib", "VALUE = 1\n", "__init__.py")
    return python


def _fix(root: Path, python: Path) -> None:
    config = Config(root=root)
    config.run.use_cache = False
    config.run.fix = True
    config.run.python = str(python)
    run(config, [str(root)])


@pytest.mark.parametrize("extra, hoisted", [(True, False), (False, True)],
                         ids=["declared-extra-imported-locally", "required-dependency-hoisted"])
def test_installed_package_is_hoisted_only_when_it_is_not_an_extra(
        project_python: Path, tmp_path: Path, extra: bool, hoisted: bool) -> None:
    section = ('[project.optional-dependencies]\nfancy = ["fancylib>=1"]\n' if extra
               else 'dependencies = ["fancylib>=1"]\n')
    (tmp_path / "pyproject.toml").write_text(f'[project]\nname = "demo"\nversion = "1"\n'
                                             f'{section}', encoding="utf-8")
    write_module(tmp_path, OTHER_FUNCTION)
    if sys.version_info < (3, 11):
        pytest.skip("no TOML reader before 3.11: every third-party import is imported locally")

    _fix(tmp_path, project_python)

    fixed = (tmp_path / "mod.py").read_text(encoding="utf-8")
    assert fixed.lstrip().startswith("import fancylib") is hoisted, fixed
    assert fixed.count("import fancylib") == (1 if hoisted else 2), fixed
    assert codes(scope_run(tmp_path)) == []
    # a user without the extra imports the module fine when it was not hoisted
    assert last_error(run_python("import mod", tmp_path)) == (None if not hoisted
                                                              else "ModuleNotFoundError")
