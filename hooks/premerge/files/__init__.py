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
from premerge.files.messages import BrokenReference, SwallowedFailure, UndeclaredReference
from premerge.files.references import (CHECK, GUARDED_READ, OTHER, READ, TAIL, Reference,
                                       ScanResult, is_code, scan)
from premerge.files.rules import (Declarations, RepoFacts, check_entries,
                                  check_manifest_tracked, normalize)
from premerge.findings import CheckResult, Finding, Location, Severity
from premerge.input_rules import SkippedFile
from premerge.sources import (discover_python_files, glob_to_regex, matches_any, posix,
                              relative_to)

#: Test code is not scanned for references: its data files are checked by running the tests.
TEST_GLOBS = ("tests", "test", "testing", "test_*.py", "*_test.py", "conftest.py")

_GIT_ONLY = "PM203 not committed, PM204 ignored, PM206 worktrees, PM209 manifest committed"


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
    findings.extend(check_references(config, facts, scanned))
    findings.extend(check_swallowed(config, facts, scanned))
    findings.extend(SkippedFile.at(path, 1, 1, reason="its file references were not checked: "
                                   "nested too deeply for the reference walk")
                    for path in scanned.too_deep)

    notes = list(facts.notes)
    if not facts.in_git:
        notes.append(f"not a git repository: skipped the checks that need git ({_GIT_ONLY})")
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


def _usage_word(ref: Reference) -> str:
    if READ in ref.usages or GUARDED_READ in ref.usages:
        return "read"
    if CHECK in ref.usages:
        return "checked"
    return "used"


def check_references(config: Config, facts: RepoFacts, scanned: ScanResult) -> list[Finding]:
    """PM207 (undeclared) and PM208 (broken) for every code reference."""
    declared = Declarations(config.required_files)
    report_undeclared = config.manifest is not None
    written: set[str] = set()
    optional: set[str] = set()
    for _src, ref in scanned.items():
        # written, or handed to code premerge cannot see (a downloader, an extractor, a
        # database): the program may create it, so its absence is not a broken path
        if ref.writes or OTHER in ref.usages:
            written.add(ref.target)
        if ref.optional:
            optional.add(ref.target)

    findings: list[Finding] = []
    broken: list[tuple[str, Reference, str]] = []
    exclude = config.files.exclude
    for src, ref in scanned.items():
        target = ref.target
        if not target or is_code(target) or ref.writes:
            continue
        if exclude and matches_any(target, exclude) or facts.in_submodule(target):
            continue  # excluded, or a submodule's file: not this repository's to judge
        is_file = target in facts.tracked and not ref.dynamic
        is_dir = not is_file and (ref.dynamic or target not in facts.tracked) and \
            bool(facts.tracked_below(target))
        if ref.anchor == "cwd":
            # a literal name relative to the working directory is only known to mean this
            # repository's file when it names a tracked file the code opens or copies; a bare
            # existence check or a Path() handed elsewhere may well be about the user's cwd
            if is_file and report_undeclared and (READ in ref.usages or
                                                  GUARDED_READ in ref.usages) \
                    and not declared.covers(target):
                findings.append(_undeclared(facts, src, ref))
            continue
        if is_file or is_dir:
            if declared.covers(target, is_dir=is_dir) or not report_undeclared:
                continue
            if is_dir and not (facts.is_resource_dir(target) and
                               (READ in ref.usages or GUARDED_READ in ref.usages)):
                continue  # a directory passed around (sys.path, a loader): not known to be read
            findings.append(_undeclared(facts, src, ref))
            continue
        if not ref.reads or target in optional or _runtime_data(target, written):
            continue
        if declared.covers(target, is_dir=ref.dynamic):
            continue  # the manifest checks report it at the entry
        broken.append((src, ref, target))

    if broken:
        ignored = facts.ignored_by([t for _, _, t in broken]) if facts.in_git else {}
        for src, ref, target in broken:
            if ignored.get(target):
                continue  # git ignores it on purpose: local or generated data
            full = facts.root / target
            if full.exists():
                if not facts.in_git or ref.dynamic:
                    continue  # on disk and no git to ask: it is there
                problem = ("exists here but is not committed, so a clean clone, CI run or "
                           "new worktree lacks it")
            else:
                problem = "does not exist in the repository"
            name = target + ("/" if ref.dynamic else "")
            findings.append(BrokenReference.at(
                facts.full(src), ref.line, ref.col, end_line=ref.end_line, end_col=ref.end_col,
                name=name, problem=problem, anchor="its own module (__file__)"))
    return findings


def check_swallowed(config: Config, facts: RepoFacts, scanned: ScanResult) -> list[Finding]:
    """PM210: a declared file's read, copy or move whose failure a handler swallows."""
    declared = Declarations(config.required_files)
    manifest = posix(config.manifest_path)
    exclude = config.files.exclude
    findings: list[Finding] = []
    for src, ref in scanned.items(tails=True):
        if not ref.swallowed or (exclude and matches_any(ref.target, exclude)):
            continue
        tail = ref.anchor == TAIL
        entry = declared.entry_for_tail(ref.target) if tail else \
            declared.entry_for(ref.target, is_dir=ref.dynamic)
        if entry is None:
            continue
        name = entry.path if ref.dynamic else ref.target
        for swallow in ref.swallowed:
            where = f"'.../{name}' here (its directory is computed at run time)" if tail \
                else f"'{name}' here"
            related = [Location(path=facts.full(src), line=swallow.line, col=swallow.col,
                                message=f"{swallow.verb} {where}"),
                       *(Location(path=facts.full(src), line=line, col=col,
                                  message="called here, inside the try" if index == len(
                                      swallow.via) - 1 else "called here")
                         for index, (line, col) in enumerate(swallow.via)),
                       Location(path=manifest, line=entry.line, col=entry.col,
                                message="declared required here" + (
                                    " (worktrees: true)" if entry.worktrees else ""))]
            findings.append(SwallowedFailure.at(
                facts.full(src), swallow.handler_line, swallow.handler_col, name=name,
                verb=swallow.verb, handler_line=swallow.handler_line,
                behaviour=swallow.behaviour, related=related,
                severity=Severity.ERROR if entry.worktrees else Severity.WARNING))
    return findings


def _runtime_data(target: str, written: set[str]) -> bool:
    """The program writes this path, something inside it, or a directory containing it."""
    for path in written:
        if path == target or target.startswith(path + "/") or path.startswith(target + "/"):
            return True
    return False


def _undeclared(facts: RepoFacts, src: str, ref: Reference) -> Finding:
    name = ref.target + ("/" if ref.dynamic or ref.target not in facts.tracked else "")
    detail = ": declare it under required_files (a glob such as " \
             f"'{ref.target}/**' covers the directory)" if name.endswith("/") else ""
    return UndeclaredReference.at(
        facts.full(src), ref.line, ref.col, end_line=ref.end_line, end_col=ref.end_col,
        name=name, usage=_usage_word(ref), detail=detail)


__all__ = ["run", "reference_sources", "scan_references", "check_references", "check_swallowed",
           "normalize"]
