"""``--format github``: workflow commands that GitHub turns into annotations on the diff.

``::error file=PATH,line=L,col=C,endLine=..,endColumn=..,title=CODE::MESSAGE`` (``::warning``
and ``::notice`` for the other severities).  Paths are relative to the repository root, which
is the workspace on a runner.  Escaping follows the runner's own rules (actions/toolkit
``command.ts``): data escapes ``%``, ``\\r``, ``\\n``; property values additionally ``:`` and
``,``, so a message or path can never end the command early or inject another one.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import PurePosixPath

from premerge.findings import Finding, Severity
from premerge.report import ReportContext

COMMANDS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "notice"}


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def root_place(path: str, line: int | None, col: int | None, context: ReportContext) -> str:
    """``path:line:col`` relative to the repository root (what GitHub and reviewers see); a
    pseudo-path such as ``<frozen importlib._bootstrap>`` stays as it is."""
    where = context.root_path(path) if PurePosixPath(path).is_absolute() else path
    if line is not None:
        where += f":{line}"
        if col is not None:
            where += f":{col}"
    return where


def message_for(finding: Finding, context: ReportContext) -> str:
    """The annotation body: the message, then one line per related location."""
    lines = [finding.message]
    for loc in finding.related:
        place = root_place(loc.path, loc.line, loc.col, context)
        lines.append(f"  {place}: {loc.message}" if loc.message else f"  {place}")
    return "\n".join(lines)


def properties_for(finding: Finding, context: ReportContext) -> dict[str, str]:
    props = {"file": context.root_path(finding.path)}
    if finding.line is not None and finding.line >= 1:
        props["line"] = str(finding.line)
        if finding.col is not None and finding.col >= 1:
            props["col"] = str(finding.col)
        if finding.end_line is not None and finding.end_line >= finding.line:
            props["endLine"] = str(finding.end_line)
            # GitHub honours a column range only on a single line.
            if (finding.end_line == finding.line and finding.end_col is not None
                    and finding.col is not None and finding.end_col >= finding.col):
                props["endColumn"] = str(finding.end_col)
    props["title"] = finding.code
    return props


def command_for(finding: Finding, context: ReportContext) -> str:
    props = ",".join(f"{key}={escape_property(value)}"
                     for key, value in properties_for(finding, context).items())
    body = escape_data(message_for(finding, context))
    return f"::{COMMANDS[finding.severity]} {props}::{body}"


def render(findings: Sequence[Finding], context: ReportContext) -> str:
    return "".join(command_for(f, context) + "\n" for f in findings)
