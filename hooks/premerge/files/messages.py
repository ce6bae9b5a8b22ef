"""PM2xx: required files and the manifest.  One class per message, pyflakes-style.

Findings about a manifest entry are reported at the entry's line in ``premerge.yaml``; findings
about a code reference (PM207, PM208) at the code line that makes it.
"""

from __future__ import annotations

import os
from pathlib import Path

from premerge.config import static_prefix
from premerge.files.references import CHECK, GUARDED_READ, OTHER, READ, TAIL, is_code
from premerge.findings import RULES, Location, Rule, Severity
from premerge.records import Record
from premerge.sources import matches_any, posix

#: typing and the manifest checks' classes are imported for type checkers only
TYPING_ONLY = False
if TYPING_ONLY:
    from collections.abc import Iterator
    from typing import ClassVar

    from premerge.config import Config, RequiredFile
    from premerge.files.references import Reference, ScanResult
    from premerge.files.rules import Declarations, RepoFacts
    from premerge.findings import Finding

_CLONE = "it would be missing from every clean clone, CI run and new worktree"


class EntryState(Record):
    """One ``required_files`` entry as this checkout and git see it: what the entry rules
    (:data:`ENTRY_RULES`) judge.  Built by :func:`premerge.files.rules.check_entries`, which
    asks git once, for every entry together, which untracked files it ignores."""

    __slots__ = _fields = ("entry", "path", "pattern", "where", "matches", "untracked",
                           "ignored", "references", "facts")

    def __init__(self, entry: RequiredFile, path: str, pattern: str, where: str,
                 matches: list[str], untracked: list[str],
                 ignored: dict[str, tuple[str, int, str] | None],
                 references: dict[str, list[tuple[str, Reference]]], facts: RepoFacts) -> None:
        self.entry = entry
        #: the entry's path, normalized; the glob it stands for ("" for one file)
        self.path = path
        self.pattern = pattern
        #: the manifest, where findings about the entry are reported
        self.where = where
        #: the files in this checkout the entry names, and those of them git does not track
        self.matches = matches
        self.untracked = untracked
        #: untracked path -> the (source, line, pattern) of the rule that ignores it, or None
        self.ignored = ignored
        #: repository path -> the code references to it
        self.references = references
        self.facts = facts

    def related(self, path: str) -> list[Location]:
        """The code that references ``path`` (ten places at most)."""
        return [Location(path=self.facts.full(src), line=ref.line, col=ref.col,
                         message="referenced by the code here")
                for src, ref in self.references.get(path, [])[:10]]

    def at(self, rule: type[Rule], name: str, related: list[Location] | None = None,
           **fields: object) -> Finding:
        """The rule's finding at the entry's line in the manifest."""
        return rule.at(self.where, self.entry.line, self.entry.col, name=name,
                       related=self.related(self.path) if related is None else related,
                       **fields)


class ReferenceScan(Record):
    """The code references of a run and what the reference rules (:data:`REFERENCE_RULES`)
    judge them by: the manifest's declarations and what git says about the repository."""

    __slots__ = _fields = ("config", "facts", "scanned", "declared")

    def __init__(self, config: Config, facts: RepoFacts, scanned: ScanResult,
                 declared: Declarations) -> None:
        self.config = config
        self.facts = facts
        self.scanned = scanned
        self.declared = declared

    def repository_paths(self) -> Iterator[tuple[str, Reference, bool, bool]]:
        """(source, reference, names a tracked file, names a directory of tracked files) for
        every reference to a resource of this repository: not code, not written, not
        excluded, not in a submodule."""
        exclude = self.config.files.exclude
        facts = self.facts
        for src, ref in self.scanned.items():
            target = ref.target
            if not target or is_code(target) or ref.writes:
                continue
            if exclude and matches_any(target, exclude) or facts.in_submodule(target):
                continue  # excluded, or a submodule's file: not this repository's to judge
            is_file = target in facts.tracked and not ref.dynamic
            is_dir = not is_file and (ref.dynamic or target not in facts.tracked) and \
                bool(facts.tracked_below(target))
            yield src, ref, is_file, is_dir


