"""``premerge init``: a commented starter ``premerge.yaml`` from what the repository holds.

The required files are exactly what ``premerge files`` would report as undeclared (PM207) on
the repository as it is -- found by the same check, not a second implementation -- each with
the code lines that reference it as comments.  Flags are chosen so that ``premerge files``
passes right after ``init`` on an unchanged repository (an empty file gets ``allow_empty``, a
directory with uncommitted files ``tracked: false``), and the smoke section excludes what should
not be imported in the layout found (tests at any depth, build output, docs, setup.py).

It also fits what real repositories hold: agent instruction files (``CLAUDE.md``, ``AGENTS.md``,
``.claude/skills``...) are offered as required files -- active where code reads them, commented
out with the reason where nothing does; ``.py`` files that are templates (they do not parse and
hold Jinja ``{{``/``{%``) are excluded from scope and smoke; no file is listed twice (a file a
glob entry covers goes under that entry).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

from premerge.config import Config, ConfigError, FilesConfig, RequiredFile, parse_manifest
from premerge.files import scan_references
from premerge.files.messages import ReferenceScan, SwallowedFailure, UndeclaredReference
from premerge.files.rules import Declarations, RepoFacts, check_entries, glob_matches
from premerge.findings import rule_for
from premerge.parsed import parse_text
from premerge.records import Record
from premerge.safefile import FileRefused, read_regular
from premerge.sources import MAX_SOURCE_BYTES, SourceError, read_source, relative_to

#: File names that instruct coding agents, at any depth (a package's own CLAUDE.md too).
_INSTRUCTION_NAMES = ("CLAUDE.md", "AGENTS.md", "GEMINI.md", ".cursorrules", ".windsurfrules",
                      ".clinerules")
#: Single instruction files at fixed places.
_INSTRUCTION_FILES = (".github/copilot-instructions.md",)
#: Directories of agent instructions (skills, commands, sub-agents, rules): each subdirectory
#: becomes one glob entry, each file directly inside one entry of its own.
_INSTRUCTION_DIRS = (".claude", ".cursor", ".github/instructions", ".github/prompts")

#: Directory names that hold tests, at any depth (``lib/*/tests``).
_TEST_DIRS = ("tests", "test")

#: (glob, why) excluded from smoke when the layout has it.
_SMOKE_EXCLUDES = (
    ("**/conftest.py", "pytest configuration"),
    ("setup.py", "runs setup() when imported"),
    ("docs/**", "documentation build configuration (Sphinx conf.py)"),
    ("build/**", "build output"),
    ("dist/**", "build output"),
    ("noxfile.py", "task runner configuration"),
)


class _Entry(Record):
    """A proposed ``required_files`` entry; ``instructions`` names the kind of agent
    instructions it holds, and an entry no code references is written commented out."""

    __slots__ = _fields = ("path", "is_dir", "references", "allow_empty", "tracked", "notes",
                           "instructions")

    def __init__(self, path: str, is_dir: bool, references: list[tuple[str, int, str]],
                 allow_empty: bool = False, tracked: bool = True,
                 notes: list[str] | None = None, instructions: str = "") -> None:
        self.path = path
        self.is_dir = is_dir
        self.references = references  # (relpath, line, code)
        self.allow_empty = allow_empty
        self.tracked = tracked
        self.notes: list[str] = [] if notes is None else notes
        self.instructions = instructions

    @property
    def active(self) -> bool:
        """Written as a live entry: the code reads it (else offered, commented out)."""
        return bool(self.references)

    @property
    def is_glob(self) -> bool:
        return any(ch in self.path for ch in "*?[")


class _Layout(Record):
    """What ``init`` found besides the references: template files and test directories."""

    __slots__ = _fields = ("templates", "test_globs")

    def __init__(self, templates: list[str], test_globs: list[str]) -> None:
        self.templates = templates
        self.test_globs = test_globs


def write_starter(config: Config, target: Path, force: bool) -> str:
    """Write the starter manifest to ``target``; return the message to print."""
    target = Path(os.path.abspath(target))
    shown = _shown(target)
    if target.is_symlink():  # --force or not: the link may lead anywhere, even dangling
        raise ConfigError(f"{shown} is a symbolic link; premerge init never writes through "
                          "one: remove it first")
    if target.is_dir():
        raise ConfigError(f"{shown} is a directory")
    if target.exists() and not force:
        raise ConfigError(f"{shown} already exists; use --force to overwrite it")
    if not target.parent.is_dir():
        raise ConfigError(f"{shown}: directory {_shown(target.parent)} does not exist")

    fresh = config.replace(manifest=target, required_files=[], files=FilesConfig(), lines={})
    facts = RepoFacts(fresh)
    entries = _entries(fresh, facts)
    layout = _Layout(templates=_templates(facts), test_globs=_test_globs(facts))
    text = render(fresh, facts, entries, layout)
    parse_manifest(text, config.root, shown)  # what init writes must load (a bug otherwise)
    try:
        _write_no_follow(target, text.encode("utf-8"))
    except OSError as exc:
        raise ConfigError(f"{shown}: cannot write: {exc.strerror or exc}") from None
    return _summary(shown, entries, facts, layout)


def _write_no_follow(target: Path, data: bytes) -> None:
    """Create or truncate ``target`` (O_NOFOLLOW: a symlink planted since the check above
    fails the open instead of being written through) and write ``data``."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(target, flags | getattr(os, "O_CLOEXEC", 0), 0o644)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def _shown(path: Path) -> str:
    rel = os.path.relpath(path)
    return Path(rel if not rel.startswith("../..") else path).as_posix()


