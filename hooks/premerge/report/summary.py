"""``--summary FILE``: a Markdown job summary (``$GITHUB_STEP_SUMMARY``).

A headline, per-check counts, then a table of findings (code, location, message) -- one row per
cause and a few related lines each, as text output shows them -- capped at :data:`MAX_ROWS`
with an "and N more" line, so a run with thousands of findings still leaves a
summary GitHub will show (it refuses summaries over 1 MiB).  Cells escape ``|``, backticks and
newlines; HTML and link brackets are neutralised so a message (which may quote the project's
own exception text) cannot inject markup, links or images.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from premerge.findings import Finding, rule_for
from premerge.report import ReportContext
from premerge.report.github import root_place
from premerge.report.grouping import problems, shown

MAX_ROWS = 50
_ICONS = {"error": "❌", "warning": "⚠️", "note": "ℹ️"}


def cell(text: str) -> str:
    """Text safe inside one Markdown table cell."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    # No links or images from finding text (an import error's message is the project's text).
    text = text.replace("[", "\\[").replace("]", "\\]")
    text = text.replace("|", "\\|").replace("\n", "<br>")
    return text


def code_cell(text: str) -> str:
    """Text in a code span inside a cell (backticks cannot be escaped inside a span)."""
    text = text.replace("`", "'").replace("|", "\\|").replace("\n", " ").replace("\r", " ")
    return f"`{text}`"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def headline(findings: Sequence[Finding], context: ReportContext) -> str:
    files = _plural(context.files, "file")
    if not findings:
        return f"### ✅ premerge: no findings in {files}"
    counts = Counter(f.severity.value for f in findings)
    parts = ", ".join(_plural(counts[s], s) for s in ("error", "warning", "note") if counts[s])
    icon = _ICONS["error" if counts["error"] else "warning" if counts["warning"] else "note"]
    return f"### {icon} premerge: {_plural(len(findings), 'finding')} ({parts}) in {files}"


def _per_check(findings: Sequence[Finding], context: ReportContext) -> dict[str, int]:
    if context.by_check:
        return dict(context.by_check)
    counts = Counter(f.check for f in findings)
    return {name: counts.get(name, 0) for name in (context.checks or sorted(counts))}


def render(findings: Sequence[Finding], context: ReportContext) -> str:
    out = [headline(findings, context), ""]
    per_check = _per_check(findings, context)
    if per_check:
        out += ["| check | findings |", "|---|---:|"]
        out += [f"| {cell(name)} | {count} |" for name, count in per_check.items()]
        out.append("")
    if findings:
        out += ["| code | location | message |", "|---|---|---|"]
        rows = problems(findings)  # one row per cause, as text output shows them
        for problem in rows[:MAX_ROWS]:
            finding = problem.finding
            rule = rule_for(finding.code)
            code = f"{_ICONS[finding.severity.value]} {code_cell(finding.code)}"
            if rule is not None and rule.title:
                code += f" {cell(rule.title)}"
            entries, more = shown(problem, see="the SARIF report")
            lines = [finding.message]
            lines += [f"↳ {root_place(e.location.path, e.location.line, e.location.col, context)}"
                      + (f": {e.location.message}" if e.location.message else "")
                      for e in entries]
            lines += [more] if more else []
            where = root_place(finding.path, finding.line, finding.col, context)
            message = "\n".join(lines)
            out.append(f"| {code} | {code_cell(where)} | {cell(message)} |")
        if len(rows) > MAX_ROWS:
            out.append("")
            out.append(f"… and {len(rows) - MAX_ROWS} more (see the annotations, the SARIF "
                       "report or `premerge check` locally).")
        out.append("")
    for note in context.notes:
        out.append(f"> {cell(note)}")
    if context.notes:
        out.append("")
    out.append(f"<sub>premerge {context.version} · {context.seconds:.2f}s</sub>")
    return "\n".join(out) + "\n\n"

