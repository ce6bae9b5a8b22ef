"""The pristine snapshot smoke imports from, and what the imports wrote into it.

Imported code never runs in the user's working tree: :class:`Snapshot` copies exactly what is
checked -- git's tracked and untracked-not-ignored files (outside git: the tree without VCS,
virtualenv and cache directories) -- into a private temporary directory with no ``.git``
inside or above it, in a thread that overlaps the warm parent's start.  Copies are cheap and
never share the user's inodes: a reflink (``FICLONE``) where the file system has them, else
``copy_file_range`` (in-kernel), never a hard link.  Only regular files and symlinks are
copied, each opened with ``O_NOFOLLOW|O_NONBLOCK`` and checked with ``fstat``.

After the run the snapshot is compared with what was copied by content: a BLAKE2 digest per
file (files over :data:`HASHED_BYTES` are compared by size, mtime *and ctime* first -- no
unprivileged process can set a ctime -- and hashed only when those moved).  A module that
rewrites a file and restores its mtime, deletes a tracked file or creates files is reported
(PM311) and the user's files never change.  A changed or new file is attributed to the module
whose audit log names it, else to the modules running when its mtime was written.
"""

from __future__ import annotations

import hashlib
import os
import stat
import threading
import time
from collections.abc import Callable, Iterable

from premerge.records import FrozenRecord, Record, frozen_init
from premerge.sources import SKIP_DIR_NAMES, is_virtualenv

#: slack around a child's run when matching mtimes (filesystem timestamp granularity)
SLACK_NS = 50_000_000
#: files up to this size are read, copied and hashed in one go; larger ones are cloned
HASHED_BYTES = 1 << 20
_FICLONE = 0x40049409  # linux/fs.h: _IOW(0x94, 9, int)
_READ = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


class Entry(FrozenRecord):
    """What one snapshot file was: a digest (or None for a large file), its identity, or
    the target of a symlink."""

    __slots__ = _fields = ("digest", "size", "mtime_ns", "ctime_ns", "link")
    digest: bytes | None
    size: int
    mtime_ns: int
    ctime_ns: int
    link: str | None

    def __init__(self, digest: bytes | None, size: int, mtime_ns: int, ctime_ns: int,
                 link: str | None = None) -> None:
        frozen_init(self, digest, size, mtime_ns, ctime_ns, link)


class Change(FrozenRecord):
    __slots__ = _fields = ("relpath", "kind", "when")
    relpath: str
    kind: str  # "created", "modified" or "deleted"
    when: int  # the mtime that dates the change (ns)

    def __init__(self, relpath: str, kind: str, when: int) -> None:
        frozen_init(self, relpath, kind, when)


def _digest(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=16).digest()


def _hash_fd(fd: int) -> bytes:
    digest = hashlib.blake2b(digest_size=16)
    while True:
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            return digest.digest()
        digest.update(chunk)


def _read_all(fd: int, size: int) -> bytes:
    """The file's bytes, at most ``size + 1`` (a file that grows is read to what it was)."""
    chunks = []
    left = size + 1
    while left > 0:
        chunk = os.read(fd, left)
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _clone(source: int, target: int, size: int) -> str:
    """Copy a large file's content without reading it into premerge: a reflink where the
    file system shares blocks, else the kernel's copy; the method used."""
    try:
        import fcntl  # noqa: PLC0415 - POSIX only

        fcntl.ioctl(target, _FICLONE, source)
        return "reflink"
    except (ImportError, OSError):
        pass
    copy_range = getattr(os, "copy_file_range", None)
    copied = 0
    if copy_range is not None:
        try:
            while copied < size:
                done = copy_range(source, target, size - copied)
                if not done:
                    break
                copied += done
            return "copy_file_range"
        except OSError:
            os.lseek(source, copied, os.SEEK_SET)
            os.lseek(target, copied, os.SEEK_SET)
    while True:
        chunk = os.read(source, 1 << 20)
        if not chunk:
            return "read/write"
        os.write(target, chunk)