def _entries(config: Config, facts: RepoFacts) -> list[_Entry]:
    """The undeclared references, grouped per path, with flags that make them pass."""
    scanned = scan_references(config, [], facts)
    grouped: dict[str, _Entry] = {}
    scan = ReferenceScan(config, facts, scanned, Declarations(config.required_files))
    for finding in UndeclaredReference.findings(scan):
        if not finding.name:
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
    entries = _with_instructions(_once_each(entries), _instruction_entries(facts))
    _fit_flags(config, facts, entries)
    return entries


def _covers(glob_entry: _Entry, path: str) -> bool:
    return glob_entry.is_glob and glob_entry.path != path and glob_matches(glob_entry.path, path)


def _absorb(owner: _Entry, entries: Sequence[_Entry]) -> None:
    """``owner`` takes over the references and notes of the entries it covers."""
    for entry in entries:
        owner.references.extend(entry.references)
        owner.notes.extend(entry.notes)
    owner.references.sort()


def _once_each(entries: list[_Entry]) -> list[_Entry]:
    """No file listed twice: a file a glob entry covers goes under the glob, with its
    references (``templates/reviewer.md`` under ``templates/*.md``)."""
    globs = [e for e in entries if e.is_glob]
    kept: list[_Entry] = []
    for entry in entries:
        owner = next((g for g in globs if g is not entry and _covers(g, entry.path)), None)
        if owner is None:
            kept.append(entry)
        else:
            _absorb(owner, [entry])
    return kept


def _instruction_entries(facts: RepoFacts) -> list[_Entry]:
    """Committed agent instruction files, one entry per file or per instruction directory."""
    found: dict[str, _Entry] = {}
    for path in sorted(facts.tracked):
        name = path.rsplit("/", 1)[-1]
        if name in _INSTRUCTION_NAMES or path in _INSTRUCTION_FILES:
            found[path] = _Entry(path, False, [], instructions=name)
            continue
        base = next((d for d in _INSTRUCTION_DIRS if path.startswith(d + "/")), None)
        if base is None:
            continue
        rest = path[len(base) + 1:]
        if "/" not in rest:
            found[path] = _Entry(path, False, [], instructions=f"{base}/")
        else:
            directory = f"{base}/{rest.split('/', 1)[0]}"
            if directory not in found:
                found[directory] = _Entry(_directory_glob(directory, facts), True, [],
                                          instructions=f"{directory}/")
    return list(found.values())


def _with_instructions(entries: list[_Entry], offered: list[_Entry]) -> list[_Entry]:
    """Merge the instruction entries into the referenced ones: one the code already requires
    (by itself or under a glob) is not offered again; one that covers referenced files takes
    them over and becomes active; the rest are offered commented out."""
    out = list(entries)
    for candidate in offered:
        if any(e.path == candidate.path or _covers(e, candidate.path) for e in entries):
            for entry in entries:
                if entry.path == candidate.path:
                    entry.instructions = candidate.instructions
            continue
        covered = [e for e in out if _covers(candidate, e.path)]
        if covered:
            _absorb(candidate, covered)
            out = [e for e in out if e not in covered]
        out.append(candidate)
    return sorted(out, key=lambda e: (not e.active, e.is_dir, e.path))