class FilesRule(Rule):
    """A PM2xx rule."""

    #: what a run outside git cannot check, named in its note ("": checked without git too)
    skipped_without_git: ClassVar[str] = ""


class ReferenceRule(FilesRule):
    """A rule about the code's references to repository files."""

    @classmethod
    def findings(cls, scan: ReferenceScan) -> list[Finding]:
        raise NotImplementedError


class EntryRule(FilesRule):
    """A rule about one ``required_files`` entry: it finds what it reports in the state."""

    #: what ``premerge init`` changes on a starter entry this rule fails, so that the starter
    #: manifest passes: (the entry's option, the value that passes, the note it writes)
    starter_relaxes: ClassVar[tuple[str, bool, str] | None] = None

    @classmethod
    def findings(cls, state: EntryState) -> list[Finding]:
        raise NotImplementedError


class MissingFile(EntryRule):
    code = "PM201"
    title = "required file missing"
    template = "required file '{name}' is missing{detail}"
    help = ("A file declared in premerge.yaml's required_files does not exist at the repository "
            "root. Code that reads it fails at run time (or, worse, prints a warning and carries "
            "on). Restore the file, or remove the entry if it is no longer needed.")
    example = "required_files: [CLAUDE.md]   # and no CLAUDE.md in the repository"

    @classmethod
    def findings(cls, state: EntryState) -> list[Finding]:
        if state.pattern or state.matches:
            return []
        facts, path = state.facts, state.path
        full = facts.root / path
        detail = ""
        if os.path.islink(full):
            detail = f" (a symlink to {os.readlink(full)}, which does not exist)"
        elif facts.in_git and path in facts.tracked:
            detail = " (deleted in the working tree; git's index still has it)"
        elif facts.in_git and path in facts.repo.tracked_dirs:  # type: ignore[union-attr]
            detail = " (it is a directory of tracked files?)"
        return [state.at(cls, path, detail=detail)]


class TooFewMatches(EntryRule):
    code = "PM202"
    title = "glob matches too few files"
    template = "'{name}' matches {count} file{plural}, fewer than min_count {min_count}"
    help = ("A required_files glob matches fewer files than its min_count (default 1): a "
            "directory of templates or briefings was emptied, renamed or never added.")
    example = "- path: templates/*.md\n  min_count: 2   # and only one template exists"

    @classmethod
    def findings(cls, state: EntryState) -> list[Finding]:
        count, wanted = len(state.matches), state.entry.min_count
        if not state.pattern or count >= wanted:
            return []
        return [state.at(cls, state.entry.path, count=count, plural="" if count == 1 else "s",
                         min_count=wanted)]


class UntrackedFile(EntryRule):
    code = "PM203"
    title = "required file not committed"
    template = "'{name}' exists here but is not committed (untracked): " + _CLONE
    help = ("The file is on disk in this checkout but git does not track it, so every clean "
            "clone, CI run and new git worktree lacks it. `git add` and commit it (or set "
            "`tracked: false` on the entry if it is generated on purpose).")
    example = "CLAUDE.md created locally, never `git add`-ed"
    skipped_without_git = "not committed"
    starter_relaxes = ("tracked", False, "is not committed today")

    @classmethod
    def findings(cls, state: EntryState) -> list[Finding]:
        return [state.at(cls, path, related=state.related(path)) for path in state.untracked
                if state.ignored.get(path) is None]


class IgnoredFile(EntryRule):
    code = "PM204"
    title = "required file ignored by git"
    template = "'{name}' exists here but git ignores it ({source}): " + _CLONE
    help = ("The file is on disk but matched by a .gitignore (or .git/info/exclude, or the "
            "global excludes file) rule, so `git add` skips it and every clean clone, CI run "
            "and new git worktree lacks it. Narrow the ignore rule (the related location shows "
            "it) or force-add the file.")
    example = ".gitignore: *.md   # and CLAUDE.md is required"
    skipped_without_git = "ignored"
    starter_relaxes = ("tracked", False, "is not committed today")

    @classmethod
    def findings(cls, state: EntryState) -> list[Finding]:
        found = []
        for path in state.untracked:
            source = state.ignored.get(path)
            if source is None:
                continue
            rule_file, rule_line, pattern = source
            rule_path = rule_file if os.path.isabs(rule_file) else state.facts.full(rule_file)
            found.append(state.at(
                cls, path, source=f"{Path(rule_file).as_posix()}:{rule_line}: {pattern}",
                related=[Location(path=posix(rule_path), line=rule_line or None, col=1,
                                  message=f"this rule ignores it: {pattern}"),
                         *state.related(path)]))
        return found


