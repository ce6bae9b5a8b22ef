"""Safe reading and discovery of Python files.

Reading honours PEP 263 coding cookies and BOMs, refuses NUL bytes and huge files, and never
raises: a file that cannot be read becomes a PM0xx finding and the others go on.
Discovery walks directories without following directory symlinks (no loops).  Inside a git
repository it skips what git ignores (a ``build/`` copy of the package after ``pip install .``
is not the project's code); everywhere it skips VCS and virtualenv directories, caches and the
manifest's excludes; outside git also build output (``build``, ``dist``, ``*.egg-info``).
Dot-directories are walked: ``.claude/hooks/`` or ``.github/scripts/`` hold real code.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache
from pathlib import Path

from premerge.findings import Finding
from premerge.input_rules import BadEncoding, NotRegularFile, SkippedFile, UnreadableFile
from premerge.records import FrozenRecord, frozen_init
from premerge.safefile import NOT_REGULAR, TOO_LARGE, FileRefused

#: Larger files are skipped with PM004: generated data modules are not worth the time.
MAX_SOURCE_BYTES = 8 * 1024 * 1024

#: Directory names never descended into: version control, virtualenvs and installed packages,
#: caches, node_modules.  (Any directory holding ``pyvenv.cfg`` is a virtualenv too.)
SKIP_DIR_NAMES = frozenset({
    ".git", ".hg", ".svn", ".bzr", "_darcs", "__pycache__", "node_modules", "site-packages",
    "dist-packages", ".tox", ".nox", ".venv", "venv", ".mypy_cache", ".pytest_cache",
    ".ruff_cache", ".pytype", ".hypothesis", ".eggs", "__pypackages__",
})
#: Build output, skipped by name only outside git (inside, git's ignore rules decide: a
#: tracked ``build`` package, as in pypa/build's ``src/build``, is the project's code).
BUILD_DIR_NAMES = frozenset({"build", "dist", ".cache"})


class SourceFile(FrozenRecord):
    """A decoded Python file and what is needed to write it back unchanged."""

    __slots__ = _fields = ("path", "raw", "text", "encoding", "bom", "newline")
    path: str
    raw: bytes
    text: str
    encoding: str
    bom: bool
    newline: str  # the file's dominant line ending: "\n", "\r\n" or "\r"

    def __init__(self, path: str, raw: bytes, text: str, encoding: str, bom: bool,
                 newline: str) -> None:
        frozen_init(self, path, raw, text, encoding, bom, newline)

    @property
    def lines(self) -> list[str]:
        return self.text.splitlines()


class SourceError(Exception):
    """A file that cannot be turned into source text; carries its finding."""

    def __init__(self, finding: Finding) -> None:
        super().__init__(finding.message)
        self.finding = finding


def posix(path: str | os.PathLike[str]) -> str:
    """An absolute POSIX path string (symlinks are not resolved: keep the name the user sees)."""
    return Path(os.path.abspath(path)).as_posix()


def read_bytes(path: str) -> bytes:
    """Read a file's bytes (regular, bounded: :mod:`premerge.safefile`; once per run:
    :mod:`premerge.parsed`) or raise SourceError with a PM001/PM004/PM006 finding."""
    from premerge.parsed import read_source_bytes  # noqa: PLC0415 - it imports this module

    try:
        return read_source_bytes(path)
    except FileRefused as refused:
        rule = {NOT_REGULAR: NotRegularFile, TOO_LARGE: SkippedFile}.get(refused.kind,
                                                                        UnreadableFile)
        raise SourceError(rule.at(path, reason=refused.reason)) from None


def decode_source(path: str, raw: bytes) -> SourceFile:
    """Decode bytes as Python does (BOM, PEP 263 cookie, default UTF-8)."""
    if b"\x00" in raw:
        raise SourceError(BadEncoding.at(path, 1, 1, reason="source contains NUL bytes "
                                         "(a binary file?)"))
    bom = raw.startswith(b"\xef\xbb\xbf")
    text = None if bom or b"coding" in _first_two_lines(raw) else _utf8_or_none(raw)
    if text is not None:
        # what tokenize.detect_encoding answers for a file without BOM or cookie that is valid
        # UTF-8, without importing tokenize (~1.5 ms a one-file run)
        encoding = "utf-8"
    else:
        import io  # noqa: PLC0415
        import tokenize  # noqa: PLC0415

        try:
            encoding, _ = tokenize.detect_encoding(io.BytesIO(raw).readline)
        except (SyntaxError, LookupError) as exc:
            raise SourceError(BadEncoding.at(path, 1, 1, reason=str(exc))) from None
        body = raw[3:] if bom else raw
        codec = "utf-8" if encoding == "utf-8-sig" else encoding
        try:
            text = body.decode(codec)
        except (UnicodeDecodeError, LookupError) as exc:
            line = body[: getattr(exc, "start", 0)].count(b"\n") + 1
            raise SourceError(BadEncoding.at(path, line, 1, reason=f"not valid {encoding}: "
                                             f"{exc.reason if hasattr(exc, 'reason') else exc}")
                              ) from None
    crlf = text.count("\r\n")
    lf = text.count("\n") - crlf
    cr = text.count("\r") - crlf
    newline = "\r\n" if crlf > max(lf, cr) else ("\r" if cr > lf else "\n")
    return SourceFile(path=path, raw=raw, text=text, encoding=encoding, bom=bom, newline=newline)


def _first_two_lines(raw: bytes) -> bytes:
    """The bytes where a PEP 263 cookie may be (``readline`` splits at ``\\n`` only)."""
    first = raw.find(b"\n")
    if first == -1:
        return raw
    second = raw.find(b"\n", first + 1)
    return raw if second == -1 else raw[:second]


def _utf8_or_none(raw: bytes) -> str | None:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None


def read_source(path: str) -> SourceFile:
    """Read and decode a Python file, or raise SourceError carrying a PM0xx finding."""
    return decode_source(path, read_bytes(path))


@lru_cache(maxsize=256)
def _glob_regex(pattern: str) -> re.Pattern[str]:
    return re.compile(glob_to_regex(pattern))


def glob_to_regex(pattern: str) -> str:
    """Translate a repository glob to a regex over POSIX relative paths.

    ``*`` and ``?`` stay within one path segment, ``**`` spans segments, ``[...]`` is a class.
    A pattern also matches everything below a directory it matches (``tests`` excludes
    ``tests/a.py``), and a pattern without ``/`` matches at any depth, as in .gitignore.
    """
    pat = pattern.strip().replace("\\", "/")
    anchored = "/" in pat.rstrip("/")
    pat = pat.strip("/")
    out: list[str] = []
    i = 0
    while i < len(pat):
        ch = pat[i]
        if pat.startswith("**/", i):
            out.append("(?:[^/]+/)*")
            i += 3
        elif pat.startswith("**", i):
            out.append(".*")
            i += 2
        elif ch == "*":
            out.append("[^/]*")
            i += 1
        elif ch == "?":
            out.append("[^/]")
            i += 1
        elif ch == "[":
            end = pat.find("]", i + 1)
            if end == -1:
                out.append(re.escape(ch))
                i += 1
            else:
                body = pat[i + 1:end]
                if body.startswith("!"):
                    body = "^" + body[1:]
                out.append(f"[{body}]")
                i = end + 1
        else:
            out.append(re.escape(ch))
            i += 1
    prefix = "" if anchored else "(?:.*/)?"
    return f"^{prefix}{''.join(out)}(?:/.*)?$"


def matches_any(relpath: str, patterns: Iterable[str]) -> bool:
    """True when a POSIX relative path matches one of the globs."""
    return any(_glob_regex(p).match(relpath) for p in patterns)


def is_virtualenv(directory: str) -> bool:
    return os.path.isfile(os.path.join(directory, "pyvenv.cfg"))


def relative_to(path: str, root: str) -> str:
    """POSIX path relative to root, or the path itself when it is outside root."""
    try:
        return Path(path).relative_to(root).as_posix()
    except ValueError:
        return Path(path).as_posix()


class GitIgnored(FrozenRecord):
    """What git ignores below a directory: whole directories and single files."""

    __slots__ = _fields = ("top", "dirs", "files")
    top: str  # absolute POSIX path the relative paths start from
    dirs: frozenset[str]  # relative POSIX paths, no trailing slash
    files: frozenset[str]

    def __init__(self, top: str, dirs: frozenset[str], files: frozenset[str]) -> None:
        frozen_init(self, top, dirs, files)

    def covers(self, full: str) -> bool:
        rel = relative_to(full, self.top)
        if rel in self.files:
            return True
        while rel and rel != "/":
            if rel in self.dirs:
                return True
            rel = rel.rpartition("/")[0]
        return False


def git_ignored(directory: str) -> GitIgnored | None:
    """What git ignores below ``directory``; None outside a git work tree (or without git).

    One ``git ls-files --others --ignored --exclude-standard --directory``: an ignored
    directory is one line however many files it holds (a virtualenv, ``build/``).
    """
    from premerge.repo import GitError, Repository, find_root  # noqa: PLC0415 - git only here

    top = find_root(directory)
    if top is None:
        return None
    try:
        out = Repository(directory).ignored_paths()  # relative to the work tree's top
    except GitError:
        return None
    dirs, files = set(), set()
    for item in out:
        if item.endswith("/"):
            dirs.add(item.rstrip("/"))
        else:
            files.add(item)
    return GitIgnored(posix(top), frozenset(dirs), frozenset(files))


def iter_python_files(directory: str, root: str, exclude: Sequence[str] = (),
                      ignored: GitIgnored | None | bool = True) -> Iterator[str]:
    """Yield ``*.py`` files below ``directory`` (absolute POSIX paths), sorted, pruned.

    ``ignored``: git's ignore rules (True: ask git about ``directory``; False/None: none --
    outside git, build output is then skipped by name instead).
    """
    if ignored is True:
        ignored = git_ignored(directory)
    skip_names = SKIP_DIR_NAMES if ignored else SKIP_DIR_NAMES | BUILD_DIR_NAMES
    for current, dirnames, filenames in os.walk(directory):
        kept = []
        for name in sorted(dirnames):
            full = os.path.join(current, name)
            if name in skip_names or (not ignored and name.endswith(".egg-info")):
                continue
            if os.path.islink(full) or is_virtualenv(full):
                continue
            if ignored and ignored.covers(posix(full)):
                continue
            if exclude and matches_any(relative_to(posix(full), root), exclude):
                continue
            kept.append(name)
        dirnames[:] = kept
        for name in sorted(filenames):
            if not name.endswith(".py"):
                continue
            full = posix(os.path.join(current, name))
            if ignored and ignored.covers(full):
                continue
            if exclude and matches_any(relative_to(full, root), exclude):
                continue
            yield full


def discover_python_files(paths: Sequence[str | os.PathLike[str]], root: str,
                          exclude: Sequence[str] = ()) -> tuple[list[str], list[Finding]]:
    """Files to check for the given PATHs (files or directories; none means ``root``).

    Returns the sorted, de-duplicated absolute paths and findings for paths that do not exist.
    Explicit files are kept even when they do not end in ``.py`` (the user named them), but the
    manifest's excludes apply to them too, as pre-commit users expect.
    """
    found: dict[str, None] = {}
    problems: list[Finding] = []
    for given in paths or [root]:
        full = posix(given)
        if os.path.isdir(full):
            for item in iter_python_files(full, root, exclude, ignored=True):
                found.setdefault(item, None)
        elif os.path.lexists(full):
            if exclude and matches_any(relative_to(full, root), exclude):
                continue
            found.setdefault(full, None)
        else:
            problems.append(UnreadableFile.at(full, reason="no such file or directory"))
    return sorted(found), problems
