"""Every rule's buggy fixtures and their clean twins, checked against a real interpreter.

For each case the scope check must report exactly ``codes`` (no more), and running ``path`` in a
fresh interpreter must raise ``error`` (buggy) or succeed (clean, ``error=None``).  So every
verdict of the analyzer is confirmed by Python itself.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.scope.helpers import execute, last_error, scope_findings, write_module


@dataclass(frozen=True)
class Case:
    id: str
    source: str
    path: str                     # code run after the module is on the path
    codes: tuple[str, ...] = ()   # expected scope codes (sorted)
    error: str | None = None      # exception the path raises, None when it runs cleanly
    flags: tuple[str, ...] = ()   # interpreter flags (-S: no site, nothing pre-imported)


BUGGY = [
    Case("pm101-method", """
        class Orchestrator:
            def run(self):
                from collections import OrderedDict as Briefing
                return Briefing()

            def start(self):
                return Briefing()
        """, "import mod; mod.Orchestrator().start()", ("PM101",), "NameError"),
    Case("pm101-sibling-function", """
        def setup():
            import json
            return json

        def dump(obj):
            return json.dumps(obj)
        """, "import mod; mod.setup(); mod.dump(1)", ("PM101",), "NameError"),
    Case("pm101-module-level-use", """
        def helper():
            import json
            return json

        print(json.dumps(1))
        """, "import mod", ("PM101",), "NameError"),
    Case("pm102-if-branch-in-function", """
        import json

        def dump(obj, pretty):
            if pretty:
                import json
            return json.dumps(obj)
        """, "import mod; mod.dump({}, False)", ("PM102",), "UnboundLocalError"),
    Case("pm102-elif-chain", """
        def fmt(kind, obj):
            if kind == "json":
                import json
            elif kind == "repr":
                pass
            else:
                import json
            return json.dumps(obj)
        """, "import mod; mod.fmt('repr', 1)", ("PM102",), "UnboundLocalError"),
    Case("pm102-loop-zero-iterations", """
        def first(items):
            for item in items:
                import json
            return json.dumps(items)
        """, "import mod; mod.first([])", ("PM102",), "UnboundLocalError"),
    Case("pm102-while-loop", """
        def poll(n):
            while n > 0:
                import json
                n -= 1
            return json.dumps(n)
        """, "import mod; mod.poll(0)", ("PM102",), "UnboundLocalError"),
    Case("pm102-try-handler", """
        def load(path):
            try:
                handle = open(path)
                import json
            except OSError:
                return json.dumps(None)
            return handle
        """, "import mod; mod.load('/nonexistent/file')", ("PM102",), "UnboundLocalError"),
    Case("pm102-finally", """
        def load(path):
            try:
                open(path)
                import json
            finally:
                print(json.dumps(path))
        """, "import mod; mod.load('/nonexistent/file')", ("PM102",), "UnboundLocalError"),
    Case("pm102-match-case", """
        def handle(command):
            match command:
                case "json":
                    import json
                case _:
                    pass
            return json.dumps(command)
        """, "import mod; mod.handle('other')", ("PM102",), "UnboundLocalError"),
    Case("pm102-module-level-branch", """
        import sys

        if sys.platform == "no-such-platform":
            import json
        print(json.dumps(1))
        """, "import mod", ("PM102",), "NameError"),
    Case("pm103-use-before-import", """
        def cwd():
            here = os.getcwd()
            import os
            return here
        """, "import mod; mod.cwd()", ("PM103",), "UnboundLocalError"),
    Case("pm103-after-del-in-function", """
        def f():
            import json
            del json
            return json.dumps(1)
        """, "import mod; mod.f()", ("PM103",), "UnboundLocalError"),
    Case("pm103-after-module-del", """
        import json
        del json

        def dump(obj):
            return json.dumps(obj)
        """, "import mod; mod.dump(1)", ("PM103",), "NameError"),
    Case("pm104-type-checking-runtime-use", """
        from typing import TYPE_CHECKING

        if TYPE_CHECKING:
            from decimal import Decimal

        def half(x):
            return Decimal(x) / 2
        """, "import mod; mod.half(1)", ("PM104",), "NameError"),
    Case("pm104-typing-dot-type-checking-annotation", """
        import typing as t

        if t.TYPE_CHECKING:
            from decimal import Decimal

        def half(x: Decimal) -> Decimal:
            return x
        """, "import mod", ("PM104", "PM104"), "NameError"),
    Case("pm105-optional-import-unguarded", """
        try:
            import no_such_module_premerge
        except ImportError:
            pass

        def load(text):
            return no_such_module_premerge.loads(text)
        """, "import mod; mod.load('1')", ("PM105",), "NameError"),
    Case("pm105-module-level-use", """
        try:
            from no_such_module_premerge import loads
        except ImportError:
            print("optional dependency missing")
        VALUE = loads("1")
        """, "import mod", ("PM105",), "NameError"),
    Case("pm105-suppress", """
        from contextlib import suppress

        with suppress(ImportError):
            import no_such_module_premerge

        def load():
            return no_such_module_premerge.x
        """, "import mod; mod.load()", ("PM105",), "NameError"),
    Case("pm106-main-block-only", """
        def main():
            return argparse.ArgumentParser()

        if __name__ == "__main__":
            import argparse
            main()
        """, "import mod; mod.main()", ("PM106",), "NameError"),
    Case("pm106-main-block-variable", """
        def run():
            return settings["debug"]

        if __name__ == "__main__":
            settings = {"debug": True}
            run()
        """, "import mod; mod.run()", ("PM106",), "NameError"),
    Case("pm107-class-body-import", """
        class Loader:
            import json

            def load(self, text):
                return json.loads(text)
        """, "import mod; mod.Loader().load('1')", ("PM107",), "NameError"),
    Case("pm108-decorator-before-import", """
        @functools.lru_cache(maxsize=None)
        def cached():
            return 1

        import functools
        """, "import mod", ("PM108",), "NameError"),
    Case("pm108-default-before-import", """
        def join(parts, sep=os.sep):
            return sep.join(parts)

        import os
        """, "import mod", ("PM108",), "NameError"),
    Case("pm108-class-base-before-import", """
        class Shape(abc.ABC):
            pass

        import abc
        """, "import mod", ("PM108",), "NameError"),
    Case("pm108-class-body-before-import", """
        class Config:
            SEP = os.sep

        import os
        """, "import mod", ("PM108",), "NameError"),
    Case("pm108-annotation-before-import", """
        def read(path: pathlib.Path) -> str:
            return ""

        import pathlib
        """, "import mod", ("PM108",), "NameError"),
    Case("pm109-submodule-never-imported", """
        import xml

        def parse(text):
            return xml.etree.ElementTree.fromstring(text)
        """, "import mod; mod.parse('<a/>')", ("PM109",), "AttributeError"),
    Case("pm109-importlib-util", """
        import importlib

        def find(name):
            return importlib.util.find_spec(name)
        """, "import mod; mod.find('json')", ("PM109",), "AttributeError", ("-S",)),
    Case("pm110-undefined-export", """
        __all__ = ["load", "dump"]

        def load():
            return 1
        """, "from mod import *", ("PM110",), "AttributeError"),
    Case("pm104-module-annotation", """
        from typing import TYPE_CHECKING

        if TYPE_CHECKING:
            from decimal import Decimal

        RATE: Decimal = 1
        """, "import mod", ("PM104",), "NameError"),
    Case("pm102-class-body-branch", """
        import sys

        class Settings:
            if sys.platform == "no-such-platform":
                import json
            DUMP = json.dumps
        """, "import mod", ("PM102",), "NameError"),
    Case("pm102-except-handler-only", """
        def load(text):
            try:
                value = int(text)
            except ValueError:
                import json
            return json.loads(text)
        """, "import mod; mod.load('1')", ("PM102",), "UnboundLocalError"),
    Case("handler-only-path-is-bound", """
        def load(text):
            try:
                return int(text)
            except ValueError:
                import json
            return json.loads(text)
        """, "import mod; mod.load('1'); mod.load('[1]')"),
    Case("pm111-missing-import", """
        def now():
            return datetime.now()
        """, "import mod; mod.now()", ("PM111",), "NameError"),
    # an existence test guards only where it was true: not the right side of an `or`, not
    # another name
    Case("pm111-existence-test-or-does-not-guard", """
        def load(text):
            return "yaml" in globals() or yaml.safe_load(text)
        """, "import mod; mod.load('a')", ("PM111",), "NameError"),
    Case("pm111-existence-test-of-another-name", """
        def load(text):
            if "json" in globals() and yaml:
                return yaml.safe_load(text)
            return yaml
        """, "import mod; mod.load('a')", ("PM111", "PM111", "PM111"), "NameError"),
]

CLEAN = [
    Case("none-flag-early-return", """
        def run(items):
            workers = len(items)
            try:
                from no_such_module_premerge import Pool
            except ImportError:
                workers = None
            if workers is None:
                return list(items)
            return Pool(workers)
        """, "import mod; mod.run([1])"),
    Case("class-level-guard-for-methods", """
        try:
            import no_such_module_premerge
        except ImportError:
            _have_it = False
        else:
            _have_it = True

        class Popen:
            if _have_it:
                def handle(self):
                    return no_such_module_premerge.x
            else:
                def handle(self):
                    return None
        """, "import mod; mod.Popen().handle()"),
    Case("not-type-checking-runs", """
        from typing import TYPE_CHECKING

        if not TYPE_CHECKING:
            import json

        def dump():
            return json.dumps(1)
        """, "import mod; mod.dump()"),
    Case("existence-test-guard", """
        try:
            from no_such_module_premerge import helper
        except ImportError:
            pass

        if "helper" in globals():
            VALUE = helper()
        """, "import mod"),
    # an existence test guards the rest of its `and`, the `if` body it opens and a ternary,
    # in a file without other guard facts as much as in one with them
    Case("existence-test-guard-in-and", """
        def load(text):
            if "yaml" in globals() and yaml:
                return yaml.safe_load(text)
            return None


        def load_inline(text):
            return "yaml" in globals() and yaml.safe_load(text)


        def load_ternary(text):
            return yaml.safe_load(text) if "yaml" in globals() else None


        def load_late(text, ready=True):
            return ready and "yaml" in globals() and yaml.safe_load(text)


        def load_negated(text):
            if not ("yaml" in globals() and yaml):
                return None
            return yaml.safe_load(text)
        """, "import mod; assert mod.load('a: 1') is None and mod.load_inline('a') is False; "
             "assert mod.load_ternary('a') is None and mod.load_late('a') is False; "
             "assert mod.load_negated('a') is None"),
    Case("existence-test-guard-in-and-with-flags", """
        try:
            import json
            HAS_JSON = True
        except ImportError:
            HAS_JSON = False


        def load(text):
            if "yaml" in globals() and yaml:
                return yaml.safe_load(text)
            return None
        """, "import mod; assert mod.load('a: 1') is None"),
    Case("closure-sees-outer-import", """
        def outer():
            import json

            def inner():
                return json.dumps(1)
            return inner()
        """, "import mod; mod.outer()"),
    Case("global-declared-import", """
        def setup():
            global json
            import json

        def use():
            return json.dumps(1)
        """, "import mod; mod.setup(); mod.use()"),
    Case("nonlocal-bound", """
        def outer():
            value = None

            def set_it():
                nonlocal value
                import json as value
            set_it()
            return value.dumps(1)
        """, "import mod; mod.outer()"),
    Case("fallback-none", """
        try:
            import no_such_module_premerge
        except ImportError:
            no_such_module_premerge = None

        def load():
            if no_such_module_premerge is not None:
                return no_such_module_premerge.x
            return None
        """, "import mod; mod.load()"),
    Case("fallback-definition", """
        try:
            from no_such_module_premerge import loads
        except ImportError:
            def loads(text):
                return text

        def load(text):
            return loads(text)
        """, "import mod; mod.load('1')"),
    Case("flag-guard", """
        try:
            import no_such_module_premerge
            HAS_IT = True
        except ImportError:
            HAS_IT = False

        def load():
            if HAS_IT:
                return no_such_module_premerge.x
            return None
        """, "import mod; mod.load()"),
    Case("flag-guard-early-raise", """
        try:
            import no_such_module_premerge
        except ImportError:
            _have_it = False
        else:
            _have_it = True

        def load():
            if not _have_it:
                raise RuntimeError("missing")
            return no_such_module_premerge.x
        """, "import mod\ntry:\n    mod.load()\nexcept RuntimeError:\n    pass"),
    Case("handler-raises", """
        try:
            import json
        except ImportError:
            raise SystemExit("json is required")

        def dump():
            return json.dumps(1)
        """, "import mod; mod.dump()"),
    Case("handler-exits", """
        import sys
        try:
            import json
        except ImportError:
            sys.exit(1)
        print(json.dumps(1))
        """, "import mod"),
    Case("try-nameerror-guard", """
        def probe():
            try:
                undefined_thing_premerge
            except NameError:
                return False
            return True
        """, "import mod; mod.probe()"),
    Case("type-checking-else-rebinds", """
        from typing import TYPE_CHECKING

        if TYPE_CHECKING:
            from decimal import Decimal
        else:
            Decimal = float

        def half(x):
            return Decimal(x) / 2
        """, "import mod; mod.half(1)"),
    Case("type-checking-string-annotation", """
        from typing import TYPE_CHECKING, cast

        if TYPE_CHECKING:
            from decimal import Decimal

        def half(x: "Decimal") -> "Decimal":
            local: Decimal = x
            return cast("Decimal", local)
        """, "import mod; mod.half(1)"),
    Case("type-checking-future-annotations", """
        from __future__ import annotations

        from typing import TYPE_CHECKING

        if TYPE_CHECKING:
            from decimal import Decimal

        VALUE: Decimal

        def half(x: Decimal) -> Decimal:
            return x

        class Box:
            content: Decimal
        """, "import mod; mod.half(1)"),
    Case("import-on-every-path", """
        def fmt(pretty):
            if pretty:
                import json
            else:
                import json
            return json.dumps(1)
        """, "import mod; mod.fmt(False)"),
    Case("while-true-break", """
        def load():
            while True:
                import json
                break
            return json.dumps(1)
        """, "import mod; mod.load()"),
    Case("try-finally-then-use", """
        def load():
            try:
                import json
            finally:
                pass
            return json.dumps(1)
        """, "import mod; mod.load()"),
    Case("same-condition-guard", """
        import sys

        if sys.platform == "no-such-platform":
            import no_such_module_premerge

        def use():
            if sys.platform == "no-such-platform":
                return no_such_module_premerge.x
            return None
        """, "import mod; mod.use()"),
    Case("defined-under-same-condition", """
        import sys

        if sys.platform == "no-such-platform":
            import no_such_module_premerge

            def use():
                return no_such_module_premerge.x
        """, "import mod"),
    Case("comprehension-and-lambda-see-enclosing", """
        def render(items):
            import json
            key = lambda item: json.dumps(item)
            return [json.dumps(i) for i in items], sorted(items, key=key)
        """, "import mod; mod.render([2, 1])"),
    Case("class-body-uses-its-import", """
        class Loader:
            import json
            DUMPED = json.dumps(1)

            def load(self, text):
                return self.json.loads(text)
        """, "import mod; mod.Loader().load('1')"),
    Case("module-falls-back-to-builtin", """
        import sys

        if sys.platform == "no-such-platform":
            from builtins import ValueError as Exception

        class Failure(Exception):
            pass
        """, "import mod; mod.Failure()"),
    Case("main-block-uses-its-import", """
        def main(parser):
            return parser

        if __name__ == "__main__":
            import argparse
            main(argparse.ArgumentParser())
        """, "import runpy; runpy.run_path('mod.py', run_name='__main__')"),
    Case("submodule-imported", """
        import xml.etree.ElementTree
        import os

        def parse(text):
            return xml.etree.ElementTree.fromstring(text), os.path.sep
        """, "import mod; mod.parse('<a/>')"),
    Case("all-complete", """
        __all__ = ["load"]
        __all__ += ["dump"]

        def load():
            return 1

        def dump():
            return 2
        """, "from mod import *; load(); dump()"),
    Case("builtins-and-dunders", """
        def where():
            return __file__, __name__, len([]), __doc__
        """, "import mod; mod.where()"),
    Case("walrus-binds-enclosing", """
        def first_json(values):
            if any((json := __import__('json')) for _ in values):
                return json.dumps(1)
            return None
        """, "import mod; mod.first_json([1])"),
]


@pytest.mark.parametrize("case", BUGGY + CLEAN, ids=lambda c: c.id)
def test_verdict_matches_python(case: Case, tmp_path: Path) -> None:
    path = write_module(tmp_path, case.source)
    found = sorted(f.code for f in scope_findings(tmp_path, path) if f.code.startswith("PM1"))
    assert tuple(found) == tuple(sorted(case.codes)), [
        (f.code, f.line, f.message) for f in scope_findings(tmp_path, path)]
    proc = execute(tmp_path, case.path, *case.flags)
    assert last_error(proc) == case.error, proc.stderr


@pytest.mark.parametrize("case", BUGGY, ids=lambda c: c.id)
def test_every_finding_names_the_name_and_explains(case: Case, tmp_path: Path) -> None:
    path = write_module(tmp_path, case.source)
    for finding in scope_findings(tmp_path, path):
        assert finding.name, finding
        assert finding.line and finding.col
        assert f"'{finding.name}'" in finding.message
        assert finding.key.endswith(finding.name)
        if finding.code in ("PM101", "PM104", "PM106", "PM107"):
            assert finding.related, finding
            expected = "bound here" if case.id == "pm106-main-block-variable" else "imported here"
            assert finding.related[0].message.startswith(expected)


def test_contract_example_holds_exactly(tmp_path: Path) -> None:
    """The CONTRACT.md JSON example, position for position."""
    source = (
        '"""Session."""\n'
        "from __future__ import annotations\n"
        "\n"
        "\n"
        "class Orchestrator:\n"
        '    """Runs agents."""\n'
        "\n"
        "    def run(self):\n"
        "        from collections import OrderedDict as Briefing\n"
        "        return Briefing()\n"
        "\n"
        "    def start(self):\n"
        "        agents = []\n"
        "        agents.append(1)\n"
        "        brief = Briefing()\n"
        "        return agents, brief\n"
    )
    path = tmp_path / "orch" / "claude" / "session.py"
    path.parent.mkdir(parents=True)
    path.write_text(source)
    [finding] = scope_findings(tmp_path, path)
    data = finding.to_json(display_path="orch/claude/session.py",
                           related_paths=["orch/claude/session.py"])
    assert data == {
        "code": "PM101", "severity": "error", "path": "orch/claude/session.py", "line": 15,
        "col": 17, "end_line": 15, "end_col": 25, "name": "Briefing", "module": None,
        "message": "'Briefing' is not defined here: it is imported only inside "
                   "Orchestrator.run()",
        "related": [{"path": "orch/claude/session.py", "line": 9, "col": 9,
                     "message": "imported here, in Orchestrator.run()",
                     "end_line": 9, "end_col": 56}],
        "fix": None}
    assert finding.key == "Orchestrator.start:Briefing"


def test_package_all_may_list_submodules(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    write_module(package, '__all__ = ["sub", "missing"]\n', "__init__.py")
    write_module(package, "VALUE = 1\n", "sub.py")
    findings = scope_findings(tmp_path, package / "__init__.py")
    assert [(f.code, f.name) for f in findings] == [("PM110", "missing")]
    proc = execute(tmp_path, "from pkg import *")
    assert last_error(proc) == "AttributeError"


def test_first_party_submodule_set_by_package_init_is_fine(tmp_path: Path) -> None:
    write_module(tmp_path / "pkg", "from . import loaded\n", "__init__.py")
    write_module(tmp_path / "pkg", "X = 1\n", "loaded.py")
    write_module(tmp_path / "pkg", "Y = 2\n", "lazy.py")
    user = write_module(tmp_path, """
        import pkg

        def values():
            return pkg.loaded.X, pkg.lazy.Y
        """, "user.py")
    findings = scope_findings(tmp_path, user)
    assert [(f.code, f.name) for f in findings] == [("PM109", "pkg.lazy")]
    proc = execute(tmp_path, "import user; user.values()")
    assert last_error(proc) == "AttributeError" and "lazy" in proc.stderr


def test_submodule_loaded_by_another_import_is_silent(tmp_path: Path) -> None:
    """``import xml.dom.minidom`` does not load xml.etree, but a first-party module that does
    makes ``xml.etree`` work by accident: premerge follows the file's imports statically."""
    write_module(tmp_path, "import xml.etree.ElementTree\n", "loader.py")
    user = write_module(tmp_path, """
        import loader
        import xml

        def parse(text):
            return xml.etree.ElementTree.fromstring(text)
        """, "user.py")
    assert scope_findings(tmp_path, user) == []
    assert last_error(execute(tmp_path, "import user; user.parse('<a/>')")) is None