class EmptyFile(EntryRule):
    code = "PM205"
    title = "required file empty"
    template = "required file '{name}' is empty"
    help = ("The declared file exists but has no content. An empty briefing or template is "
            "as bad as a missing one, only quieter. Fill it, or set `allow_empty: true` on the "
            "entry when an empty file is valid.")
    example = "touch CLAUDE.md"
    starter_relaxes = ("allow_empty", True, "is empty today")

    @classmethod
    def findings(cls, state: EntryState) -> list[Finding]:
        if state.entry.allow_empty:
            return []
        return [state.at(cls, match) for match in state.matches if state.facts.is_empty(match)]


class MissingInWorktree(EntryRule):
    code = "PM206"
    title = "required file missing from a worktree"
    template = "'{name}' is missing from the git worktree {worktree} ({branch}){detail}"
    help = ("The entry has `worktrees: true`, and one of the repository's git worktrees "
            "(`git worktree list`) lacks the file: the agent or build working there runs "
            "without it. Commit the file on that worktree's branch (or rebase it), or copy it "
            "in, and make the provisioning step fail loudly instead of warning.")
    example = ("- path: CLAUDE.md\n  worktrees: true   # and `git worktree add ../agent1` on a "
               "branch without it")
    skipped_without_git = "worktrees"

    @classmethod
    def findings(cls, state: EntryState) -> list[Finding]:
        entry, facts = state.entry, state.facts
        if not entry.worktrees or not facts.in_git:
            return []
        found = []
        for tree in facts.other_worktrees:
            base = Path(tree.path)
            branch = f"branch {tree.branch}" if tree.branch else (
                f"detached HEAD at {tree.head[:10]}" if tree.head else "no branch")
            if state.pattern:
                count = len(facts.disk_glob(state.pattern, base))
                if count >= entry.min_count:
                    continue
                detail = f": {count} matching file{'s' if count != 1 else ''}, min_count " \
                         f"{entry.min_count}"
                missing_at = base / (static_prefix(state.pattern) or ".")
            else:
                missing_at = base / state.path
                if os.path.exists(missing_at):
                    continue
                detail = ""
            found.append(state.at(
                cls, entry.path, worktree=posix(base), branch=branch, detail=detail,
                related=[Location(path=posix(missing_at),
                                  message=f"missing in this worktree ({branch})")]))
        return found


