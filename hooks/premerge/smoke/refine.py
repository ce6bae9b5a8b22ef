"""Runtime facts refine static findings: drop PM1xx findings the real namespace disproves.

``premerge check`` runs scope and smoke; smoke's facts hold, per imported module file, the
names present in the module's namespace after a successful import.  A scope finding is
dropped only when it is *disproved*, conservatively:

* its name exists in that namespace, and
* the finding is about a load that Python resolves in the module namespace at call time --
  a ``LOAD_GLOBAL`` of that name on that line inside a function (compiled here, so a
  function-local name -- an ``UnboundLocalError`` case -- is never dropped), and
* its rule claims the name is missing from the module namespace (imported only in another
  function, only for type checkers, only under ``__main__``, in a class body, before the
  definition, bound nowhere), not that it is missing on *some* path or platform (possibly
  unbound, optional import -- this run only shows one environment).

``__all__`` entries are disproved by the namespace alone.  Each rule says which applies
(``Rule.disproved_at_runtime``).
"""

from __future__ import annotations

from functools import lru_cache
from types import CodeType

from premerge.findings import Finding, rule_for
from premerge.smoke.child import global_loads, instruction_lines, is_function_code, walk_code
from premerge.parsed import PARSE_ERRORS, parse_source
from premerge.sources import SourceError


def refine_scope_findings(findings: list[Finding], facts: dict[str, object]) -> list[Finding]:
    namespaces = facts.get("namespaces")
    if not isinstance(namespaces, dict) or not namespaces:
        return findings
    sets: dict[str, frozenset[str]] = {}
    kept = []
    for finding in findings:
        names = namespaces.get(finding.path)
        if finding.name is None or not isinstance(names, list):
            kept.append(finding)
            continue
        present = sets.get(finding.path)
        if present is None:
            present = sets[finding.path] = frozenset(names)
        if finding.name in present and _disproved(finding):
            continue
        kept.append(finding)
    return kept


def _disproved(finding: Finding) -> bool:
    """Whether the finding's rule says a runtime namespace holding its name disproves it (see
    ``Rule.disproved_at_runtime``), here."""
    rule = rule_for(finding.code)
    how = rule.disproved_at_runtime if rule is not None else ""
    if how == "namespace":
        return True
    if how != "global_load" or finding.line is None:
        return False
    return (finding.line, finding.name) in _function_global_loads(finding.path)


@lru_cache(maxsize=64)
def _function_global_loads(path: str) -> frozenset[tuple[int | None, str]]:
    """(line, name) of every LOAD_GLOBAL inside a function of the file."""
    try:
        top: CodeType = compile(parse_source(path).tree, path, "exec", dont_inherit=True)
    except (SourceError, *PARSE_ERRORS):
        return frozenset()
    out = set()
    for code in walk_code(top):
        if code is top or not is_function_code(code):
            continue
        loads = global_loads(code)
        if loads:
            lines = instruction_lines(code)
            out.update((lines.get(offset), name) for offset, name in loads)
    return frozenset(out)
