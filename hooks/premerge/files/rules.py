"""The manifest's required_files checked against the disk, git's index and every worktree.

:class:`RepoFacts` answers the questions (exists? tracked? ignored, and by which rule? in which
worktrees?) with as few git calls as possible: one ``ls-files`` for the index, one
``check-ignore`` batch only for files that turn out untracked, one ``worktree list`` only when an
entry asks for worktrees.  Findings about an entry are reported at its line in the manifest.
"""

from __future__ import annotations

import bisect
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from functools import cached_property, lru_cache
from pathlib import Path, PurePosixPath

from premerge.config import Config, RequiredFile, static_prefix
from premerge.files.messages import ENTRY_RULES, EntryState, ManifestNotCommitted
from premerge.files.references import Reference, is_code
from premerge.findings import Finding
from premerge.repo import (CHANGES_QUERY, EMPTY_BLOBS, INDEX_QUERY, WORKTREES_QUERY, Repository,
                           Worktree, untracked_query)
from premerge.sources import glob_to_regex, posix

#: Directories never searched for glob matches.
_NEVER_WALK = frozenset({".git"})


def normalize(path: str) -> str:
    """A manifest path as a root-relative POSIX path (``./a//b/`` -> ``a/b``)."""
    text = PurePosixPath(path.strip().replace("\\", "/")).as_posix()
    return "" if text == "." else text


@lru_cache(maxsize=512)
def _anchored(pattern: str) -> re.Pattern[str]:
    """Manifest globs are anchored at the root: ``*.md`` means the root's Markdown files."""
    return re.compile(glob_to_regex("/" + pattern.lstrip("/")))


def glob_matches(pattern: str, relpath: str) -> bool:
    return _anchored(pattern).match(relpath) is not None