class Snapshot(Record):
    """A private copy of the checked tree at ``path``; ``entries`` is what was copied."""

    __slots__ = _fields = ("source", "path", "entries", "bytes", "seconds", "methods",
                           "_thread", "_error", "_dirs", "_cancelled")

    def __init__(self, source: str, path: str) -> None:
        self.source = source.rstrip("/") or "/"
        self.path = path
        self.entries: dict[str, Entry] = {}
        self.bytes = 0
        self.seconds = 0.0
        self.methods: dict[str, int] = {}
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        self._dirs: set[str] = set()
        self._cancelled = False

    # -- paths ------------------------------------------------------------------------------
    def inside(self, real: str) -> str:
        """The snapshot's path for a path of the user's tree (others unchanged)."""
        if real == self.source:
            return self.path
        prefix = self.source.rstrip("/") + "/"
        return self.path + "/" + real[len(prefix):] if real.startswith(prefix) else real

    def outside(self, text: str) -> str:
        """Every snapshot path in ``text`` replaced by the user's path it copies."""
        return text.replace(self.path, self.source) if self.path in text else text

    # -- copying ----------------------------------------------------------------------------
    def start(self, listing: Callable[[], Iterable[str]] | None) -> None:
        """Copy in a thread what ``listing`` names (``None``: walk the source tree)."""
        os.makedirs(self.path, exist_ok=True)
        self._dirs.add("")
        self._thread = threading.Thread(target=self._run, args=(listing,),
                                        name="premerge-snapshot", daemon=True)
        self._thread.start()

    def _run(self, listing: Callable[[], Iterable[str]] | None) -> None:
        began = time.perf_counter()
        try:
            self.add(walk(self.source) if listing is None else listing())
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            self._error = exc
        self.seconds = time.perf_counter() - began

    def cancel(self) -> None:
        """Stop copying (nothing will be imported) and wait for the thread."""
        self._cancelled = True
        try:
            self.wait()
        except Exception:  # noqa: BLE001 - the copy is discarded anyway
            pass

    def copied(self) -> bool:
        """The copy is complete and did not fail (never blocks; :meth:`wait` raises)."""
        return (self._thread is None or not self._thread.is_alive()) and self._error is None

    def wait(self) -> None:
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def add(self, relpaths: Iterable[str]) -> None:
        """Copy these files (relative POSIX paths) unless copied already."""
        for rel in relpaths:
            if self._cancelled:
                return
            if rel in self.entries or not rel or rel.startswith("/") or ".." in rel.split("/"):
                continue
            source = f"{self.source}/{rel}"
            try:
                info = os.lstat(source)
            except OSError:
                continue  # deleted in the working tree: not checked
            if stat.S_ISDIR(info.st_mode):  # a submodule: its files, as outside git
                self.add(f"{rel}/{sub}" for sub in walk(source))
            elif stat.S_ISLNK(info.st_mode):
                self._link(rel, source)
            elif stat.S_ISREG(info.st_mode):
                self._copy(rel, source)

    def _parent(self, rel: str) -> None:
        parent = rel.rpartition("/")[0]
        if parent not in self._dirs:
            os.makedirs(f"{self.path}/{parent}", exist_ok=True)
            self._dirs.add(parent)

    def _link(self, rel: str, source: str) -> None:
        """A symlink stays a symlink: into the snapshot where it points inside the tree,
        to the same place outside it otherwise."""
        target = os.readlink(source)
        resolved = os.path.normpath(os.path.join(os.path.dirname(source), target))
        if os.path.isabs(target) or not (resolved + "/").startswith(self.source + "/"):
            target = self.inside(resolved)
        self._parent(rel)
        os.symlink(target, f"{self.path}/{rel}")
        self.entries[rel] = Entry(None, 0, 0, 0, link=target)

    def _copy(self, rel: str, source: str) -> None:
        try:
            fd = os.open(source, _READ)
        except OSError:
            return
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                return  # a FIFO or device swapped in: never read
            self._parent(rel)
            out = os.open(f"{self.path}/{rel}", _CREATE, 0o600)
            try:
                if info.st_size <= HASHED_BYTES:
                    data = _read_all(fd, info.st_size)
                    os.write(out, data)
                    digest: bytes | None = _digest(data)
                    method = "read/write"
                else:
                    method = _clone(fd, out, info.st_size)
                    digest = None
                os.fchmod(out, stat.S_IMODE(info.st_mode))
                os.utime(out, ns=(info.st_atime_ns, info.st_mtime_ns))
                copied = os.fstat(out)
            finally:
                os.close(out)
        finally:
            os.close(fd)
        self.bytes += copied.st_size
        self.methods[method] = self.methods.get(method, 0) + 1
        self.entries[rel] = Entry(digest, copied.st_size, copied.st_mtime_ns,
                                  copied.st_ctime_ns)

    # -- comparing --------------------------------------------------------------------------
    def changes(self) -> list[Change]:
        """Every file created, modified or deleted in the snapshot since it was copied."""
        out = []
        for rel, before in self.entries.items():
            path = f"{self.path}/{rel}"
            try:
                info = os.lstat(path)
            except OSError:
                parent = rel.rpartition("/")[0]
                try:
                    when = os.stat(f"{self.path}/{parent}").st_mtime_ns
                except OSError:
                    when = 0
                out.append(Change(rel, "deleted", when))
                continue
            if _modified(path, info, before):
                out.append(Change(rel, "modified", info.st_mtime_ns))
        for rel in walk(self.path):
            if rel not in self.entries:
                try:
                    when = os.lstat(f"{self.path}/{rel}").st_mtime_ns
                except OSError:
                    continue
                out.append(Change(rel, "created", when))
        return sorted(out, key=lambda c: c.relpath)


