"""``--format text``: ``path:line:col: CODE message``, related locations indented below."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from premerge.findings import Finding
from premerge.report import ReportContext


def _place(path: str, line: int | None, col: int | None) -> str:
    if line is None:
        return path
    return f"{path}:{line}:{col or 1}"


def render(findings: Sequence[Finding], context: ReportContext) -> str:
    out: list[str] = []
    for finding in findings:
        place = _place(context.display_path(finding.path), finding.line, finding.col)
        out.append(f"{place}: {finding.code} {finding.message}")
        for loc in finding.related:
            where = _place(context.display_path(loc.path), loc.line, loc.col)
            out.append(f"    {where}: {loc.message}" if loc.message else f"    {where}")
    return "\n".join(out) + ("\n" if out else "")


def summary_line(findings: Sequence[Finding], context: ReportContext) -> str:
    """The one line that goes to stderr after the findings."""
    counts = Counter(f.severity.value for f in findings)
    files = f"{context.files} file{'s' if context.files != 1 else ''}"
    if not findings:
        head = "no findings"
    else:
        parts = [f"{counts[s]} {s}{'s' if counts[s] != 1 else ''}"
                 for s in ("error", "warning", "note") if counts[s]]
        head = f"{len(findings)} finding{'s' if len(findings) != 1 else ''} ({', '.join(parts)})"
    return f"premerge: {head} in {files}, {context.seconds:.2f}s"