def test_dynamic_namespace_is_silent_with_one_note(tmp_path: Path) -> None:
    path = write_module(tmp_path, """
        from no_such_module_premerge import *

        def f():
            return helper(), other()
        """)
    findings = scope_findings(tmp_path, path)
    assert [(f.code, f.severity.value, f.line) for f in findings] == [("PM005", "note", 2)]
    assert "helper" in findings[0].message and "import *" in findings[0].message


def test_globals_write_is_silent_with_one_note(tmp_path: Path) -> None:
    path = write_module(tmp_path, """
        globals()["made_up"] = 1

        def f():
            return made_up
        """)
    assert [f.code for f in scope_findings(tmp_path, path)] == ["PM005"]
    assert last_error(execute(tmp_path, "import mod; mod.f()")) is None


@pytest.mark.skipif(sys.version_info < (3, 12), reason="PEP 695 syntax needs Python 3.12")
def test_pep695_type_parameters_are_bound(tmp_path: Path) -> None:
    path = write_module(tmp_path, """
        type Pair[T] = tuple[T, T]

        def first[T](items: list[T]) -> T:
            return items[0]

        class Box[T]:
            def get(self) -> T:
                return self.value
        """)
    assert scope_findings(tmp_path, path) == []
    assert last_error(execute(tmp_path, "import mod; mod.first([1])")) is None