class UndeclaredReference(ReferenceRule):
    code = "PM207"
    title = "referenced file not declared"
    template = "'{name}' is {usage} by this code but not declared in premerge.yaml{detail}"
    help = ("The code reaches for a repository file (a path built from __file__, from the "
            "repository root, or the literal name of a tracked file in open()/Path()/"
            "shutil.copy()/read_text()) that required_files does not declare, so nothing stops "
            "it from being deleted, emptied or left out of a worktree. Declare it (a glob "
            "covers a directory), or list the path under `files.exclude`. Runtime data (home, "
            "temp, environment, arguments, files the program writes) is never reported.")
    example = 'BRIEFING = Path(__file__).parent / "CLAUDE.md"   # CLAUDE.md not in premerge.yaml'

    @classmethod
    def findings(cls, scan: ReferenceScan) -> list[Finding]:
        if scan.config.manifest is None:
            return []  # nothing is declared: every reference would be reported
        found = []
        declared = scan.declared
        for src, ref, is_file, is_dir in scan.repository_paths():
            read = READ in ref.usages or GUARDED_READ in ref.usages
            if ref.anchor == "cwd":
                # a literal name relative to the working directory is only known to mean this
                # repository's file when it names a tracked file the code opens or copies; a
                # bare existence check or a Path() handed elsewhere may well be about the
                # user's cwd
                if is_file and read and not declared.covers(ref.target):
                    found.append(cls._finding(scan.facts, src, ref))
                continue
            if not (is_file or is_dir) or declared.covers(ref.target, is_dir=is_dir):
                continue
            if is_dir and not (scan.facts.is_resource_dir(ref.target) and read):
                continue  # a directory passed around (sys.path, a loader): not known to be read
            found.append(cls._finding(scan.facts, src, ref))
        return found

    @classmethod
    def _finding(cls, facts: RepoFacts, src: str, ref: Reference) -> Finding:
        name = ref.target + ("/" if ref.dynamic or ref.target not in facts.tracked else "")
        detail = ": declare it under required_files (a glob such as " \
                 f"'{ref.target}/**' covers the directory)" if name.endswith("/") else ""
        return cls.at(facts.full(src), ref.line, ref.col, end_line=ref.end_line,
                      end_col=ref.end_col, name=name, usage=_usage_word(ref), detail=detail)


class BrokenReference(ReferenceRule):
    code = "PM208"
    title = "broken resource path"
    template = "'{name}' {problem}: this code reads it relative to {anchor}"
    help = ("The code reads a path built from __file__ (or the repository root) that is not in "
            "the repository: it does not exist, or exists only here without being committed. "
            "The read fails at run time, in a clean clone or in CI. Paths the code checks "
            "first (`.exists()`, a try/except OSError), writes or creates itself, hands to "
            "code premerge cannot see (which may create them), or that .gitignore ignores are "
            "treated as optional or runtime data and not reported.")
    example = 'Path(__file__).parent.joinpath("templates", "role.md").read_text()  # no such file'

    @classmethod
    def findings(cls, scan: ReferenceScan) -> list[Finding]:
        facts = scan.facts
        written: set[str] = set()
        optional: set[str] = set()
        for _src, ref in scan.scanned.items():
            # written, or handed to code premerge cannot see (a downloader, an extractor, a
            # database): the program may create it, so its absence is not a broken path
            if ref.writes or OTHER in ref.usages:
                written.add(ref.target)
            if ref.optional:
                optional.add(ref.target)
        broken: list[tuple[str, Reference]] = []
        for src, ref, is_file, is_dir in scan.repository_paths():
            if ref.anchor == "cwd" or is_file or is_dir:
                continue  # in the repository: declared or not is PM207's business
            target = ref.target
            if not ref.reads or target in optional or _runtime_data(target, written):
                continue
            if scan.declared.covers(target, is_dir=ref.dynamic):
                continue  # the manifest checks report it at the entry
            broken.append((src, ref))
        if not broken:
            return []
        ignored = facts.ignored_by([ref.target for _, ref in broken]) if facts.in_git else {}
        found = []
        for src, ref in broken:
            target = ref.target
            if ignored.get(target):
                continue  # git ignores it on purpose: local or generated data
            if (facts.root / target).exists():
                if not facts.in_git or ref.dynamic:
                    continue  # on disk and no git to ask: it is there
                problem = ("exists here but is not committed, so a clean clone, CI run or "
                           "new worktree lacks it")
            else:
                problem = "does not exist in the repository"
            found.append(cls.at(
                facts.full(src), ref.line, ref.col, end_line=ref.end_line, end_col=ref.end_col,
                name=target + ("/" if ref.dynamic else ""), problem=problem,
                anchor="its own module (__file__)"))
        return found


class ManifestNotCommitted(FilesRule):
    code = "PM209"
    title = "manifest not committed"
    template = "{name} is not committed ({state}): CI and clean clones check none of its entries"
    severity = Severity.WARNING
    help = ("The manifest itself is untracked or ignored, so every other checkout (CI, a "
            "colleague's clone, a new worktree) runs without its declarations. Commit it.")
    example = "premerge init   # and premerge.yaml never committed"
    skipped_without_git = "manifest committed"