def _modified(path: str, info: os.stat_result, before: Entry) -> bool:
    if before.link is not None or stat.S_ISLNK(info.st_mode):
        try:
            return before.link != os.readlink(path)
        except OSError:
            return True
    if not stat.S_ISREG(info.st_mode):
        return True
    if before.digest is None and (info.st_size, info.st_mtime_ns, info.st_ctime_ns) == (
            before.size, before.mtime_ns, before.ctime_ns):
        return False  # a large file nothing touched (a write always moves the ctime)
    if info.st_size != before.size:
        return True
    try:
        fd = os.open(path, _READ)
    except OSError:
        return True
    try:
        digest = _hash_fd(fd)
    finally:
        os.close(fd)
    return before.digest is None or digest != before.digest


def walk(root: str) -> list[str]:
    """Relative POSIX paths of the files (and symlinks) under ``root``: VCS, virtualenv and
    cache directories skipped, byte-code never counted."""
    found: list[str] = []
    stack = [("", root)]
    while stack:
        rel, directory = stack.pop()
        try:
            entries = list(os.scandir(directory))
        except OSError:
            continue
        for entry in entries:
            name = entry.name
            child = f"{rel}/{name}" if rel else name
            try:
                if entry.is_dir(follow_symlinks=False):
                    if name in SKIP_DIR_NAMES or name == "__pycache__":
                        continue
                    if is_virtualenv(entry.path):
                        continue
                    stack.append((child, entry.path))
                elif not name.endswith((".pyc", ".pyo")):
                    found.append(child)
            except OSError:
                continue
    return found


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


#: free bytes a memory file system needs before the snapshot is put there
MEMORY_ROOM = 1 << 30


def private_base(memory: bool = False) -> str:
    """A temporary directory with no ``.git`` in it or above it: imported code that walks up
    from its own file must not find the user's (or any) repository.  ``memory``: prefer
    ``/dev/shm`` when it has room -- creating a file there costs microseconds, on a VM's ext4
    up to a millisecond or two (187 files: ~30 ms against 160-300 ms measured here)."""
    import tempfile  # noqa: PLC0415

    candidates = [tempfile.gettempdir(), "/tmp", "/var/tmp", "/dev/shm"]
    if memory:
        candidates.insert(0, "/dev/shm")
    for base in candidates:
        real = os.path.realpath(base)
        if not os.path.isdir(real) or not os.access(real, os.W_OK | os.X_OK) or _git_above(real):
            continue
        if memory and base == "/dev/shm":
            try:
                room = os.statvfs(real)
            except OSError:
                continue
            if room.f_bavail * room.f_frsize < MEMORY_ROOM:
                continue
        return real
    return os.path.realpath(tempfile.gettempdir())


def _git_above(directory: str) -> bool:
    here = directory
    while True:
        if os.path.lexists(os.path.join(here, ".git")):
            return True
        parent = os.path.dirname(here)
        if parent == here:
            return False
        here = parent
