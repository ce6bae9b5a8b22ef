"""Reporters: pure functions of findings, one module per format.

Each format module has ``render(findings, context) -> str``.  Nothing here computes a finding
or decides an exit code.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

from premerge import __version__
from premerge.findings import Finding
from premerge.records import FrozenRecord, frozen_init



class ReportContext(FrozenRecord):
    """What a reporter may know besides the findings."""

    __slots__ = _fields = ("root", "cwd", "files", "seconds", "by_check", "checks", "notes",
                           "version", "counts", "color")
    root: str  # repository root (absolute POSIX); SARIF URIs are relative to it
    cwd: str  # default: the current directory
    files: int
    seconds: float
    by_check: dict[str, int]
    checks: Sequence[str]
    notes: Sequence[str]
    version: str
    #: check -> what it looked at and what passed (``{"files": 37}``, ``{"imported": 3}``)
    counts: dict[str, dict[str, int]]
    #: paint text output with ANSI colour (:func:`premerge.report.color.wanted`)
    color: bool

    def __init__(self, root: str, cwd: str | None = None, files: int = 0, seconds: float = 0.0,
                 by_check: dict[str, int] | None = None, checks: Sequence[str] = (),
                 notes: Sequence[str] = (), version: str = __version__,
                 counts: dict[str, dict[str, int]] | None = None, color: bool = False) -> None:
        frozen_init(self, root, Path.cwd().as_posix() if cwd is None else cwd, files, seconds,
                    {} if by_check is None else by_check, checks, notes, version,
                    {} if counts is None else counts, color)

    def display_path(self, path: str) -> str:
        """A path relative to the current directory with POSIX separators (as the contract
        says), or absolute when it is on another drive."""
        try:
            rel = os.path.relpath(path, self.cwd)
        except ValueError:
            return Path(path).as_posix()
        return Path(rel).as_posix()

    def root_path(self, path: str) -> str:
        """A path relative to the repository root (SARIF, annotations)."""
        try:
            return Path(path).relative_to(self.root).as_posix()
        except ValueError:
            return Path(os.path.relpath(path, self.root)).as_posix()


def render(format_name: str, findings: Sequence[Finding], context: ReportContext) -> str:
    return RENDERERS[format_name](findings, context)


def _text(findings: Sequence[Finding], context: ReportContext) -> str:
    from premerge.report import text  # noqa: PLC0415 - each format loads only when used

    return text.render(findings, context)


def _json(findings: Sequence[Finding], context: ReportContext) -> str:
    from premerge.report import json  # noqa: PLC0415

    return json.render(findings, context)


def _sarif(findings: Sequence[Finding], context: ReportContext) -> str:
    from premerge.report import sarif  # noqa: PLC0415

    return sarif.render(findings, context)


def _github(findings: Sequence[Finding], context: ReportContext) -> str:
    from premerge.report import github  # noqa: PLC0415

    return github.render(findings, context)


def _summary(findings: Sequence[Finding], context: ReportContext) -> str:
    from premerge.report import summary  # noqa: PLC0415

    return summary.render(findings, context)


#: format name -> its ``render(findings, context)``
RENDERERS: dict[str, Callable[[Sequence[Finding], ReportContext], str]] = {
    "text": _text, "json": _json, "sarif": _sarif, "github": _github, "summary": _summary,
}
#: what ``--format`` offers (the job summary is written beside another format, in CI)
FORMATS = ("text", "json", "sarif", "github")
