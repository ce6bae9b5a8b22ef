"""``--format sarif``: SARIF 2.1.0 for GitHub code scanning and other SARIF consumers.

One run; the tool's rules come from the code registry (never written twice); each result has a
physical location relative to ``%SRCROOT%`` (the repository root), related locations that
explain it, and ``partialFingerprints`` that survive unrelated edits: they hash what the finding
*is* (code, file, name or module, the text of its line) and never where the line sits, so
inserting lines above a finding does not make code scanning think it is a new alert.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from premerge.findings import Finding, Fix, Location, Rule, Severity, all_rules, family_of
from premerge.input_rules import InternalError
from premerge.report import ReportContext

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = ("https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/"
                "sarif-schema-2.1.0.json")
SRCROOT = "%SRCROOT%"
#: the key under ``partialFingerprints``; bump the suffix if the recipe ever changes
FINGERPRINT_KEY = "premerge/v1"

_LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "note"}
_DIGITS = re.compile(r"\d+")
_SPACES = re.compile(r"\s+")


def render(findings: Sequence[Finding], context: ReportContext) -> str:
    # Compact on purpose: machines read SARIF, and indent= forces json's pure-Python encoder
    # (about 3x slower on 10,000 findings).
    return json.dumps(document(findings, context), ensure_ascii=False,
                      separators=(",", ":")) + "\n"


def document(findings: Sequence[Finding], context: ReportContext,
             read_lines: Callable[[str], list[str] | None] | None = None) -> dict[str, Any]:
    """The SARIF log as a dict.  ``read_lines`` supplies source lines for fingerprints."""
    context = _MemoisedContext.of(context)
    rules = _rules_for(findings)
    index = {rule["id"]: i for i, rule in enumerate(rules)}
    fingerprints = fingerprints_for(findings, context, read_lines or _LineReader())
    results = [_result(f, context, index[f.code], fp) for f, fp in zip(findings, fingerprints)]
    invocation: dict[str, Any] = {
        "executionSuccessful": not any(f.code == InternalError.code for f in findings),
    }
    if context.notes:
        invocation["toolExecutionNotifications"] = [
            {"level": "note", "message": {"text": note}} for note in context.notes]
    run: dict[str, Any] = {
        "tool": {"driver": {
            "name": "premerge",
            "version": context.version,
            "semanticVersion": context.version,
            "rules": rules,
        }},
        "invocations": [invocation],
        "originalUriBaseIds": {SRCROOT: {"uri": _directory_uri(context.root)}},
        "columnKind": "unicodeCodePoints",
        "results": results,
    }
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}


class _MemoisedContext(ReportContext):
    """The context with ``root_path`` remembered per path (findings share a few files, and
    ``Path.relative_to`` dominated the time on large runs)."""

    __slots__ = ("memo",)
    memo: dict[str, str]  # not a field: no part of equality, hashing or repr

    def __init__(self, *fields: Any, **named: Any) -> None:
        super().__init__(*fields, **named)
        object.__setattr__(self, "memo", {})

    @classmethod
    def of(cls, context: ReportContext) -> _MemoisedContext:
        return cls(*context._values(ReportContext._fields))

    def root_path(self, path: str) -> str:
        relative = self.memo.get(path)
        if relative is None:
            relative = self.memo[path] = super().root_path(path)
        return relative


# ---------------------------------------------------------------------------------------------
# rules


def rule_descriptor(rule: type[Rule]) -> dict[str, Any]:
    """One ``reportingDescriptor`` from a registered rule class."""
    help_text = rule.help or rule.title
    markdown = help_text
    if rule.example:
        help_text += f"\n\nExample:\n{rule.example}"
        markdown += f"\n\nExample:\n\n```\n{rule.example}\n```"
    return {
        "id": rule.code,
        "name": rule.__name__,
        "shortDescription": {"text": rule.title or rule.code},
        "fullDescription": {"text": rule.help or rule.title or rule.code},
        "help": {"text": help_text, "markdown": markdown},
        "defaultConfiguration": {"level": _LEVELS[Severity(rule.severity)]},
        "properties": {"tags": ["premerge", family_of(rule.code)]},
    }


def _rules_for(findings: Sequence[Finding]) -> list[dict[str, Any]]:
    """Every registered rule, plus a bare descriptor for any code the registry lacks (so a
    result never points at a missing rule)."""
    descriptors = {code: rule_descriptor(rule) for code, rule in all_rules().items()}
    for finding in findings:
        if finding.code not in descriptors:
            descriptors[finding.code] = {
                "id": finding.code,
                "shortDescription": {"text": finding.code},
                "defaultConfiguration": {"level": _LEVELS[finding.severity]},
            }
    return [descriptors[code] for code in sorted(descriptors)]


# ---------------------------------------------------------------------------------------------
# results


def _result(finding: Finding, context: ReportContext, rule_index: int,
            fingerprint: str) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": finding.code,
        "ruleIndex": rule_index,
        "level": _LEVELS[finding.severity],
        "message": {"text": finding.message},
        "locations": [{"physicalLocation": _physical(finding.path, finding.line, finding.col,
                                                     finding.end_line, finding.end_col,
                                                     context)}],
        "partialFingerprints": {FINGERPRINT_KEY: fingerprint},
    }
    if finding.related:
        result["relatedLocations"] = [_related(i, loc, context)
                                      for i, loc in enumerate(finding.related, start=1)]
    properties = {k: v for k, v in (("name", finding.name), ("module", finding.module)) if v}
    if properties:
        result["properties"] = properties
    if finding.fix is not None and finding.fix.edits:
        result["fixes"] = [_fix(finding.path, finding.fix, context)]
    return result


def _related(ident: int, loc: Location, context: ReportContext) -> dict[str, Any]:
    if not Path(loc.path).is_absolute():
        # a pseudo-file (``<frozen importlib._bootstrap>``, ``<string>``): no artifact to point
        # at, so the place goes into the message
        where = loc.path + (f":{loc.line}" if loc.line is not None else "")
        return {"id": ident, "message": {"text": f"{where}: {loc.message}" if loc.message
                                         else where}}
    related: dict[str, Any] = {
        "id": ident,
        "physicalLocation": _physical(loc.path, loc.line, loc.col, loc.end_line, loc.end_col,
                                      context),
    }
    if loc.message:
        related["message"] = {"text": loc.message}
    return related


def artifact_location(path: str, context: ReportContext) -> dict[str, Any]:
    """Relative to ``%SRCROOT%`` inside the repository; an absolute ``file:`` URI outside it
    (another worktree, a site-packages frame)."""
    relative = context.root_path(path)
    if relative == ".." or relative.startswith("../") or Path(relative).is_absolute():
        return {"uri": Path(path).as_uri() if Path(path).is_absolute() else quote(relative)}
    return {"uri": quote(relative, safe="/"), "uriBaseId": SRCROOT}


def region(line: int | None, col: int | None, end_line: int | None,
           end_col: int | None) -> dict[str, int] | None:
    """A SARIF region (1-based lines and columns, end column exclusive); None without a line."""
    if line is None or line < 1:
        return None
    out = {"startLine": line}
    if col is not None and col >= 1:
        out["startColumn"] = col
    if end_line is not None and end_line >= line:
        out["endLine"] = end_line
        if end_col is not None and end_col >= 1 and (end_line > line or end_col >= (col or 1)):
            out["endColumn"] = end_col
    return out


def _physical(path: str, line: int | None, col: int | None, end_line: int | None,
              end_col: int | None, context: ReportContext) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": artifact_location(path, context)}
    place = region(line, col, end_line, end_col)
    if place is not None:
        physical["region"] = place
    return physical


def _fix(path: str, fix: Fix, context: ReportContext) -> dict[str, Any]:
    replacements = []
    for line, col, end_line, end_col, text in fix.edits:
        deleted = {"startLine": line, "startColumn": col, "endLine": end_line,
                   "endColumn": end_col}
        replacements.append({"deletedRegion": deleted, "insertedContent": {"text": text}})
    return {"description": {"text": fix.description},
            "artifactChanges": [{"artifactLocation": artifact_location(path, context),
                                 "replacements": replacements}]}


def _directory_uri(root: str) -> str:
    uri = Path(root).as_uri() if Path(root).is_absolute() else quote(root)
    return uri if uri.endswith("/") else uri + "/"


# ---------------------------------------------------------------------------------------------
# fingerprints


class _LineReader:
    """Reads each file once; None when it cannot be read (then the message stands in)."""

    def __init__(self) -> None:
        self._files: dict[str, list[str] | None] = {}

    def __call__(self, path: str) -> list[str] | None:
        if path not in self._files:
            from premerge.safefile import FileRefused, read_regular  # noqa: PLC0415
            from premerge.sources import MAX_SOURCE_BYTES  # noqa: PLC0415

            try:
                data = read_regular(path, MAX_SOURCE_BYTES)
            except FileRefused:
                self._files[path] = None
            else:
                self._files[path] = data.decode("utf-8", errors="replace").splitlines()
        return self._files[path]


def _line_text(finding: Finding, read_lines: Callable[[str], list[str] | None]) -> str:
    """The finding's line with whitespace collapsed, or, without one, its message with numbers
    removed (a message may mention a line number that moves)."""
    if finding.line is not None and finding.line >= 1:
        lines = read_lines(finding.path)
        if lines is not None and finding.line <= len(lines):
            return "line:" + _SPACES.sub(" ", lines[finding.line - 1]).strip()
    return "message:" + _DIGITS.sub("#", finding.message)


def fingerprints_for(findings: Sequence[Finding], context: ReportContext,
                     read_lines: Callable[[str], list[str] | None]) -> list[str]:
    """``HASH:N`` per finding: HASH from code, root-relative path, key/name/module and the
    normalised line text; N counts earlier findings with the same HASH (identical lines)."""
    seen: dict[str, int] = {}
    out: list[str] = []
    for finding in findings:
        identity = finding.key or finding.name or finding.module or ""
        material = "\0".join((finding.code, context.root_path(finding.path), identity,
                              _line_text(finding, read_lines)))
        digest = hashlib.sha256(material.encode("utf-8", "surrogatepass")).hexdigest()[:32]
        occurrence = seen.get(digest, 0) + 1
        seen[digest] = occurrence
        out.append(f"{digest}:{occurrence}")
    return out