class SwallowedFailure(ReferenceRule):
    code = "PM210"
    title = "required file's failure swallowed"
    template = ("{verb} required file '{name}' can fail silently: the handler at line "
                "{handler_line} {behaviour}")
    severity = Severity.WARNING  # an error for entries with `worktrees: true`
    help = ("The code reads, copies or moves a file premerge.yaml declares inside a try whose "
            "handler catches the failure (OSError or a subclass, shutil.Error, Exception, "
            "BaseException, a bare except) and then only logs, prints, warns, passes or "
            "continues, or inside `with contextlib.suppress(...)` -- in its own function or in "
            "a caller in the same module: the file goes missing and the run still succeeds. Re-raise (or raise "
            "your own error), exit non-zero, return a value the caller can tell from success, "
            "or record the failure and test it after the loop. An error for entries with "
            "`worktrees: true` (provisioning is their whole point), a warning otherwise.")
    example = ("try:\n    shutil.copy2(ROOT / \"CLAUDE.md\", tree / \"CLAUDE.md\")\n"
               "except Exception as e:\n    print(f\"Warning: Could not copy CLAUDE.md: {e}\")")

    @classmethod
    def findings(cls, scan: ReferenceScan) -> list[Finding]:
        facts = scan.facts
        manifest = posix(scan.config.manifest_path)
        exclude = scan.config.files.exclude
        found: list[Finding] = []
        for src, ref in scan.scanned.items(tails=True):
            if not ref.swallowed or (exclude and matches_any(ref.target, exclude)):
                continue
            tail = ref.anchor == TAIL
            entry = scan.declared.entry_for_tail(ref.target) if tail else \
                scan.declared.entry_for(ref.target, is_dir=ref.dynamic)
            if entry is None:
                continue
            name = entry.path if ref.dynamic else ref.target
            where = f"'.../{name}' here (its directory is computed at run time)" if tail \
                else f"'{name}' here"
            for swallow in ref.swallowed:
                related = [Location(path=facts.full(src), line=swallow.line, col=swallow.col,
                                    message=f"{swallow.verb} {where}"),
                           *(Location(path=facts.full(src), line=line, col=col,
                                      message="called here, inside the try" if index == len(
                                          swallow.via) - 1 else "called here")
                             for index, (line, col) in enumerate(swallow.via)),
                           Location(path=manifest, line=entry.line, col=entry.col,
                                    message="declared required here" + (
                                        " (worktrees: true)" if entry.worktrees else ""))]
                found.append(cls.at(
                    facts.full(src), swallow.handler_line, swallow.handler_col, name=name,
                    verb=swallow.verb, handler_line=swallow.handler_line,
                    behaviour=swallow.behaviour, related=related,
                    severity=Severity.ERROR if entry.worktrees else Severity.WARNING))
        return found


#: The rules about one ``required_files`` entry, asked in this order (each finds its own).
ENTRY_RULES: tuple[type[EntryRule], ...] = (
    TooFewMatches,
    MissingFile,
    EmptyFile,
    MissingInWorktree,
    UntrackedFile,
    IgnoredFile,
)

#: The rules about the code's references, each asked once per run with every reference.
REFERENCE_RULES: tuple[type[ReferenceRule], ...] = (
    UndeclaredReference,
    BrokenReference,
    SwallowedFailure,
)


def _usage_word(ref: Reference) -> str:
    if READ in ref.usages or GUARDED_READ in ref.usages:
        return "read"
    if CHECK in ref.usages:
        return "checked"
    return "used"


def _runtime_data(target: str, written: set[str]) -> bool:
    """The program writes this path, something inside it, or a directory containing it."""
    for path in written:
        if path == target or target.startswith(path + "/") or path.startswith(target + "/"):
            return True
    return False


def skipped_without_git() -> str:
    """The rules a run outside git skips, for its note (``PM203 not committed, ...``)."""
    return ", ".join(f"{code} {rule.skipped_without_git}" for code, rule in sorted(RULES.items())
                     if issubclass(rule, FilesRule) and rule.skipped_without_git)
