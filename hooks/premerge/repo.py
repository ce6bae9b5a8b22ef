"""Everything git, in one place, and every git process premerge starts goes through
:func:`git_command` (``git -c ... ARGS`` under :func:`git_environment`).

The repository is hostile: its ``.git/config`` (shipped in an archive, or appended by imported
code during smoke) can name programs git runs on its own: ``core.fsmonitor`` on every index
refresh, hooks, ``diff.external`` and textconv drivers, the clean/smudge/process filters that
``.gitattributes`` selects whenever git hashes a working-tree file, ``core.sshCommand`` and
friends on anything networky.  Command-line ``-c`` outranks the repository's config, so each
of those is overridden here; filter and diff drivers have per-driver names, so the ones the
configuration defines are listed once per repository (``git config`` runs nothing) and each
is emptied.  Finding the root needs no git at all (walk up to the first ``.git``).  Nothing
imports GitPython: the plumbing premerge needs is a handful of ``git`` calls, and one process
per query is also faster than GitPython's import (~100 ms).
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path

from premerge.records import FrozenRecord, frozen_init

#: typing.TYPE_CHECKING without importing typing: its names serve annotations only, and
#: the import costs ~3 ms of start-up where nothing else has loaded it
TYPE_CHECKING = False
if TYPE_CHECKING:
    import subprocess


#: Plumbing queries, named so :meth:`Repository.prefetch` can start them early.
INDEX_QUERY = ("ls-files", "-z", "--stage", "--full-name")
CHANGES_QUERY = ("ls-files", "-z", "-t", "--modified", "--deleted")
WORKTREES_QUERY = ("worktree", "list", "--porcelain")


def untracked_query(pathspecs: Sequence[str] = ()) -> tuple[str, ...]:
    return ("ls-files", "-z", "--others", "--exclude-standard", "--full-name", "--",
            *(pathspecs or ["."]))


#: One ``ls-files --stage -z`` record: mode, blob id, stage, tab, path.  (Patterns, compiled
#: and cached by ``re`` on first use: finding the root for a one-file run needs neither.)
_INDEX_RECORD = r"[0-7]+ ([0-9a-f]+) [0-3]\t([^\0]*)\0"

_GITLINK_RECORD = r"(160000) [0-9a-f]+ [0-3]\t([^\0]*)\0"

#: Blob ids of empty content (SHA-1 and SHA-256 repositories).
EMPTY_BLOBS = frozenset({"e69de29bb2d1d6434b8b29ae775ad8c2e48c5391",
                         "473a0f4c3be8a93681a267e3b1e9a7dcda1185436fe141f7749120a303721813"})


class GitError(Exception):
    """A git operation failed; the message is one line, fit for the user."""


#: ``-c`` overrides for every configuration key that makes git run a program (see the module
#: docstring), and for what could start a network transport.  Empty values reset a key (and
#: a list such as ``credential.helper``) to "none".
SAFE_CONFIG = (
    "core.fsmonitor=false",
    "core.hooksPath=/dev/null",
    "core.sshCommand=",
    "core.gitProxy=",
    "core.askPass=",
    "core.pager=cat",
    "core.editor=:",
    "core.alternateRefsCommand=",
    "credential.helper=",
    "diff.external=",
    "gc.auto=0",
    "maintenance.auto=false",
    "protocol.allow=never",
    "submodule.recurse=false",
)

#: driver keys (``filter.<name>.clean`` ...) that name a program; the names are the config's
DRIVER_KEYS = (r"^(filter|diff|merge)\..+\."
               r"(clean|smudge|process|required|command|textconv|driver)$")

#: environment for every git process: no system config (``/etc/gitconfig``), never a prompt,
#: no optional index writes by read-only commands, no replace refs
SAFE_ENVIRONMENT = {
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_OPTIONAL_LOCKS": "0",
    "GIT_NO_REPLACE_OBJECTS": "1",
    "GIT_PAGER": "cat",
}

def git_environment() -> dict[str, str]:
    """The environment every git process runs with: the user's, plus :data:`SAFE_ENVIRONMENT`
    (git's own ``GIT_EXTERNAL_DIFF``/``GIT_SSH*`` escape hatches dropped too)."""
    env = {key: value for key, value in os.environ.items()
           if key not in ("GIT_EXTERNAL_DIFF", "GIT_SSH", "GIT_SSH_COMMAND", "GIT_ASKPASS",
                          "GIT_PROXY_COMMAND")}
    env.update(SAFE_ENVIRONMENT)
    return env


def _config_options(overrides: Sequence[str]) -> list[str]:
    options: list[str] = []
    for item in overrides:
        options += ["-c", item]
    return options


def _spawn_git(root: str | os.PathLike[str], args: Sequence[str], overrides: Sequence[str],
               stdin: bool = False) -> subprocess.Popen[bytes]:
    import subprocess  # noqa: PLC0415 - finding the root needs no process

    try:
        return subprocess.Popen(["git", *_config_options(overrides), "-C", str(root), *args],
                                stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env=git_environment())
    except OSError as exc:
        raise GitError(f"cannot run git: {exc.strerror or exc}") from None


def driver_overrides(root: str | os.PathLike[str]) -> tuple[str, ...]:
    """``KEY=`` for every filter/diff/merge driver program the configuration names (which
    ``.gitattributes`` may select for any file): emptied, git runs none of them.

    Listed afresh for each git call (or batch, :meth:`Repository.prefetch`), ~1.5 ms: code
    that smoke imports may have added a driver to the configuration since the last one."""
    proc = _spawn_git(root, ("config", "-z", "--get-regexp", DRIVER_KEYS), SAFE_CONFIG)
    out, _ = proc.communicate()
    names = (record.split("\n", 1)[0] for record in
             out.decode("utf-8", "surrogateescape").split("\0") if record)
    return tuple(dict.fromkeys(f"{name}=" for name in names))


def git_command(root: str | os.PathLike[str], args: Sequence[str], stdin: bool = False,
                drivers: Sequence[str] | None = None) -> subprocess.Popen[bytes]:
    """Start ``git -C ROOT ARGS`` with nothing the repository configures able to run a
    program; stdout and stderr are pipes.  The one way premerge starts git.  ``drivers``:
    :func:`driver_overrides`, when the caller just listed them for a batch of calls."""
    if drivers is None:
        drivers = driver_overrides(root)
    return _spawn_git(root, args, (*SAFE_CONFIG, *drivers), stdin=stdin)


def run_git(root: str | os.PathLike[str], *args: str, stdin: bytes | None = None,
            ok_codes: tuple[int, ...] = (0,)) -> str:
    """:func:`git_command` to completion: stdout decoded losslessly, or :class:`GitError`."""
    return _finish(git_command(root, args, stdin=stdin is not None), args, stdin, ok_codes)


def _finish(proc: subprocess.Popen[bytes], args: Sequence[str], stdin: bytes | None,
            ok_codes: tuple[int, ...]) -> str:
    out, err = proc.communicate(stdin)
    if proc.returncode not in ok_codes:
        lines = err.decode(errors="replace").strip().splitlines()
        raise GitError(f"git {' '.join(args[:2])} failed: "
                       f"{lines[-1] if lines else f'exit status {proc.returncode}'}")
    return out.decode("utf-8", errors="surrogateescape")


def find_root(start: str | os.PathLike[str] | None = None) -> Path | None:
    """The top of the git work tree containing ``start`` (a ``.git`` dir or file), or None."""
    here = Path(os.path.abspath(start or os.getcwd()))
    if here.is_file() or not here.exists():
        here = here.parent
    for candidate in (here, *here.parents):
        if (candidate / ".git").exists():
            return candidate
    return None


class Worktree(FrozenRecord):
    """One entry of ``git worktree list``."""

    __slots__ = _fields = ("path", "branch", "head", "is_main", "prunable", "bare", "locked")
    path: str
    branch: str | None  # short branch name, None when detached
    head: str | None
    is_main: bool
    prunable: bool
    bare: bool
    locked: bool

    def __init__(self, path: str, branch: str | None, head: str | None, is_main: bool,
                 prunable: bool = False, bare: bool = False, locked: bool = False) -> None:
        frozen_init(self, path, branch, head, is_main, prunable, bare, locked)


class Repository:
    """A git work tree, queried through :func:`git_command`."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        #: plumbing queries started ahead of need (see :meth:`prefetch`), by their arguments
        self._pending: dict[tuple[str, ...], subprocess.Popen[bytes]] = {}

    @classmethod
    def discover(cls, start: str | os.PathLike[str] | None = None) -> Repository | None:
        root = find_root(start)
        return cls(root) if root is not None else None

    def prefetch(self, *queries: Sequence[str]) -> None:
        """Start plumbing queries now, in parallel; :meth:`_plumbing` with the same arguments
        collects the answer later.  Hides git's file-system walks behind Python work."""
        drivers = driver_overrides(self.root) if queries else ()
        for args in queries:
            key = tuple(args)
            if key not in self._pending:
                self._pending[key] = git_command(self.root, key, drivers=drivers)

    def _plumbing(self, *args: str, stdin: bytes | None = None,
                  ok_codes: tuple[int, ...] = (0,)) -> str:
        """Run ``git -C ROOT ARGS`` (or collect its prefetched run); stdout, decoded
        losslessly."""
        proc = self._pending.pop(args, None) if stdin is None else None
        if proc is None:
            return run_git(self.root, *args, stdin=stdin, ok_codes=ok_codes)
        return _finish(proc, args, stdin, ok_codes)

    @cached_property
    def tracked_files(self) -> frozenset[str]:
        """POSIX paths (relative to the root) in git's index."""
        return frozenset(self.index)

    @cached_property
    def index(self) -> dict[str, str]:
        """Tracked path -> blob id of its staged content (git's own content hash, so a cache
        keyed on it needs no read of the file)."""
        out = self._plumbing(*INDEX_QUERY)
        records = out.split("\0")
        first = records[0]
        hexlen = first.find(" ", 7) - 7  # "MODE BLOB STAGE\tPATH", MODE is 6 octal digits
        if hexlen in (40, 64) and first[6] == " " and first[hexlen + 9] == "\t":
            start, cut = 7 + hexlen, 10 + hexlen  # fixed widths: slicing beats a regex 5x
            self.gitlinks = frozenset(rec[cut:] for rec in records if rec.startswith("160000"))
            return {rec[cut:]: rec[7:start] for rec in records if rec}
        self.gitlinks = frozenset(path for mode, path in re.findall(_GITLINK_RECORD, out))
        return {path: blob for blob, path in re.findall(_INDEX_RECORD, out)}

    #: submodule paths (gitlinks in the index); set when :attr:`index` is read
    gitlinks: frozenset[str] = frozenset()

    def in_submodule(self, relpath: str) -> bool:
        """Whether the path lies inside a submodule: its files are the submodule's to track."""
        if not self.gitlinks:
            return False
        parts = relpath.split("/")
        return any("/".join(parts[:i]) in self.gitlinks for i in range(1, len(parts) + 1))

    @cached_property
    def worktree_changes(self) -> tuple[frozenset[str], frozenset[str]]:
        """(modified, deleted): tracked files whose working-tree copy differs from the index,
        and those missing from the working tree (git compares stat data first: no reads)."""
        out = self._plumbing(*CHANGES_QUERY)
        modified: set[str] = set()
        deleted: set[str] = set()
        for record in out.split("\0"):
            tag, _, path = record.partition(" ")
            if tag == "C":
                modified.add(path)
            elif tag == "R":
                deleted.add(path)
        return frozenset(modified - deleted), frozenset(deleted)

    def untracked_files(self, pathspecs: Sequence[str] = ()) -> list[str]:
        """Untracked files that git does not ignore (what ``git add -A`` would add), under the
        given directories (default: everywhere)."""
        out = self._plumbing(*untracked_query(pathspecs))
        return [p for p in out.split("\0") if p]

    @cached_property
    def tracked_dirs(self) -> frozenset[str]:
        """Every directory (root-relative POSIX) that holds at least one tracked file."""
        dirs: set[str] = set()
        for path in self.tracked_files:
            slash = path.rfind("/")
            while slash > 0:
                parent = path[:slash]
                if parent in dirs:
                    break
                dirs.add(parent)
                slash = parent.rfind("/")
        return frozenset(dirs)

    def ignore_sources(self, relpaths: Sequence[str]) -> dict[str, tuple[str, int, str]]:
        """For each of these paths that git ignores: (source file, line, pattern) of the rule.

        Negated (``!pattern``) matches are not ignores and are left out.
        """
        if not relpaths:
            return {}
        out = self._plumbing("check-ignore", "-v", "-z", "--stdin",
                             stdin="\0".join(relpaths).encode("utf-8", "surrogateescape"),
                             ok_codes=(0, 1))
        fields = out.split("\0")
        found: dict[str, tuple[str, int, str]] = {}
        for i in range(0, len(fields) - 3, 4):
            source, line, pattern, path = fields[i:i + 4]
            if pattern.startswith("!"):
                continue
            found[path] = (source, int(line) if line.isdigit() else 0, pattern)
        return found

    def is_tracked(self, relpath: str) -> bool:
        return relpath in self.tracked_files

    def ignored(self, relpaths: Sequence[str]) -> set[str]:
        """Which of these paths .gitignore (or info/exclude) ignores."""
        if not relpaths:
            return set()
        return {p for p in self._check_ignore(relpaths).split("\0") if p}

    def ignored_paths(self) -> list[str]:
        """Paths below the root git ignores, relative to the work tree's top; a wholly ignored
        directory is one entry ending in ``/`` (its contents are not listed)."""
        out = self._plumbing("ls-files", "-z", "--others", "--ignored", "--exclude-standard",
                             "--directory", "--no-empty-directory", "--full-name")
        return [p for p in out.split("\0") if p]

    def _check_ignore(self, relpaths: Sequence[str]) -> str:
        # paths on stdin, not as arguments: stdin scales to any count
        return self._plumbing("check-ignore", "-z", "--stdin",
                              stdin="\0".join(relpaths).encode("utf-8", "surrogateescape"),
                              ok_codes=(0, 1))

    def merge_base(self, base: str) -> str:
        """The merge base of HEAD and ``base`` (a ref or commit)."""
        try:
            bases = self._plumbing("merge-base", "--end-of-options", base, "HEAD",
                                   ok_codes=(0, 1)).split()
        except GitError as exc:
            raise GitError(f"cannot find the merge base with {base!r}: "
                           f"{str(exc).partition(' failed: ')[2]}") from None
        if not bases:
            raise GitError(f"{base!r} and HEAD have no common ancestor")
        return bases[0]

    def changed_files(self, base: str) -> list[str]:
        """Root-relative POSIX paths changed since the merge base with ``base``: committed,
        staged, unstaged and untracked (not ignored) changes; deleted files excluded."""
        mb = self.merge_base(base)
        names: set[str] = set()
        out = self._plumbing("diff", "--name-only", "-z", "--no-ext-diff", "--no-textconv",
                             "--ignore-submodules=dirty", "--diff-filter=d", mb, "--")
        names.update(p for p in out.split("\0") if p)
        out = self._plumbing("ls-files", "-z", "--others", "--exclude-standard")
        names.update(p for p in out.split("\0") if p)
        return sorted(n for n in names if (self.root / n).exists())

    def default_base(self) -> str:
        """A sensible base when none is given: origin's HEAD, else main/master, else HEAD~1."""
        for ref in ("origin/HEAD", "origin/main", "origin/master", "main", "master"):
            try:
                self._plumbing("rev-parse", "--verify", "--quiet", ref + "^{commit}")
                return ref
            except GitError:
                continue
        return "HEAD~1"

    def worktrees(self) -> list[Worktree]:
        """Every work tree of this repository (``git worktree list --porcelain``)."""
        out = self._plumbing(*WORKTREES_QUERY)
        trees: list[Worktree] = []
        block: dict[str, str] = {}

        def flush() -> None:
            if "worktree" in block:
                branch = block.get("branch")
                if branch and branch.startswith("refs/heads/"):
                    branch = branch[len("refs/heads/"):]
                trees.append(Worktree(path=block["worktree"], branch=branch,
                                      head=block.get("HEAD"), is_main=not trees,
                                      prunable="prunable" in block, bare="bare" in block,
                                      locked="locked" in block))

        for line in out.splitlines():
            if not line.strip():
                flush()
                block = {}
                continue
            key, _, value = line.partition(" ")
            block[key] = value
        flush()
        return trees
