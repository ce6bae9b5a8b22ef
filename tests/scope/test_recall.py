"""Issue 11 items 1-4 and 7: the NameErrors/UnboundLocalErrors peers report and premerge used to
keep silent about, each with clean twins that must stay silent.

Same discipline as ``test_verdicts``: the scope check must report exactly ``codes``, and running
``path`` in a fresh interpreter must end with ``error`` (None: it runs cleanly).  Where a broad
handler swallows the error, the fixture keeps what it caught in ``CAUGHT`` and the path re-raises
it, so Python still shows which error the code hid.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.scope.helpers import scope_findings, write_module
from tests.scope.test_verdicts import Case
from tests.scope.test_verdicts import test_verdict_matches_python as check_verdict

RERAISE = "import mod; {call}; raise mod.CAUGHT"

BUGGY = [
    # 1. a broad handler is not a guard: it catches the NameError and hides it
    Case("broad-handler-missing-import", """
        CAUGHT = None

        def copy_briefing():
            global CAUGHT
            try:
                shutil.copy("CLAUDE.md", "/nonexistent")
            except Exception as exc:
                CAUGHT = exc
                print("Warning: could not copy", exc)
        """, RERAISE.format(call="mod.copy_briefing()"), ("PM111",), "NameError"),
    Case("bare-except-missing-import", """
        CAUGHT = None

        def probe():
            global CAUGHT
            try:
                return undefined_helper()
            except:
                import sys
                CAUGHT = sys.exc_info()[1]
        """, RERAISE.format(call="mod.probe()"), ("PM111",), "NameError"),
    Case("broad-handler-import-in-other-branch-of-loop", """
        CAUGHT = None

        def run(items):
            global CAUGHT
            try:
                for item in items:
                    if item == "a":
                        from collections import OrderedDict as Ordered
                        Ordered()
                    else:
                        Ordered()
            except BaseException as exc:
                CAUGHT = exc
        """, RERAISE.format(call="mod.run(['b'])"), ("PM102",), "UnboundLocalError"),
    Case("broad-handler-import-later-in-function", """
        CAUGHT = None

        def dump(obj):
            global CAUGHT
            try:
                text = json.dumps(obj)
                import json
                return text
            except Exception as exc:
                CAUGHT = exc
        """, RERAISE.format(call="mod.dump(1)"), ("PM103",), "UnboundLocalError"),
    # 7. the handler's own expression needs the name the try body imports: the import may have
    #    failed before binding it (not "imported only later"); inside the handler it is bound
    Case("handler-expression-uses-try-body-import", """
        def fetch():
            try:
                import no_such_module_premerge as requests
                return requests.get()
            except (requests.Timeout, ValueError):
                return requests.codes
        """, "import mod; mod.fetch()", ("PM102",), "UnboundLocalError"),
    # 2. a flag set beside an optional import protects only where it is tested
    Case("optional-import-flag-never-tested", """
        try:
            import no_such_module_premerge as yaml
            HAS_YAML = True
        except ImportError:
            HAS_YAML = False

        def load(text):
            return yaml.safe_load(text)
        """, "import mod; mod.load('a: 1')", ("PM105",), "NameError"),
    Case("optional-import-flag-tested-for-another-use", """
        try:
            import no_such_module_premerge as yaml
            HAS_YAML = True
        except ImportError:
            HAS_YAML = False

        def load(text):
            if HAS_YAML:
                print("yaml available")
            return yaml.safe_load(text)
        """, "import mod; mod.load('a: 1')", ("PM105",), "NameError"),
    # 3. platform-conditional imports used from functions elsewhere
    Case("platform-import-used-in-function", """
        import os

        if os.name == "no-such-os":
            import msvcrt

        def getch():
            return msvcrt.getch()
        """, "import mod; mod.getch()", ("PM102",), "NameError"),
    Case("version-import-used-in-function", """
        import sys

        if sys.version_info >= (4, 0):
            import tomllib

        def parse(text):
            return tomllib.loads(text)
        """, "import mod; mod.parse('')", ("PM102",), "NameError"),
    # 4. every name, not only imports
    Case("local-used-before-assignment", """
        x = 1

        def f():
            print(x)
            x = 2
        """, "import mod; mod.f()", ("PM103",), "UnboundLocalError"),
    Case("module-name-after-del", """
        x = 1
        del x
        print(x)
        """, "import mod", ("PM103",), "NameError"),
    Case("except-as-name-after-handler", """
        try:
            raise ValueError("ve")
        except ValueError as exc:
            pass
        print(exc)
        """, "import mod", ("PM103",), "NameError"),
    Case("comprehension-variable-after-comprehension", """
        squares = [a * a for a in range(3)]
        print(a)
        """, "import mod", ("PM111",), "NameError"),
    Case("loop-over-its-own-target", """
        for i in range(i):
            pass
        """, "import mod", ("PM103",), "NameError"),
    Case("local-bound-on-some-paths", """
        def pick(flag):
            if flag:
                y = 1
            return y
        """, "import mod; mod.pick(False)", ("PM113",), "UnboundLocalError"),
    Case("loop-reads-what-a-later-iteration-binds", """
        def report(items):
            for item in items:
                if item:
                    print(last)
                last = item
        """, "import mod; mod.report([1])", ("PM113",), "UnboundLocalError"),
    Case("module-name-bound-on-some-paths", """
        import sys

        if len(sys.argv) > 99:
            limit = 1
        print(limit)
        """, "import mod", ("PM113",), "NameError"),
]

CLEAN = [
    # rich/traceback.py: an embedding host's builtin probed under a broad handler
    Case("host-builtin-probe-under-broad-handler", """
        def install():
            try:
                ip = get_ipython()
                return ip
            except Exception:
                return None
        """, "import mod; assert mod.install() is None"),
    Case("nameerror-handler-guards", """
        def value():
            try:
                return undefined_helper()
            except NameError:
                return None
        """, "import mod; assert mod.value() is None"),
    Case("flag-tested-in-the-same-function", """
        try:
            import no_such_module_premerge as yaml
            HAS_YAML = True
        except ImportError:
            HAS_YAML = False

        def load(text):
            if HAS_YAML:
                return yaml.safe_load(text)
            return None
        """, "import mod; mod.load('a')"),
    Case("flag-early-return", """
        try:
            import no_such_module_premerge as yaml
            HAS_YAML = True
        except ImportError:
            HAS_YAML = False

        def load(text):
            if not HAS_YAML:
                return None
            return yaml.safe_load(text)
        """, "import mod; mod.load('a')"),
    Case("flag-guarded-caller-in-the-same-function", """
        try:
            import no_such_module_premerge as yaml
            HAS_YAML = True
        except ImportError:
            HAS_YAML = False

        def load(text):
            data = None
            if HAS_YAML and text:
                data = yaml.safe_load(text)
            return data
        """, "import mod; mod.load('a')"),
    Case("none-fallback-tested", """
        try:
            import no_such_module_premerge as yaml
        except ImportError:
            yaml = None

        def load(text):
            if yaml is None:
                return None
            return yaml.safe_load(text)
        """, "import mod; mod.load('a')"),
    Case("def-inside-the-platform-branch", """
        import os

        if os.name == "no-such-os":
            import msvcrt

            def getch():
                return msvcrt.getch()
        """, "import mod"),
    Case("same-platform-test-around-the-use", """
        import sys

        if sys.platform == "no-such-platform":
            import msvcrt

        def getch():
            if sys.platform == "no-such-platform":
                return msvcrt.getch()
            return None
        """, "import mod; mod.getch()"),
    Case("platform-else-binds-a-fallback", """
        import os

        if os.name == "no-such-os":
            import msvcrt
        else:
            msvcrt = None

        def getch():
            return msvcrt
        """, "import mod; mod.getch()"),
    Case("global-and-nonlocal-names", """
        def setup():
            global configured
            configured = True

        def counter():
            count = 0
            def bump():
                nonlocal count
                count += 1
                return count
            return bump()

        setup()
        print(configured, counter())
        """, "import mod"),
    Case("loop-variable-after-a-loop-over-a-literal", """
        for name in ("a", "b"):
            pass
        print(name)

        def last():
            for item in [1, 2, 3]:
                pass
            return item
        """, "import mod; mod.last()"),
    Case("handler-name-rebound-after", """
        try:
            raise ValueError("ve")
        except ValueError as exc:
            error = exc
        print(error)
        """, "import mod"),
    Case("string-flag-correlates", """
        exc = "original"
        error = None
        try:
            raise ValueError("ve")
        except ValueError as exc:
            error = "logged"
        if error:
            print(error)
        else:
            print(exc)
        """, "import mod"),
]


@pytest.mark.parametrize("case", BUGGY + CLEAN, ids=lambda c: c.id)
def test_verdict_matches_python(case: Case, tmp_path: Path) -> None:
    check_verdict(case, tmp_path)  # exactly these codes, and Python raises exactly that


def test_broad_handler_is_named_in_the_message(tmp_path: Path) -> None:
    path = write_module(tmp_path, BUGGY[0].source)
    [finding] = scope_findings(tmp_path, path)
    assert "would be caught by `except Exception` at line 8" in finding.message, finding.message


def test_platform_condition_is_named_in_the_message(tmp_path: Path) -> None:
    case = next(c for c in BUGGY if c.id == "platform-import-used-in-function")
    path = write_module(tmp_path, case.source)
    [finding] = scope_findings(tmp_path, path)
    assert 'os.name == "no-such-os"' in finding.message or \
        "os.name == 'no-such-os'" in finding.message, finding.message


def test_some_paths_binding_is_a_warning_and_names_the_path(tmp_path: Path) -> None:
    case = next(c for c in BUGGY if c.id == "local-bound-on-some-paths")
    path = write_module(tmp_path, case.source)
    [finding] = scope_findings(tmp_path, path)
    assert finding.severity.value == "warning"
    assert "line 4" in finding.message and "if" in finding.message, finding.message
