"""``--format text``: ``path:line:col: CODE message``, related locations indented below.

What a person reads on a terminal, so it is bounded: findings that share one cause are one
line (see :mod:`premerge.report.grouping`), at most a few related lines each, then "... and N
more (see --format json)".  The closing summary (stderr) says what passed, per check.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from premerge.findings import Finding, rule_for
from premerge.report import ReportContext
from premerge.report.color import Palette
from premerge.report.grouping import problems, shown


def _place(path: str, line: int | None, col: int | None) -> str:
    if line is None:
        return path
    return f"{path}:{line}:{col or 1}"


def render(findings: Sequence[Finding], context: ReportContext) -> str:
    paint = Palette(context.color)
    out: list[str] = []
    for problem in problems(findings):
        finding = problem.finding
        severity = finding.severity.value
        place = _place(context.display_path(finding.path), finding.line, finding.col)
        out.append(f"{paint.path(place)}: {paint.code(finding.code, severity)} "
                   f"{finding.message}")
        entries, more = shown(problem)
        for entry in entries:
            loc = entry.location
            where = _place(context.display_path(loc.path), loc.line, loc.col)
            out.append(f"    {where}: {loc.message}" if loc.message else f"    {where}")
        if more:
            out.append(f"    {paint.dim(more)}")
    return "\n".join(out) + ("\n" if out else "")


def statistics(findings: Sequence[Finding], context: ReportContext) -> str:
    """``--statistics``: one line per code, most frequent first (as ``ruff --statistics``)."""
    paint = Palette(context.color)
    counts = Counter(f.code for f in findings)
    severities = {f.code: f.severity.value for f in findings}
    width = len(str(max(counts.values(), default=0)))
    out = []
    for code, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        rule = rule_for(code)
        title = rule.title if rule is not None else ""
        out.append(f"{count:>{width}}  {paint.code(code, severities[code])}  {title}".rstrip())
    return "\n".join(out) + ("\n" if out else "")


def _plural(count: int, word: str, plural: str | None = None) -> str:
    return f"{count} {word if count == 1 else plural or word + 's'}"


def summary_line(findings: Sequence[Finding], context: ReportContext) -> str:
    """The closing summary that goes to stderr after the findings: a headline, then one line
    per check saying what it looked at and what passed."""
    paint = Palette(context.color)
    counts = Counter(f.severity.value for f in findings)
    files = _plural(context.files, "file")
    if not findings:
        head = "no findings"
    else:
        parts = [paint.severity(_plural(counts[s], s), s)
                 for s in ("error", "warning", "note") if counts[s]]
        head = f"{_plural(len(findings), 'finding')} ({', '.join(parts)})"
        shown_as = len(problems(findings))
        if shown_as < len(findings):
            head = (f"{_plural(shown_as, 'problem')} ({_plural(len(findings), 'finding')}: "
                    f"{', '.join(parts)})")
    lines = [f"premerge: {head} in {files}, {context.seconds:.2f}s"]
    lines.extend(f"  {check}: {text}" for check, text in passed(findings, context).items())
    return "\n".join(lines)


def passed(findings: Sequence[Finding], context: ReportContext) -> dict[str, str]:
    """check -> what it looked at and what passed ("34 of 37 files without findings")."""
    out: dict[str, str] = {}
    for check in context.checks:
        counts = context.counts.get(check)
        if counts is None:
            continue
        own = {check, "input"} if check == "scope" else {check}
        text = _PASSED[check](counts, [f for f in findings if f.check in own])
        if text:
            out[check] = text
    return out


def _scope_passed(counts: dict[str, int], findings: Sequence[Finding]) -> str:
    analysed = counts.get("files", 0)
    flagged = len({f.path for f in findings})
    return (f"{_plural(analysed, 'file')} analysed, "
            f"{max(analysed - flagged, 0)} without findings")


def _files_passed(counts: dict[str, int], findings: Sequence[Finding]) -> str:
    parts = []
    if "required" in counts:
        parts.append(f"{counts.get('present', 0)} of "
                     f"{_plural(counts['required'], 'required file entry', 'required file entries')}"
                     " satisfied")
    parts.append(f"{_plural(counts.get('references', 0), 'file reference')} in "
                 f"{_plural(counts.get('files', 0), 'source file')} checked")
    return ", ".join(parts)


def _smoke_passed(counts: dict[str, int], findings: Sequence[Finding]) -> str:
    modules = counts.get("modules", 0)
    text = (f"{counts.get('imported', 0)} of {_plural(modules, 'module')} imported OK"
            if modules else "no module imported")
    skipped = counts.get("files", 0) - modules
    if skipped > 0:
        text += f", {skipped} not imported (scripts)"
    return text


_PASSED = {"scope": _scope_passed, "files": _files_passed, "smoke": _smoke_passed}
