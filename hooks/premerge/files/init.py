"""``premerge init``: a commented starter ``premerge.yaml`` from what the repository holds.

The required files are exactly what ``premerge files`` would report as undeclared (PM207) on
the repository as it is -- found by the same check, not a second implementation -- each with
the code lines that reference it as comments.  Flags are chosen so that ``premerge files``
passes right after ``init`` on an unchanged repository (an empty file gets ``allow_empty``, a
directory with uncommitted files ``tracked: false``), and the smoke section excludes what should
not be imported in the layout found (tests, build output, docs, setup.py).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

from premerge.config import Config, ConfigError, FilesConfig, RequiredFile, parse_manifest
from premerge.files import check_references, scan_references
from premerge.files.messages import EmptyFile, IgnoredFile, UndeclaredReference, UntrackedFile
from premerge.files.rules import RepoFacts, check_entries, glob_matches
from premerge.records import Record
from premerge.sources import relative_to

#: Root files that brief people or agents; suggested (commented) when tracked.
_BRIEFING_FILES = ("CLAUDE.md", "AGENTS.md", "GEMINI.md", ".cursorrules",
                   ".github/copilot-instructions.md")

#: (glob, why) excluded from smoke when the layout has it.
_SMOKE_EXCLUDES = (
    ("tests/**", "test modules: pytest imports them, with its fixtures"),
    ("test/**", "test modules: pytest imports them, with its fixtures"),
    ("**/conftest.py", "pytest configuration"),
    ("setup.py", "runs setup() when imported"),
    ("docs/**", "documentation build configuration (Sphinx conf.py)"),
    ("build/**", "build output"),
    ("dist/**", "build output"),
    ("noxfile.py", "task runner configuration"),
)


class _Entry(Record):
    __slots__ = _fields = ("path", "is_dir", "references", "allow_empty", "tracked", "notes")

    def __init__(self, path: str, is_dir: bool, references: list[tuple[str, int, str]],
                 allow_empty: bool = False, tracked: bool = True,
                 notes: list[str] | None = None) -> None:
        self.path = path
        self.is_dir = is_dir
        self.references = references  # (relpath, line, code)
        self.allow_empty = allow_empty
        self.tracked = tracked
        self.notes: list[str] = [] if notes is None else notes


def write_starter(config: Config, target: Path, force: bool) -> str:
    """Write the starter manifest to ``target``; return the message to print."""
    target = Path(os.path.abspath(target))
    shown = _shown(target)
    if target.is_dir():
        raise ConfigError(f"{shown} is a directory")
    if target.exists() and not force:
        raise ConfigError(f"{shown} already exists; use --force to overwrite it")
    if not target.parent.is_dir():
        raise ConfigError(f"{shown}: directory {_shown(target.parent)} does not exist")

    fresh = config.replace(manifest=target, required_files=[], files=FilesConfig(), lines={})
    facts = RepoFacts(fresh)
    entries = _entries(fresh, facts)
    text = render(fresh, facts, entries)
    parse_manifest(text, config.root, shown)  # what init writes must load (a bug otherwise)
    try:
        target.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{shown}: cannot write: {exc.strerror or exc}") from None
    return _summary(shown, entries, facts)


def _shown(path: Path) -> str:
    rel = os.path.relpath(path)
    return Path(rel if not rel.startswith("../..") else path).as_posix()


def _entries(config: Config, facts: RepoFacts) -> list[_Entry]:
    """The undeclared references, grouped per path, with flags that make them pass."""
    scanned = scan_references(config, [], facts)
    grouped: dict[str, _Entry] = {}
    for finding in check_references(config, facts, scanned):
        if finding.code != UndeclaredReference.code or not finding.name:
            continue
        is_dir = finding.name.endswith("/")
        path = finding.name.rstrip("/")
        entry = grouped.setdefault(path, _Entry(path=path, is_dir=is_dir, references=[]))
        relpath = relative_to(finding.path, config.root.as_posix())
        code = _line(finding.path, finding.line)
        entry.references.append((relpath, finding.line or 0, code))
    entries = sorted(grouped.values(), key=lambda e: (e.is_dir, e.path))
    for entry in entries:
        if entry.is_dir:
            entry.path = _directory_glob(entry.path, facts)
    _fit_flags(config, facts, entries)
    return entries


def _directory_glob(directory: str, facts: RepoFacts) -> str:
    """``templates/*.md`` when every tracked file there shares one suffix, else ``dir/**``."""
    files = facts.tracked_below(directory)
    suffixes = {os.path.splitext(p)[1] for p in files}
    nested = any("/" in p[len(directory) + 1:] for p in files)
    if len(suffixes) == 1 and "" not in suffixes:
        return f"{directory}/{'**/' if nested else ''}*{suffixes.pop()}"
    return f"{directory}/**"


