"""scripts/mutate.py, the mutation check: its list stays applicable, and it can say "missed".

Running every breakage takes minutes (``python scripts/mutate.py``); here, cheaply, each
snippet must still occur exactly once where its entry says, so a refactoring that moves the
code updates the list in the same change, and the checker itself is run on a tiny project
where one breakage is caught, one is not and one no longer applies.
"""

from __future__ import annotations

import importlib.util
import io
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.conftest import ROOT, git


def _load_mutate() -> ModuleType:
    spec = importlib.util.spec_from_file_location("premerge_mutate", ROOT / "scripts" / "mutate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


mutate = _load_mutate()

#: the breakages issue 16 asks to be caught, each by at least one test
ISSUE_16 = {
    "pm101-never", "pm105-never", "pm105-error", "fail-on-warning", "fail-on-never",
    "fingerprint-hash-constant", "fingerprint-constant", "worktrees-ignored", "env-not-scrubbed",
    "token-not-secret", "secret-filter-removed", "env-globs-ignored", "noqa-ignores-codes",
    "annotation-percent-unescaped", "annotation-newline-unescaped", "annotation-comma-unescaped",
    "cache-key-ignores-content", "init-overwrites", "changed-not-transitive", "pm203-never",
}


def test_the_issue_breakages_are_listed_once_each() -> None:
    names = [m.name for m in mutate.MUTATIONS]
    assert len(names) == len(set(names))
    assert ISSUE_16 <= set(names)


@pytest.mark.parametrize("mutation", mutate.MUTATIONS, ids=lambda m: m.name)
def test_every_breakage_still_applies_and_names_real_tests(mutation) -> None:
    problem = mutate.snippet_problem(ROOT, mutation)
    assert problem is None, f"{problem}: update the entry {mutation.name!r} in scripts/mutate.py"
    source = (ROOT / mutation.file).read_text(encoding="utf-8")
    broken = mutate.mutated(source, mutation)
    assert broken != source
    compile(broken, mutation.file, "exec")  # a behaviour change, not a syntax error
    assert mutation.tests
    for test in mutation.tests:
        path, _, name = test.partition("::")
        assert (ROOT / path).is_file(), test
        if name:
            assert re.search(rf"^def {re.escape(name)}\(", (ROOT / path).read_text(
                encoding="utf-8"), re.MULTILINE), test


CALC = "def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n"
CALC_TESTS = "from calc import add\n\n\ndef test_add():\n    assert add(2, 2) == 4\n"
#: the checker passes --run-slow, which a project's conftest defines (as this repository's does)
CONFTEST = ("def pytest_addoption(parser):\n"
            "    parser.addoption('--run-slow', action='store_true')\n")


def test_the_checker_reports_caught_missed_and_stale_breakages(tmp_path: Path) -> None:
    project = tmp_path / "project"
    for rel, text in {"hooks/calc.py": CALC, "tests/test_calc.py": CALC_TESTS,
                      "conftest.py": CONFTEST}.items():
        (project / rel).parent.mkdir(parents=True, exist_ok=True)
        (project / rel).write_text(text, encoding="utf-8")
    git(project, "init", "-q", "-b", "main")
    git(project, "add", "-A")
    git(project, "commit", "-qm", "calc")
    tests = ("tests/test_calc.py",)
    breakages = [
        mutate.Mutation("minus", "hooks/calc.py", "a + b", "a - b", tests),
        mutate.Mutation("times", "hooks/calc.py", "a + b", "a * b", tests, "2 * 2 is 4 too"),
        mutate.Mutation("stale", "hooks/calc.py", "a / b", "a // b", tests),
    ]
    out = io.StringIO()
    breakages.append(mutate.Mutation("in-a-block", "hooks/calc.py", "return", "return 0 *",
                                     tests, "the snippet is unique only in add()",
                                     within="def add("))
    assert mutate.check(breakages, source=project, out=out) == 1
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("baseline: 1 test selections pass unmutated")
    assert lines[1].startswith("caught ") and " minus " in lines[1]
    assert "tests/test_calc.py::test_add" in lines[1]
    assert lines[2].startswith("NOT CAUGHT ") and lines[2].endswith("2 * 2 is 4 too")
    assert lines[3].startswith("SNIPPET NOT FOUND ") and "'a / b'" in lines[3]
    assert lines[4].startswith("caught ") and " in-a-block " in lines[4]
    assert lines[5] == "2 of 4 breakages caught"
    # the project itself was never touched: the copy took every breakage
    assert (project / "hooks" / "calc.py").read_text(encoding="utf-8") == CALC
    assert git(project, "status", "--porcelain") == ""

    twice = mutate.Mutation("twice", "hooks/calc.py", "return", "return 0 *", tests)
    assert mutate.snippet_problem(project, twice) == (
        "the snippet occurs 2 times (make it unique) in hooks/calc.py: 'return'")
    out = io.StringIO()
    assert mutate.check(breakages[:1], source=project, out=out) == 0
    assert out.getvalue().splitlines()[-1] == "1 of 1 breakages caught"
