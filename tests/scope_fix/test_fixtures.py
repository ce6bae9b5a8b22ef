"""Every buggy fixture of the scope checker: fixed where a fix exists, then *executed*.

The scope tests prove each fixture really raises (``tests/scope/test_verdicts.py``).  Here
``--fix`` rewrites it and the same code path runs again in a fresh interpreter: the error is
gone and the checker is silent.  Fixtures of classes without a fix stay byte for byte, and
their message says what to do instead.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from premerge.findings import RULES
from premerge.scope.fix import FIXABLE
from tests.scope.helpers import execute, last_error, write_module
from tests.scope.test_verdicts import BUGGY, Case
from tests.scope_fix.helpers import codes, scope_run

#: buggy fixtures whose finding has a fix shape (PM106 on a plain variable has none)
FIXED = [c for c in BUGGY if set(c.codes) <= FIXABLE and c.id != "pm106-main-block-variable"]
UNFIXED = [c for c in BUGGY if c not in FIXED]

#: what the help of each code without a fix tells the user to do instead
ADVICE = {
    "PM102": "Import it unconditionally, or on every path.",
    "PM103": "Move the import above the use, or stop deleting the name.",
    "PM105": "Bind a fallback in the handler (`x = None`) and test it, or guard the use with a "
             "flag set in the same try/except.",
    "PM106": "Move the import above the block.",
    "PM107": "Import it at module level.",
    "PM108": "Move the import above the definition.",
    "PM109": "Import the submodule itself",
    "PM110": "Define it, import it, or drop it from `__all__`.",
    "PM111": "Usually an import was forgotten or removed.",
}


def test_the_split_covers_the_fixable_codes() -> None:
    assert {code for case in FIXED for code in case.codes} == FIXABLE
    assert len(FIXED) >= 6 and len(UNFIXED) >= 10


@pytest.mark.parametrize("case", FIXED, ids=lambda c: c.id)
def test_fixed_fixture_runs_without_the_error(case: Case, tmp_path: Path) -> None:
    path = write_module(tmp_path, case.source)
    assert last_error(execute(tmp_path, case.path, *case.flags)) == case.error  # really broken
    result = scope_run(tmp_path, path, fix=True)
    assert codes(result) == [], [(f.code, f.line, f.message) for f in result.findings]
    assert path.read_text(encoding="utf-8") != case.source
    proc = execute(tmp_path, case.path, *case.flags)
    assert last_error(proc) is None, (path.read_text(encoding="utf-8"), proc.stderr)
    assert codes(scope_run(tmp_path, path)) == []  # a plain run agrees


@pytest.mark.parametrize("case", FIXED, ids=lambda c: c.id)
def test_second_fix_changes_nothing(case: Case, tmp_path: Path) -> None:
    path = write_module(tmp_path, case.source)
    scope_run(tmp_path, path, fix=True)
    once = path.read_bytes()
    result = scope_run(tmp_path, path, fix=True)
    assert path.read_bytes() == once
    assert not any(note.startswith("fixed") for note in result.notes)


@pytest.mark.parametrize("case", UNFIXED, ids=lambda c: c.id)
def test_no_fix_for_other_classes_and_the_message_says_what_to_do(case: Case,
                                                                   tmp_path: Path) -> None:
    path = write_module(tmp_path, case.source)
    before = path.read_bytes()
    result = scope_run(tmp_path, path, fix=True)
    assert path.read_bytes() == before
    assert codes(result) == sorted(case.codes)
    diff = scope_run(tmp_path, path, diff=True)
    assert diff.facts["diff"] == ""
    for finding in result.findings:
        assert finding.fix is None
        assert ADVICE[finding.code] in RULES[finding.code].help, finding.code