def _fit_flags(config: Config, facts: RepoFacts, entries: Sequence[_Entry]) -> None:
    """Run the manifest checks on the proposed entries; relax what the repository, as it is,
    does not meet (saying so in a comment) so that `premerge files` passes after init."""
    for _ in range(2):
        required = [RequiredFile(path=e.path, allow_empty=e.allow_empty, tracked=e.tracked,
                                 line=index) for index, e in enumerate(entries)]
        trial = config.replace(required_files=required)
        problems = check_entries(trial, facts, {})
        if not problems:
            return
        for finding in problems:
            entry = entries[finding.line or 0]
            if finding.code == EmptyFile.code and not entry.allow_empty:
                entry.allow_empty = True
                entry.notes.append(f"{finding.name} is empty today")
            elif finding.code in (UntrackedFile.code, IgnoredFile.code) and entry.tracked:
                entry.tracked = False
                entry.notes.append(f"{finding.name} is not committed today")


def _line(path: str, line: int | None) -> str:
    if not line:
        return ""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            for number, text in enumerate(handle, 1):
                if number == line:
                    return text.strip()[:100]
    except OSError:
        return ""
    return ""


def _q(text: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(text, ensure_ascii=False)


def _comment(text: str) -> str:
    return " ".join(text.split())


def render(config: Config, facts: RepoFacts, entries: Sequence[_Entry]) -> str:
    out = [
        "# premerge.yaml -- written by `premerge init`; edit freely.",
        "# `premerge files` checks that every required file exists, is committed, is non-empty",
        "# (and, with `worktrees: true`, is present in every `git worktree`), and that every",
        "# repository file the code reaches for is declared here.",
        "# PM210: a declared file read or copied in a try whose handler only logs or passes.",
        "# Forms: `- CLAUDE.md` (short) or `- path: templates/*.md` with reason, min_count,",
        "# allow_empty, tracked, worktrees (see README).",
        "version: 1",
        "",
    ]
    declared = {e.path for e in entries}
    suggestions = [name for name in _BRIEFING_FILES
                   if name in facts.tracked and name not in declared]
    if entries:
        out.append("required_files:")
        for entry in entries:
            out.append("")
            for relpath, line, code in entry.references[:5]:
                out.append(f"  # {_comment(f'{relpath}:{line}: {code}')}")
            if len(entry.references) > 5:
                more = len(entry.references) - 5
                out.append(f"  # ... and {more} more reference{'s' if more != 1 else ''}")
            for note in entry.notes:
                out.append(f"  # note: {_comment(note)}")
            out.append(f"  - path: {_q(entry.path)}")
            out.append(f"    reason: {_q('read by the code (found by premerge init)')}")
            if entry.is_dir:
                out.append("    min_count: 1")
            if entry.allow_empty:
                out.append("    allow_empty: true")
            if not entry.tracked:
                out.append("    tracked: false")
            out.append("    # worktrees: true   # also require it in every git worktree")
    else:
        out.append("required_files: []   # the code references no repository file premerge "
                   "can see")
    if suggestions:
        out.append("")
        out.append("  # committed briefing files nothing in the code was seen reading; uncomment")
        out.append("  # to require them (worktrees: true when agents work in git worktrees):")
        if not entries:
            out.append("# required_files:")
        for name in suggestions:
            out.append(f"  # - path: {_q(name)}")
            out.append("  #   worktrees: true")
    out.extend(["", "files:", "  # code references to ignore (paths or globs of the file that",
                "  # references, or of the file referenced); test code is never scanned",
                "  exclude: []", ""])
    out.extend(_smoke_section(facts))
    out.extend(["", "scope:", "  exclude: []", ""])
    return "\n".join(out)


def _smoke_section(facts: RepoFacts) -> list[str]:
    python_files = [p for p in facts.tracked if p.endswith(".py")]
    excludes = [(pattern, why) for pattern, why in _SMOKE_EXCLUDES
                if any(glob_matches(pattern, p) for p in python_files)]
    lines = ["smoke:", "  # modules imported first, each in a fresh interpreter",
             '  include: ["**/*.py"]']
    if excludes:
        lines.append("  exclude:")
        for pattern, why in excludes:
            lines.append(f"    - {_q(pattern)}   # {why}")
    else:
        lines.append("  exclude: []")
    lines.append("  timeout: 20   # seconds per module")
    lines.append("  # scripts with top-level effects are skipped; list safe ones to import anyway:")
    lines.append("  run_scripts: []")
    return lines


def _summary(shown: str, entries: Sequence[_Entry], facts: RepoFacts) -> str:
    lines = [f"wrote {shown}:"]
    if entries:
        lines.append(f"  required_files: {len(entries)} path"
                     f"{'s' if len(entries) != 1 else ''} the code references")
        for entry in entries:
            lines.append(f"    - {entry.path}  ({len(entry.references)} reference"
                         f"{'s' if len(entry.references) != 1 else ''})")
    else:
        lines.append("  required_files: none (the code references no repository file "
                     "premerge can see)")
    smoke = [line.strip()[2:].split("#")[0].strip().strip('"')
             for line in _smoke_section(facts) if line.startswith("    - ")]
    lines.append(f"  smoke.exclude: {', '.join(smoke) if smoke else 'nothing'}")
    lines.append("next: review it, then `premerge files` and commit it")
    return "\n".join(lines)