def test_optional_import_overriding_a_star_import_is_silent(tmp_path: Path) -> None:
    """ntpath: ``from genericpath import *`` binds ``islink``; the optional C version may
    replace it.  Uses are fine either way."""
    path = write_module(tmp_path, """
        from os.path import *

        try:
            from no_such_module_premerge import islink
        except ImportError:
            pass

        def check(path):
            return islink(path)
        """)
    assert [f.code for f in scope_findings(tmp_path, path) if f.code.startswith("PM1")] == []
    assert last_error(execute(tmp_path, "import mod; mod.check('.')")) is None


@pytest.mark.parametrize("walrus_first", [True, False])
def test_walrus_inside_a_lambda_binds_the_lambdas_local(tmp_path: Path,
                                                        walrus_first: bool) -> None:
    """sympy's fu.py: ``lambda x: (r := f(x)).ok and r.q`` (premerge failed on the file, PM009).
    The walrus binds a local of the lambda: used after it, fine; before it, UnboundLocalError."""
    body = "(r := x * 2) > 2 and r < 10" if walrus_first else "r + (r := x) > 2"
    path = write_module(tmp_path, f"def pick(items):\n"
                                  f"    return list(filter(lambda x: {body}, items))\n")
    found = [f.code for f in scope_findings(tmp_path, path)]
    error = last_error(execute(tmp_path, "import mod; mod.pick([1, 2, 3])"))
    if walrus_first:
        assert found == []
        assert error is None
    else:
        assert found == ["PM103"]
        assert error == "UnboundLocalError"


