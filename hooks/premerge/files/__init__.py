"""The files check: required files declared in premerge.yaml, and the files the code reaches for.

Two halves share one view of the repository (:class:`~premerge.files.rules.RepoFacts`):

- the manifest's ``required_files`` against the disk, git's index and every worktree
  (PM201-PM206, PM209), reported at each entry's line in the manifest;
- code references found statically (:mod:`premerge.files.references`) that the manifest does
  not declare (PM207) or that point at nothing in the repository (PM208), reported at the code;
- reads, copies and moves of declared files whose failure an ``except`` handler lets pass
  silently (PM210, :mod:`premerge.files.handlers`), reported at the handler.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence

from premerge.config import Config
from premerge.files.messages import REFERENCE_RULES, ReferenceScan, skipped_without_git
from premerge.files.references import Reference, ScanResult, scan
from premerge.files.rules import (Declarations, RepoFacts, check_entries,
                                  check_manifest_tracked, normalize)
from premerge.findings import CheckResult, Finding
from premerge.input_rules import SkippedFile
from premerge.sources import discover_python_files, glob_to_regex, relative_to

#: Test code is not scanned for references: its data files are checked by running the tests.
TEST_GLOBS = ("tests", "test", "testing", "test_*.py", "*_test.py", "conftest.py")


def run(config: Config, paths: Sequence[str]) -> CheckResult:
    facts = RepoFacts(config)
    facts.prefetch()
    scanned = scan_references(config, paths, facts)
    by_target: dict[str, list[tuple[str, Reference]]] = defaultdict(list)
    for src, ref in scanned.items():
        by_target[ref.target].append((src, ref))

    findings: list[Finding] = []
    entry_findings = check_entries(config, facts, by_target)
    findings.extend(entry_findings)
    failing_lines = {f.line for f in entry_findings}
    findings.extend(check_manifest_tracked(config, facts))
    scan = ReferenceScan(config, facts, scanned, Declarations(config.required_files))
    for rule in REFERENCE_RULES:
        findings.extend(rule.findings(scan))
    findings.extend(SkippedFile.at(path, 1, 1, reason="its file references were not checked: "
                                   "nested too deeply for the reference walk")
                    for path in scanned.too_deep)

    notes = list(facts.notes)
    if not facts.in_git:
        notes.append(f"not a git repository: skipped the checks that need git "
                     f"({skipped_without_git()})")
    if config.manifest is None:
        notes.append("no premerge.yaml: nothing is declared, so undeclared references (PM207) "
                     "are not reported; `premerge init` writes a starter manifest")
    return CheckResult(findings=findings, files=scanned.files, notes=notes,
                       facts={"references": sum(len(r) for r in scanned.by_file.values()),
                              "parsed": scanned.parsed,
                              "counts": _counts(config, scanned, failing_lines)})


def _counts(config: Config, scanned: ScanResult, failing_lines: set[int | None]) -> dict[str, int]:
    """For the closing summary: required-file entries and how many passed, references read."""
    counts = {"references": sum(len(r) for r in scanned.by_file.values())}
    if config.manifest is not None:
        counts["required"] = len(config.required_files)
        counts["present"] = sum(1 for entry in config.required_files
                                if entry.line not in failing_lines)
    return counts


def reference_sources(config: Config, paths: Sequence[str], facts: RepoFacts) -> list[str]:
    """Root-relative Python files to scan: the given PATHs, else every tracked ``*.py`` (or
    every ``*.py`` on disk outside git); test code and ``files.exclude`` left out."""
    root = config.root.as_posix()
    if paths:
        found, _missing = discover_python_files(paths, root)
        candidates = [relative_to(p, root) for p in found]
        candidates = [p for p in candidates if not p.startswith("/")]
    elif facts.in_git:
        candidates = sorted(p for p in facts.tracked if p.endswith(".py"))
    else:
        found, _missing = discover_python_files([root], root)
        candidates = [relative_to(p, root) for p in found]
    if config.run.changed is not None:
        changed = set(config.run.changed)
        candidates = [p for p in candidates if p in changed]
    skip = _any_glob((*TEST_GLOBS, *config.files.exclude))
    return [p for p in candidates if not skip.match(p)]


def _any_glob(patterns: Sequence[str]) -> re.Pattern[str]:
    """One regex for several globs (``matches_any`` semantics), for thousands of paths."""
    return re.compile("|".join(f"(?:{glob_to_regex(p)})" for p in patterns))


def scan_references(config: Config, paths: Sequence[str], facts: RepoFacts) -> ScanResult:
    sources = reference_sources(config, paths, facts)
    blobs = facts.unchanged_blobs() if config.run.use_cache else None
    return scan(config.root.as_posix(), sources, blobs, config.run.use_cache)


__all__ = ["run", "reference_sources", "scan_references", "normalize"]