class RepoFacts:
    """What the disk and git say about the repository, computed lazily and once."""

    def __init__(self, config: Config, repo: Repository | None = None) -> None:
        self.config = config
        self.repo = repo if repo is not None or not config.in_git else Repository(config.root)
        self.notes: list[str] = []
        self._ignore: dict[str, tuple[str, int, str] | None] = {}
        self._untracked_all: list[str] = []
        self._untracked_all_loaded = False

    @property
    def root(self) -> Path:
        return self.config.root

    @property
    def in_git(self) -> bool:
        return self.repo is not None

    def full(self, relpath: str) -> str:
        return posix(self.root / relpath) if relpath else posix(self.root)

    # the index ---------------------------------------------------------------------------

    @cached_property
    def tracked(self) -> frozenset[str]:
        """Tracked files (git), or every file on disk outside git."""
        if self.repo is not None:
            return self.repo.tracked_files
        return frozenset(self._walk_all())

    @cached_property
    def tracked_sorted(self) -> list[str]:
        return sorted(self.tracked)

    def tracked_below(self, directory: str) -> list[str]:
        """Tracked files inside ``directory`` (root-relative)."""
        if not directory:
            return self.tracked_sorted
        prefix = directory + "/"
        files = self.tracked_sorted
        start = bisect.bisect_left(files, prefix)
        end = bisect.bisect_left(files, prefix + "\U0010ffff")
        return files[start:end]

    def in_submodule(self, relpath: str) -> bool:
        """Inside a git submodule: the superproject's index cannot say whether it is tracked."""
        return self.repo is not None and (self.tracked is not None) and \
            self.repo.in_submodule(relpath)

    def is_resource_dir(self, directory: str) -> bool:
        """A tracked directory holding at least one file that is not Python code."""
        return any(not is_code(p) for p in self.tracked_below(directory))

    def _walk_all(self) -> list[str]:
        from premerge.sources import SKIP_DIR_NAMES  # noqa: PLC0415

        found: list[str] = []
        root = str(self.root)
        for current, dirnames, filenames in os.walk(root):
            dirnames[:] = [d for d in dirnames if d not in SKIP_DIR_NAMES
                           and not os.path.islink(os.path.join(current, d))]
            rel = os.path.relpath(current, root)
            for name in filenames:
                found.append(name if rel == "." else f"{Path(rel).as_posix()}/{name}")
        return found

    # ignore rules ------------------------------------------------------------------------

    def ignored_by(self, relpaths: Iterable[str]) -> dict[str, tuple[str, int, str] | None]:
        """For each path: the (source, line, pattern) of the rule that ignores it, or None."""
        wanted = [p for p in dict.fromkeys(relpaths) if p not in self._ignore]
        if wanted and self.repo is not None:
            found = self.repo.ignore_sources(wanted)
            for path in wanted:
                self._ignore[path] = found.get(path)
        return {p: self._ignore.get(p) for p in relpaths}

    # disk --------------------------------------------------------------------------------

    @cached_property
    def _changes(self) -> tuple[frozenset[str], frozenset[str]]:
        if self.repo is None:
            return frozenset(), frozenset()
        return self.repo.worktree_changes

    def unchanged_blobs(self) -> dict[str, str]:
        """Tracked files whose working-tree content is their staged blob -> the blob id."""
        if self.repo is None:
            return {}
        modified, deleted = self._changes
        if not modified and not deleted:
            return self.repo.index
        return {p: b for p, b in self.repo.index.items() if p not in modified
                and p not in deleted}

    def exists(self, relpath: str) -> bool:
        if self.repo is not None and relpath in self.tracked:
            return relpath not in self._changes[1]
        return os.path.exists(self.root / relpath)

    def is_empty(self, relpath: str) -> bool:
        """An existing regular file with no content (git's blob id answers for clean files)."""
        if self.repo is not None and relpath in self.tracked and \
                relpath not in self._changes[0] and relpath not in self._changes[1]:
            return self.repo.index[relpath] in EMPTY_BLOBS
        try:
            return (self.root / relpath).is_file() and os.path.getsize(self.root / relpath) == 0
        except OSError:
            return False

    def matching(self, pattern: str) -> list[str]:
        """Files in this checkout matching a manifest glob: in git, the tracked ones still on
        disk plus untracked ones git does not ignore (what `git add -A` would commit); outside
        git, every file on disk."""
        if self.repo is None:
            return self.disk_glob(pattern)
        regex = _anchored(pattern)
        deleted = self._changes[1]
        found = {p for p in self.tracked_below(static_prefix(pattern))
                 if regex.match(p) and p not in deleted}
        prefix = static_prefix(pattern)
        found.update(p for p in self._untracked_under(prefix) if regex.match(p))
        links = self.repo.gitlinks
        if links and any(not prefix or link == prefix or link.startswith(prefix + "/")
                         or prefix.startswith(link + "/") for link in links):
            # the superproject's index does not list a submodule's files: ask the disk
            found.update(p for p in self.disk_glob(pattern) if self.in_submodule(p))
        return sorted(found)

    @cached_property
    def _glob_dirs(self) -> list[str]:
        """The existing directories the manifest's globs (and directory entries) search."""
        dirs: set[str] = set()
        for entry in self.config.required_files:
            path = normalize(entry.path)
            if entry.is_glob:
                dirs.add(static_prefix(path))
            elif (self.root / path).is_dir():
                dirs.add(path)
        return sorted(d for d in dirs if (self.root / d).is_dir())

    def _untracked_under(self, directory: str) -> list[str]:
        """Untracked, not ignored files below one of :attr:`_glob_dirs` (one git call)."""
        if self.repo is None:
            return []
        if not self._untracked_all_loaded:
            self._untracked_all = self.repo.untracked_files(self._glob_dirs or ["."])
            self._untracked_all_loaded = True
        prefix = directory + "/" if directory else ""
        return [p for p in self._untracked_all if p.startswith(prefix)]

    def prefetch(self) -> None:
        """Start every git query this run will need, in parallel, before the Python work."""
        if self.repo is None:
            return
        queries: list[Sequence[str]] = [INDEX_QUERY, CHANGES_QUERY]
        if self._glob_dirs:
            queries.append(untracked_query(self._glob_dirs))
        if any(entry.worktrees for entry in self.config.required_files):
            queries.append(WORKTREES_QUERY)
        self.repo.prefetch(*queries)

    def disk_glob(self, pattern: str, base: Path | None = None) -> list[str]:
        """Files on disk below ``base`` (default: the root) whose relative path matches."""
        base = base or self.root
        start = static_prefix(pattern)
        top = base / start if start else base
        if not top.is_dir() or top.is_symlink():
            return []
        regex = _anchored(pattern)
        found: list[str] = []
        base_text = str(base)
        for current, dirnames, filenames in os.walk(top):
            dirnames[:] = sorted(d for d in dirnames if d not in _NEVER_WALK
                                 and not os.path.islink(os.path.join(current, d)))
            rel = Path(os.path.relpath(current, base_text)).as_posix()
            for name in sorted(filenames):
                relpath = name if rel == "." else f"{rel}/{name}"
                if regex.match(relpath) and os.path.exists(os.path.join(current, name)):
                    found.append(relpath)
        return found

    # worktrees ---------------------------------------------------------------------------

    @cached_property
    def other_worktrees(self) -> list[Worktree]:
        """The repository's other work trees that can be checked (the current one excluded)."""
        if self.repo is None:
            return []
        here = os.path.realpath(self.root)
        others: list[Worktree] = []
        for tree in self.repo.worktrees():
            if tree.bare or os.path.realpath(tree.path) == here:
                continue
            if tree.prunable or not os.path.isdir(tree.path):
                self.notes.append(f"git worktree {tree.path} no longer exists (prunable: "
                                  "`git worktree prune`); not checked")
                continue
            others.append(tree)
        return others


