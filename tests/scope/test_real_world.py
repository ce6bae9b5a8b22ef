"""False positives found by running `premerge scope` on installed third-party packages (pip's
vendored rich/urllib3/pyparsing, setuptools, PyYAML), reduced to minimal twins.

Each clean case must be silent *and* run cleanly in a fresh interpreter; each buggy twin keeps
the finding and really raises.  (Same rules as ``test_verdicts``: Python has the last word.)
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.scope.helpers import execute, last_error, scope_findings, write_module
from tests.scope.test_verdicts import Case

CLEAN = [
    # rich/console.py: probe for a name an embedding host injects, bail out when it is absent
    Case("nameerror-probe-then-use", """
        def in_notebook():
            try:
                get_ipython
            except NameError:
                return False
            return get_ipython() is not None
        """, "import mod; assert mod.in_notebook() is False"),
    # rich/pretty.py
    Case("globals-membership-guard", """
        def install():
            if "get_ipython" in globals():
                return get_ipython()
            return None
        """, "import mod; assert mod.install() is None"),
    # urllib3/util/url.py: six.raise_from() in the handler never returns
    Case("six-raise-from-ends-the-handler", """
        class six:
            @staticmethod
            def raise_from(value, source):
                raise value from source

        def encode(name):
            try:
                import no_such_module_premerge as idna
            except ImportError:
                six.raise_from(ValueError("no idna"), None)
            return idna.encode(name)
        """, "import mod\ntry:\n    mod.encode('x')\nexcept ValueError:\n    pass"),
    # a module function that always raises ends the path like `raise`
    Case("local-noreturn-helper-ends-the-handler", """
        def _missing(what):
            raise RuntimeError(what + " is not installed")

        def encode(name):
            try:
                import no_such_module_premerge as idna
            except ImportError:
                _missing("idna")
            return idna.encode(name)
        """, "import mod\ntry:\n    mod.encode('x')\nexcept RuntimeError:\n    pass"),
    # urllib3/contrib/pyopenssl.py: the handler sets the probed name to None and imports the
    # fallback; `if probe: ... else: use fallback`
    Case("import-flag-correlated-with-handler-fallback", """
        try:
            from no_such_module_premerge import probe
        except ImportError:
            probe = None
            from os.path import join as fallback

        if probe:
            def joiner(*parts):
                return probe(*parts)
        else:
            joiner = fallback
        """, "import mod; assert mod.joiner('a', 'b') == 'a/b'"),
    # setuptools/windows_support.py: __import__('ctypes.wintypes') loads the submodule
    Case("dunder-import-loads-the-submodule", """
        import xml
        import email
        import importlib
        __import__("xml.dom")
        importlib.import_module("email.mime")

        def parts():
            return xml.dom, email.mime
        """, "import mod; mod.parts()", flags=("-S",)),
]

BUGGY = [
    Case("nameerror-probe-that-falls-through", """
        def in_notebook():
            try:
                get_ipython
            except NameError:
                pass
            return get_ipython()
        """, "import mod; mod.in_notebook()", ("PM111",), "NameError"),
    Case("nameerror-probe-only-on-one-branch", """
        def in_notebook(flag=False):
            try:
                if flag:
                    get_ipython
            except NameError:
                return False
            return get_ipython()
        """, "import mod; mod.in_notebook()", ("PM111",), "NameError"),
    Case("negative-globals-membership", """
        def install():
            if "get_ipython" not in globals():
                return get_ipython()
        """, "import mod; mod.install()", ("PM111",), "NameError"),
    Case("helper-that-may-return-does-not-end-the-handler", """
        def _maybe_fail(what, strict=False):
            if strict:
                raise RuntimeError(what)

        def encode(name):
            try:
                import no_such_module_premerge as idna
            except ImportError:
                _maybe_fail("idna")
            return idna.encode(name)
        """, "import mod; mod.encode('x')", ("PM105",), "UnboundLocalError"),
    Case("import-flag-wrong-branch", """
        try:
            from os import getcwd as probe
        except ImportError:
            probe = None
            from os.path import join as fallback

        if probe:
            joiner = fallback
        """, "import mod", ("PM102",), "NameError"),
    Case("dunder-import-of-another-submodule", """
        import xml
        __import__("xml.sax")

        def parts():
            return xml.dom
        """, "import mod; mod.parts()", ("PM109",), "AttributeError", flags=("-S",)),
]


@pytest.mark.parametrize("case", CLEAN + BUGGY, ids=lambda c: c.id)
def test_verdict_matches_python(case: Case, tmp_path: Path) -> None:
    path = write_module(tmp_path, case.source)
    findings = scope_findings(tmp_path, path)
    found = sorted(f.code for f in findings if f.code.startswith("PM1"))
    assert tuple(found) == tuple(sorted(case.codes)), [(f.code, f.line, f.message)
                                                       for f in findings]
    proc = execute(tmp_path, case.path, *case.flags)
    assert last_error(proc) == case.error, proc.stderr


def _package(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        write_module(root, text, rel)


def test_star_chain_with_static_all_is_resolved(tmp_path: Path) -> None:
    """PyYAML: ``from .error import *`` where error.py has ``__all__`` and other modules of the
    chain star-import each other: resolved statically (was PM005 "names were not checked")."""
    _package(tmp_path, {
        "pkg/__init__.py": "from .error import *\nfrom .loader import *\n",
        "pkg/error.py": "__all__ = ['Mark']\nimport sys\nclass Mark:\n    pass\n",
        "pkg/reader.py": "__all__ = ['Reader']\nfrom .error import *\nclass Reader:\n"
                         "    def f(self):\n        return self.__dict__\n",
        "pkg/loader.py": "from .reader import *\n\ndef load():\n    return Reader\n",
        "pkg/use.py": "from .loader import *\n\ndef run():\n    return load, Reader\n",
    })
    findings = scope_findings(tmp_path)
    assert findings == [], [(f.path, f.code, f.message) for f in findings]
    proc = execute(tmp_path, "import pkg, pkg.use; pkg.use.run(); pkg.loader.load(); pkg.Mark")
    assert proc.returncode == 0, proc.stderr


def test_star_chain_still_reports_what_no_module_exports(tmp_path: Path) -> None:
    _package(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/error.py": "__all__ = ['Mark']\nclass Mark:\n    pass\nclass Hidden:\n    pass\n",
        "pkg/loader.py": "from .error import *\n\ndef load():\n    return Hidden\n",
    })
    findings = scope_findings(tmp_path)
    assert [(f.code, f.name) for f in findings] == [("PM111", "Hidden")]
    proc = execute(tmp_path, "import pkg.loader; pkg.loader.load()")
    assert last_error(proc) == "NameError"


def test_star_import_of_a_module_that_only_reads_vars_is_resolved(tmp_path: Path) -> None:
    """pyparsing/core.py reads ``vars()`` (no write): its names are still known."""
    _package(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/core.py": "class Literal:\n    pass\n\n_all = [v for v in vars().values()]\n",
        "pkg/common.py": "from .core import *\n\ndef make():\n    return Literal()\n",
    })
    findings = scope_findings(tmp_path)
    assert findings == [], [(f.code, f.message) for f in findings]
    assert execute(tmp_path, "import pkg.common; pkg.common.make()").returncode == 0


def test_star_import_of_a_module_that_writes_globals_stays_a_note(tmp_path: Path) -> None:
    _package(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/core.py": "globals()['Literal'] = object\n",
        "pkg/common.py": "from .core import *\n\ndef make():\n    return Literal()\n",
    })
    codes = [f.code for f in scope_findings(tmp_path)]
    assert codes == ["PM005"]
    assert execute(tmp_path, "import pkg.common; pkg.common.make()").returncode == 0