@pytest.mark.parametrize("bound_in_a_match_case", [True, False])
def test_star_import_gets_what_module_level_match_cases_bind(tmp_path: Path,
                                                             bound_in_a_match_case: bool) -> None:
    """A ``match`` at module level runs like an ``if``: the names its cases bind are the
    module's, so a star import provides them; a name no case binds is still reported."""
    write_module(tmp_path, """
        import sys

        match sys.platform:
            case "win32":
                SEP = "\\\\"
            case _:
                SEP = "/"
        """, "consts.py")
    name = "SEP" if bound_in_a_match_case else "SEPARATOR"
    path = write_module(tmp_path, f"from consts import *\n\n\ndef join(a, b):\n"
                                  f"    return a + {name} + b\n", "user.py")
    found = [(f.code, f.name) for f in scope_findings(tmp_path, path) if f.code.startswith("PM1")]
    error = last_error(execute(tmp_path, "import user; user.join('a', 'b')"))
    if bound_in_a_match_case:
        assert found == []
        assert error is None
    else:
        assert found == [("PM111", "SEPARATOR")]
        assert error == "NameError"


def test_names_injected_into_builtins_by_a_checked_file_are_bound(tmp_path: Path) -> None:
    """IPython's tests use ``_ip``, which its test setup puts into ``builtins``."""
    write_module(tmp_path, "import builtins\n\nbuiltins._ip = 'shell'\n", "setup_ip.py")
    user = write_module(tmp_path, "def test():\n    return _ip\n", "user.py")
    assert [f.code for f in scope_findings(tmp_path, user)] == ["PM111"]   # alone: unknown
    assert scope_findings(tmp_path) == []                                  # with the injector
    assert last_error(execute(tmp_path, "import setup_ip, user; user.test()")) is None