def _templates(facts: RepoFacts) -> list[str]:
    """Tracked ``.py`` files that do not parse and look like templates (Jinja ``{{``/``{%``):
    scope and smoke would only report their syntax errors, which are there by design."""
    found: list[str] = []
    for path in sorted(p for p in facts.tracked if p.endswith(".py")):
        try:
            text = read_source(str(facts.root / path)).text  # regular and bounded, or refused
        except SourceError:
            continue
        if "{{" not in text and "{%" not in text:
            continue
        try:
            parse_text(text, path)
        except (SyntaxError, ValueError):
            found.append(path)
    return found


def _test_globs(facts: RepoFacts) -> list[str]:
    """Smoke excludes for the test directories that hold Python files, at any depth: ``tests/**``
    at the root, ``lib/*/tests/**`` for one per package of a monorepo."""
    directories: set[str] = set()
    for path in facts.tracked:
        if not path.endswith(".py"):
            continue
        parts = path.split("/")[:-1]
        for depth, part in enumerate(parts):
            if part in _TEST_DIRS:
                directories.add("/".join(parts[:depth + 1]))
                break
    by_shape: dict[tuple[str | None, str], set[str]] = {}
    for directory in directories:
        parent, _, name = directory.rpartition("/")
        grandparent, _, _ = parent.rpartition("/")
        by_shape.setdefault((grandparent if parent else None, name), set()).add(directory)
    globs: set[str] = set()
    for (grandparent, name), found in by_shape.items():
        if len(found) > 1:  # one per package of a monorepo: lib/*/tests/**
            globs.add(f"{grandparent + '/' if grandparent else ''}*/{name}/**")
        else:
            globs.add(f"{found.pop()}/**")
    if len(globs) > 4:  # scattered everywhere: one pattern at any depth
        globs = {f"**/{name}/**" for _, name in by_shape}
    return sorted(globs, key=lambda g: (g.count("/"), g))


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
            relax = getattr(rule_for(finding.code), "starter_relaxes", None)
            if relax is None:
                continue
            option, passing, note = relax
            if getattr(entry, option) != passing:
                setattr(entry, option, passing)
                entry.notes.append(f"{finding.name} {note}")


def _line(path: str, line: int | None) -> str:
    if not line:
        return ""
    try:
        data = read_regular(path, MAX_SOURCE_BYTES)
    except FileRefused:
        return ""
    text = data.decode("utf-8", errors="replace").replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")  # the line ends the parser counts, as text-mode reading did
    return lines[line - 1].strip()[:100] if line <= len(lines) else ""


