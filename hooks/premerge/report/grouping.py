"""Text output's view of the findings: one entry per cause, related locations bounded.

JSON, SARIF and annotations keep every finding and every location; a person reading a terminal
needs one line per problem.  So text folds, for the rules that declare how
(:attr:`~premerge.findings.Rule.group_by`), the findings that share a cause into one -- the
modules one missing package stops from importing, the uses of one optional-import ``try``
block -- and shows the first few related locations of each, then how many more there are.
"""

from __future__ import annotations

from collections.abc import Sequence

from premerge.findings import (Finding, Location, Rule, confirmed_at_runtime, rule_for,
                               stops_importing)
from premerge.records import FrozenRecord, frozen_init

#: related lines shown under one finding before "... and N more"
MAX_RELATED = 3


class Entry(FrozenRecord):
    """One related line of a shown problem; ``module`` when it names a module that fails."""

    __slots__ = _fields = ("location", "module")
    location: Location
    module: bool

    def __init__(self, location: Location, module: bool = False) -> None:
        frozen_init(self, location, module)


class Problem(FrozenRecord):
    """What text shows as one finding: the head finding (its message the group's), the
    findings folded into it, its related lines and how many modules it stops."""

    __slots__ = _fields = ("finding", "members", "entries", "modules")
    finding: Finding
    members: tuple[Finding, ...]
    entries: tuple[Entry, ...]
    modules: int

    def __init__(self, finding: Finding, members: tuple[Finding, ...],
                 entries: tuple[Entry, ...], modules: int = 0) -> None:
        frozen_init(self, finding, members, entries, modules)


def problems(findings: Sequence[Finding]) -> list[Problem]:
    """The findings as text shows them, in the findings' order (that of each group's first)."""
    groups: dict[object, list[Finding]] = {}
    for finding in findings:
        groups.setdefault(_group_key(finding), []).append(finding)
    return [_problem(members) for members in groups.values()]


def _group_key(finding: Finding) -> object:
    """Findings with equal keys share one cause; a finding of a rule that does not group is
    its own group."""
    rule = rule_for(finding.code)
    if rule is None or not rule.group_by:
        return id(finding)
    fields = rule.fields_of(finding.message)
    if fields is None:
        return id(finding)
    key = tuple(fields.get(name) for name in rule.group_by)
    return (finding.code, finding.severity, finding.path if rule.group_in_file else None, key)


def _problem(members: list[Finding]) -> Problem:
    rule = rule_for(members[0].code)
    head = rule.group_head(members) if rule is not None else members[0]
    members = [head, *(member for member in members if member is not head)]
    entries: list[Entry] = []
    for member in members[1:]:
        note = _member_note(rule, member)
        entries.append(Entry(Location(member.path, member.line, member.col, note),
                             module=member.module is not None))
    seen: set[Location] = set()
    for member in members:
        for loc in member.related:
            if loc not in seen:
                seen.add(loc)
                entries.append(Entry(loc, module=stops_importing(loc.message)))
    modules = 0
    if head.module is not None:  # each member is a module that fails, and so is each it stops
        modules = len(members) + sum(1 for loc in seen if stops_importing(loc.message))
    finding = head
    if rule is not None and rule.group_template and (len(members) > 1 or modules > 1):
        message = _group_message(rule, members, modules)
        if message is not None:
            finding = head.with_changes(message=message)
    return Problem(finding, tuple(members), tuple(entries), modules)


def _member_note(rule: type[Rule] | None, member: Finding) -> str:
    if rule is None or not rule.member_template:
        return f"{member.code} {member.message}"
    return rule.member_template.format(name=member.name or "?", module=member.module or "?")


def _group_message(rule: type[Rule], members: list[Finding], modules: int) -> str | None:
    fields = rule.fields_of(members[0].message)
    if fields is None:
        return None
    names = list(dict.fromkeys(f"'{m.name}'" for m in members if m.name))
    try:
        return rule.group_template.format(**{**fields, "names": _join(names),
                                             "uses": len(members), "count": modules})
    except (KeyError, IndexError, ValueError):  # a template changed under its group's: show
        return None                             # the first finding as it is



def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def shown(problem: Problem, limit: int = MAX_RELATED,
          see: str = "--format json") -> tuple[list[Entry], str | None]:
    """The entries to print under a problem and the "... and N more" line (or None); ``see``
    names where the rest are.  A runtime confirmation is always shown: it is the second code
    of a finding that stands for two."""
    entries = list(problem.entries)
    if len(entries) <= limit + 1:  # "and 1 more" is no shorter than the line itself
        return entries, None
    rest = entries[limit:]
    pinned = [e for e in rest if confirmed_at_runtime(e.location.message)]
    hidden = [e for e in rest if not confirmed_at_runtime(e.location.message)]
    if not hidden:
        return entries, None
    if all(e.module for e in hidden):
        noun = "module" if len(hidden) == 1 else "modules"
    else:
        noun = "location" if len(hidden) == 1 else "locations"
    return entries[:limit] + pinned, f"... and {len(hidden)} more {noun} (see {see})"
