"""premerge scope scored on pyflakes' own test snippets (issue 11: measure on peers' suites).

``tests/scope/data/pyflakes_snippets.json`` holds every literal ``self.flakes(...)`` snippet of
pyflakes' ``test_undefined_names.py`` and ``test_imports.py`` with what pyflakes expects
(``scripts/pyflakes_corpus.py`` regenerates it from the installed pyflakes; stored, so this runs
offline).  A snippet agrees when premerge reports an *error* name finding (PM1xx) exactly where
pyflakes expects an UndefinedName / UndefinedLocal / UndefinedExport, and none where it expects
none.  pyflakes' messages say "this raises"; premerge's warnings say "this raises only where an
optional dependency is missing / a path the author may rule out is taken", so they are counted
apart (``warned``) and shown, not scored.  Tests pyflakes itself skips are not scored.

``KNOWN`` lists the disagreements with the reason for each (README, scope section): the test
fails when a new one appears, so agreement can only rise; one that disappears must be removed.
"""

from __future__ import annotations

import ast
import json
import textwrap
from pathlib import Path

from tests.scope.helpers import scope_findings

DATA = Path(__file__).parent / "data" / "pyflakes_snippets.json"

#: snippet id -> why premerge and pyflakes disagree there (issue 11's target: at most 2)
KNOWN: dict[str, str] = {
    "test_imports::Test.test_redefinedIf#1":
        "premerge is right: `i = 2` makes `if i==1:` skip `import os`, so `os.path` raises "
        "NameError; pyflakes does not follow paths",
    "test_imports::TestSpecialAll.test_unboundExported#2":
        "premerge is right: in a package __init__, `from pkg import *` raises AttributeError "
        "for an `__all__` name that is neither defined nor a submodule; pyflakes skips "
        "__init__ files",
}


def _snippets() -> list[dict[str, object]]:
    """The scored snippets: not skipped by pyflakes, parseable by this interpreter."""
    out = []
    for snippet in json.loads(DATA.read_text(encoding="utf-8"))["snippets"]:
        if snippet["skipped"]:
            continue
        try:
            ast.parse(textwrap.dedent(str(snippet["source"])))
        except SyntaxError:
            continue  # a snippet of newer syntax than this interpreter reads
        out.append(snippet)
    return out


def score(tmp_path: Path) -> tuple[list[dict[str, object]], dict[str, list[str]],
                                   dict[str, list[str]]]:
    """Every scored snippet, premerge's error name findings on each and its warnings."""
    snippets = _snippets()
    for number, snippet in enumerate(snippets):
        # one directory, one run: each snippet is its own module, as pyflakes checks it alone
        # (a package's __init__ where pyflakes was told the file is one)
        path = tmp_path / f"snippet_{number:04d}.py"
        if str(snippet.get("filename") or "").endswith("__init__.py"):
            path = tmp_path / f"snippet_{number:04d}" / "__init__.py"
            path.parent.mkdir()
        path.write_text(textwrap.dedent(str(snippet["source"])), encoding="utf-8")
    errors: dict[str, list[str]] = {str(s["id"]): [] for s in snippets}
    warned: dict[str, list[str]] = {str(s["id"]): [] for s in snippets}
    for finding in scope_findings(tmp_path):
        if not finding.code.startswith("PM1"):
            continue
        path = Path(finding.path)
        number = int((path.parent if path.name == "__init__.py" else path).stem.split("_")[1])
        where = errors if finding.severity.value == "error" else warned
        where[str(snippets[number]["id"])].append(f"{finding.code} {finding.line}:{finding.col}")
    return snippets, errors, warned


def disagreements(snippets: list[dict[str, object]], errors: dict[str, list[str]]
                  ) -> dict[str, str]:
    out = {}
    for snippet in snippets:
        key = str(snippet["id"])
        if bool(errors[key]) != bool(snippet["undefined"]):
            out[key] = (f"pyflakes expects {snippet['messages']}, premerge reports "
                        f"{errors[key] or 'nothing'}")
    return out


def test_pyflakes_agreement_does_not_drop(tmp_path: Path) -> None:
    snippets, errors, _warned = score(tmp_path)
    assert len(snippets) > 250  # the data is there and parsed: the score means something
    assert sum(1 for s in snippets if s["undefined"]) > 40
    differ = disagreements(snippets, errors)
    new = {key: why for key, why in differ.items() if key not in KNOWN}
    assert not new, new
    gone = sorted(set(KNOWN) - set(differ))
    assert not gone, f"now agreeing, remove from KNOWN (and README): {gone}"
    assert len(KNOWN) <= 2  # issue 11's target: ruff's level


def main() -> int:
    """``python -m tests.scope.test_pyflakes_agreement``: the figures README quotes."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        snippets, errors, warned = score(Path(tmp))
    differ = disagreements(snippets, errors)
    undefined = [str(s["id"]) for s in snippets if s["undefined"]]
    clean = [str(s["id"]) for s in snippets if not s["undefined"]]
    print(f"agreement {len(snippets) - len(differ)}/{len(snippets)} "
          f"(undefined expected {sum(k not in differ for k in undefined)}/{len(undefined)}, "
          f"none expected {sum(k not in differ for k in clean)}/{len(clean)}); "
          f"{sum(bool(v) for v in warned.values())} snippets get a warning")
    for key, why in differ.items():
        print(f"  {key}: {why}" + (f"  [known: {KNOWN[key]}]" if key in KNOWN else ""))
    for key, found in warned.items():
        if found:
            print(f"  warning {key}: {found}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