def _q(text: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(text, ensure_ascii=False)


def _comment(text: str) -> str:
    return " ".join(text.split())


def render(config: Config, facts: RepoFacts, entries: Sequence[_Entry],
           layout: _Layout | None = None) -> str:
    layout = layout if layout is not None else _Layout([], [])
    out = [
        "# premerge.yaml -- written by `premerge init`; edit freely.",
        "# `premerge files` checks that every required file exists, is committed, is non-empty",
        "# (and, with `worktrees: true`, is present in every `git worktree`), and that every",
        "# repository file the code reaches for is declared here.",
        "# A declared file read or copied in a try whose handler only logs or passes is "
        f"{SwallowedFailure.code}.",
        "# Forms: `- CLAUDE.md` (short) or `- path: templates/*.md` with reason, min_count,",
        "# allow_empty, tracked, worktrees (see README).",
        "version: 1",
        "",
    ]
    active = [e for e in entries if e.active]
    offered = [e for e in entries if not e.active]
    offer_note = [
        "# agent instruction files no code was seen reading (the agent loads them itself, so",
        "# premerge cannot tell they are needed); uncomment to require them (worktrees: true",
        "# when agents work in git worktrees):",
    ]
    if active:
        out.append("required_files:")
        for entry in active:
            out.append("")
            for relpath, line, code in entry.references[:5]:
                out.append(f"  # {_comment(f'{relpath}:{line}: {code}')}")
            if len(entry.references) > 5:
                more = len(entry.references) - 5
                out.append(f"  # ... and {more} more reference{'s' if more != 1 else ''}")
            out.extend(_entry_lines(entry))
        if offered:
            out.append("")
            out.extend("  " + line for line in offer_note)
            for entry in offered:
                out.extend("  # " + line[2:] for line in _entry_lines(entry, offered=True))
    elif offered:
        # at column 0, so that uncommenting gives valid YAML once the empty list below goes
        out.extend(offer_note)
        out.append("# then delete `required_files: []` below")
        out.append("# required_files:")
        for entry in offered:
            out.extend("# " + line for line in _entry_lines(entry, offered=True))
        out.append("required_files: []   # the code references no repository file premerge "
                   "can see")
    else:
        out.append("required_files: []   # the code references no repository file premerge "
                   "can see")
    out.extend(["", "files:", "  # code references to ignore (paths or globs of the file that",
                "  # references, or of the file referenced); test code is never scanned",
                "  exclude: []", ""])
    out.extend(_smoke_section(facts, layout))
    out.extend(["", "scope:"])
    out.extend(_exclude_lines(_template_excludes(layout)))
    out.append("")
    return "\n".join(out)


def _entry_lines(entry: _Entry, offered: bool = False) -> list[str]:
    """The YAML lines of one entry (indented two spaces, as under ``required_files:``)."""
    if entry.instructions:
        reason = f"agent instructions ({entry.instructions})"
        if entry.active:
            reason += ", read by the code"
    else:
        reason = "read by the code (found by premerge init)"
    lines = [f"  # note: {_comment(note)}" for note in entry.notes]
    lines.append(f"  - path: {_q(entry.path)}")
    lines.append(f"    reason: {_q(reason)}")
    if entry.is_dir:
        lines.append("    min_count: 1")
    if entry.allow_empty:
        lines.append("    allow_empty: true")
    if not entry.tracked:
        lines.append("    tracked: false")
    if offered:
        lines.append("    worktrees: true")
    else:
        lines.append("    # worktrees: true   # also require it in every git worktree")
    return lines


def _template_excludes(layout: _Layout) -> list[tuple[str, str]]:
    return [(path, "a Jinja template ({{ }} / {% %}), not Python: it does not parse")
            for path in layout.templates]


def _exclude_lines(excludes: Sequence[tuple[str, str]]) -> list[str]:
    if not excludes:
        return ["  exclude: []"]
    return ["  exclude:", *(f"    - {_q(pattern)}   # {why}" for pattern, why in excludes)]


def _smoke_excludes(facts: RepoFacts, layout: _Layout) -> list[tuple[str, str]]:
    python_files = [p for p in facts.tracked if p.endswith(".py")]
    tests = [(pattern, "test modules: pytest imports them, with its fixtures")
             for pattern in layout.test_globs]
    found = [(pattern, why) for pattern, why in _SMOKE_EXCLUDES
             if any(glob_matches(pattern, p) for p in python_files)]
    return tests + found + _template_excludes(layout)


def _smoke_section(facts: RepoFacts, layout: _Layout) -> list[str]:
    return ["smoke:", "  # modules imported first, each in a fresh interpreter",
            '  include: ["**/*.py"]', *_exclude_lines(_smoke_excludes(facts, layout)),
            "  timeout: 20   # seconds per module",
            "  # scripts with top-level effects are skipped; list safe ones to import anyway:",
            "  run_scripts: []"]


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _why(excludes: Sequence[tuple[str, str]]) -> str:
    """``tests/**, lib/*/tests/** (test modules); setup.py (runs setup() when imported)``: the
    patterns grouped by the reason their comment gives, in its short form."""
    if not excludes:
        return "nothing"
    by_reason: dict[str, list[str]] = {}
    for pattern, why in excludes:
        by_reason.setdefault(why.split(":")[0], []).append(pattern)
    return "; ".join(f"{', '.join(patterns)} ({reason})" for reason, patterns in by_reason.items())


def _summary(shown: str, entries: Sequence[_Entry], facts: RepoFacts, layout: _Layout) -> str:
    """What init chose and why, in a few lines."""
    active = [e for e in entries if e.active]
    offered = [e for e in entries if not e.active]
    lines = [f"wrote {shown}:"]
    if active:
        lines.append(f"  required_files: {_plural(len(active), 'path')} the code references")
        for entry in active:
            lines.append(f"    - {entry.path}  ({_plural(len(entry.references), 'reference')})")
    else:
        lines.append("  required_files: none (the code references no repository file "
                     "premerge can see)")
    if offered:
        noun = "entry" if len(offered) == 1 else "entries"
        lines.append(f"  offered, commented out: {len(offered)} agent instruction {noun} no "
                     f"code reads ({', '.join(e.path for e in offered)})")
    lines.append(f"  smoke.exclude: {_why(_smoke_excludes(facts, layout))}")
    if layout.templates:
        lines.append(f"  scope.exclude: {_why(_template_excludes(layout))}")
    lines.append("next: review it, then `premerge files` and commit it")
    return "\n".join(lines)
