"""Did an import write inside the repository?  Compare (path, mtime, size) before and after.

A snapshot is one ``os.scandir`` walk (``.git``, caches and virtualenvs skipped; byte-code
caches never count: children run with ``PYTHONDONTWRITEBYTECODE``).  A changed or new file is
attributed to the module whose import was running when the file's new mtime was written; a
deleted file through its directory's new mtime.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from premerge.records import FrozenRecord, frozen_init
from premerge.sources import SKIP_DIR_NAMES, is_virtualenv

#: (mtime_ns, size) per file and mtime_ns per directory, keyed by root-relative POSIX path
Snapshot = tuple[dict[str, tuple[int, int]], dict[str, int]]
#: slack around a child's run when matching mtimes (filesystem timestamp granularity)
SLACK_NS = 50_000_000


def snapshot(root: str, ignore: Sequence[str] = ()) -> Snapshot:
    files: dict[str, tuple[int, int]] = {}
    dirs: dict[str, int] = {}
    ignored = {os.path.realpath(p) for p in ignore}
    stack = [("", root)]
    while stack:
        rel, directory = stack.pop()
        try:
            entries = list(os.scandir(directory))
            dirs[rel] = os.stat(directory).st_mtime_ns
        except OSError:
            continue
        for entry in entries:
            name = entry.name
            child = f"{rel}/{name}" if rel else name
            try:
                if entry.is_dir(follow_symlinks=False):
                    if name in SKIP_DIR_NAMES or name == "__pycache__":
                        continue
                    if os.path.realpath(entry.path) in ignored or is_virtualenv(entry.path):
                        continue
                    stack.append((child, entry.path))
                else:
                    if name.endswith((".pyc", ".pyo")):
                        continue
                    stat = entry.stat(follow_symlinks=False)
                    files[child] = (stat.st_mtime_ns, stat.st_size)
            except OSError:
                continue
    return files, dirs


class Change(FrozenRecord):
    __slots__ = _fields = ("relpath", "kind", "when")
    relpath: str
    kind: str  # "created", "modified" or "deleted"
    when: int  # the mtime that dates the change (ns)

    def __init__(self, relpath: str, kind: str, when: int) -> None:
        frozen_init(self, relpath, kind, when)


def changes(before: Snapshot, after: Snapshot) -> list[Change]:
    old_files, _old_dirs = before
    new_files, new_dirs = after
    out = []
    for rel, (mtime, size) in new_files.items():
        old = old_files.get(rel)
        if old is None:
            out.append(Change(rel, "created", mtime))
        elif old != (mtime, size):
            out.append(Change(rel, "modified", mtime))
    for rel in old_files.keys() - new_files.keys():
        parent = rel.rpartition("/")[0]
        out.append(Change(rel, "deleted", new_dirs.get(parent, 0)))
    return sorted(out, key=lambda c: c.relpath)


def attribute(found: list[Change], intervals: dict[str, tuple[int, int]],
              audited: dict[str, set[str]] | None = None) -> dict[str, list[Change]]:
    """Changes per module path.

    A change a child's own audit log explains (it opened the file for writing, removed or
    renamed it) goes to that module; any other (a subprocess wrote it) to every module whose
    run interval contains the change's time.
    """
    audited = audited or {}
    out: dict[str, list[Change]] = {}
    for change in found:
        matches = [path for path, seen in audited.items() if change.relpath in seen]
        if not matches:
            matches = [path for path, (start, end) in intervals.items()
                       if start - SLACK_NS <= change.when <= end + SLACK_NS]
        for path in matches:
            out.setdefault(path, []).append(change)
    return out