# ---------------------------------------------------------------------------------------------
# declarations


class Declarations:
    """Which repository paths the manifest declares."""

    def __init__(self, entries: Sequence[RequiredFile]) -> None:
        self.entries = entries

    @cached_property
    def _normalized(self) -> list[tuple[str, bool]]:
        return [(normalize(e.path), e.is_glob) for e in self.entries]

    def covers(self, target: str, is_dir: bool = False) -> bool:
        """A file is declared when an entry names it, a directory above it, or a glob matches
        it; a directory when an entry declares anything inside it."""
        return any(self._covering(target, is_dir))

    def entry_for(self, target: str, is_dir: bool = False) -> RequiredFile | None:
        """The entry that declares ``target`` (one with ``worktrees: true`` first)."""
        found = list(self._covering(target, is_dir))
        return next((e for e in found if e.worktrees), found[0] if found else None)

    def entry_for_tail(self, tail: str) -> RequiredFile | None:
        """The entry a path ending in ``tail`` (``CLAUDE.md``, ``templates/x.md``) names: the
        same path, a path ending with it, or a glob matching it (not ``**/*.json``, which
        any name would match: the tail says nothing about where the file is)."""
        found = [entry for entry, (path, is_glob) in zip(self.entries, self._normalized)
                 if (glob_matches(path, tail) and (static_prefix(path) or "**" not in path)
                     if is_glob else path == tail or path.endswith("/" + tail))]
        return next((e for e in found if e.worktrees), found[0] if found else None)

    def _covering(self, target: str, is_dir: bool) -> Iterator[RequiredFile]:
        for entry, (path, is_glob) in zip(self.entries, self._normalized):
            if is_glob:
                if glob_matches(path, target) or (
                        is_dir and (static_prefix(path) + "/").startswith(target + "/")):
                    yield entry
            elif path == target or target.startswith(path + "/") or (
                    is_dir and path.startswith(target + "/")):
                yield entry


# ---------------------------------------------------------------------------------------------
# the checks


def check_manifest_tracked(config: Config, facts: RepoFacts) -> list[Finding]:
    """PM209: the manifest itself must be committed, or CI checks nothing."""
    manifest = config.manifest
    if manifest is None or facts.repo is None:
        return []
    try:
        rel = Path(os.path.abspath(manifest)).relative_to(config.root).as_posix()
    except ValueError:
        return []  # a manifest outside the repository (--config): the user's choice
    if rel in facts.tracked:
        return []
    source = facts.ignored_by([rel])[rel]
    state = "ignored by git" if source else "untracked"
    return [ManifestNotCommitted.at(posix(manifest), None, None, name=rel, state=state)]


def check_entries(config: Config, facts: RepoFacts,
                  references: dict[str, list[tuple[str, Reference]]]) -> list[Finding]:
    """PM201-PM206 for every required_files entry: each entry's state, then each rule of
    :data:`~premerge.files.messages.ENTRY_RULES` finds what it reports in it."""
    where = posix(config.manifest_path)
    states: list[EntryState] = []
    for entry in config.required_files:
        path = normalize(entry.path)
        pattern = path if entry.is_glob else f"{path}/**" if (facts.root / path).is_dir() \
            else ""
        if pattern:
            matches = facts.matching(pattern)
        else:
            matches = [path] if facts.exists(path) else []
        untracked = [match for match in matches
                     if entry.tracked and facts.in_git and match not in facts.tracked
                     and not facts.in_submodule(match)]
        states.append(EntryState(entry, path, pattern, where, matches, untracked, {},
                                 references, facts))
    untracked = [path for state in states for path in state.untracked]
    if untracked:  # one git call for every entry's untracked files
        ignored = facts.ignored_by(untracked)
        for state in states:
            state.ignored = ignored
    return [finding for state in states for rule in ENTRY_RULES
            for finding in rule.findings(state)]