def test_python2_compatibility_branches_are_silent(tmp_path: Path) -> None:
    path = write_module(tmp_path, """
        import sys

        if sys.version_info[0] == 2:
            string_types = (basestring,)
        else:
            string_types = (str,)
        """)
    assert scope_findings(tmp_path, path) == []
    assert last_error(execute(tmp_path, "import mod")) is None


@pytest.mark.parametrize("source, path", [
    ("""
        def test_numpy():
            try:
                from no_such_module_premerge import array
            except ImportError:
                skip("numpy is not installed")
            return array
        def skip(reason):
            raise RuntimeError(reason)
        """, "import mod\ntry:\n    mod.test_numpy()\nexcept RuntimeError:\n    pass"),
    ("""
        def render(obj, fmt):
            if fmt == "json":
                import json
            prefix = "x"
            if fmt == "json":
                return prefix + json.dumps(obj)
            return repr(obj)
        """, "import mod; mod.render(1, 'repr'); mod.render(1, 'json')"),
])
def test_correlated_guards_are_silent(tmp_path: Path, source: str, path: str) -> None:
    module = write_module(tmp_path, source)
    assert [f.code for f in scope_findings(tmp_path, module)] == []
    assert last_error(execute(tmp_path, path)) is None


def test_star_import_of_a_readable_module_is_resolved(tmp_path: Path) -> None:
    """``from helpers import *`` of a plain source module: its names are known statically, so a
    name it does not define is still a missing import (and no PM005 note is needed)."""
    write_module(tmp_path, "def known():\n    return 1\n", "helpers.py")
    user = write_module(tmp_path, """
        from helpers import *

        def both():
            return known(), unknown()
        """, "user.py")
    findings = scope_findings(tmp_path, user)
    assert [(f.code, f.name) for f in findings] == [("PM111", "unknown")]
    proc = execute(tmp_path, "import user; user.both()")
    assert last_error(proc) == "NameError" and "unknown" in proc.stderr


def test_package_init_relative_import_binds_the_submodule(tmp_path: Path) -> None:
    write_module(tmp_path / "pkg", "from .runners import run\n__all__ = ['runners', 'run']\n"
                 "def again():\n    return runners.run()\n", "__init__.py")
    write_module(tmp_path / "pkg", "def run():\n    return 1\n", "runners.py")
    assert scope_findings(tmp_path, tmp_path / "pkg" / "__init__.py") == []
    assert last_error(execute(tmp_path, "import pkg; pkg.again()")) is None
