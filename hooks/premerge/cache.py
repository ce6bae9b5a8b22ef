"""A content-hash cache of per-file results, kept outside the user's tracked files.

Entries are JSON (never pickle: a cache directory must not be a code-execution vector), keyed by
a hash of the tool version, the check's namespace, its options and the file's bytes, so an
unrelated edit or a premerge upgrade can never serve a stale answer.  Writes are atomic
(temporary file + rename); a damaged or unreadable entry is a miss, never an error.

An entry decides a verdict (``{"findings": []}`` is "no findings"), so the cache is trusted
only when nobody else can write it: its directories are created 0700, and a directory or entry
owned by another user or writable by group or others is refused (one note on stderr, then the
run goes on uncached).  Entries are opened without following links and read within a size cap;
temporaries are created ``O_EXCL|O_NOFOLLOW``, so a planted link is never written through.
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

from premerge import __version__

#: typing.TYPE_CHECKING without importing typing: its names serve annotations only, and
#: the import costs ~3 ms of start-up where nothing else has loaded it
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

#: Larger entries are misses (the biggest, a 10,000-file repository's index, is a few MB).
MAX_ENTRY_BYTES = 64 * 1024 * 1024

#: directory -> why it is refused ("" when trusted); checked once per process
_VERDICTS: dict[str, str] = {}
_WARNED: list[str] = []


def cache_dir() -> Path:
    """``$PREMERGE_CACHE_DIR``, else ``$XDG_CACHE_HOME/premerge``, else ``~/.cache/premerge``."""
    explicit = os.environ.get("PREMERGE_CACHE_DIR")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "premerge"


def untrusted(info: os.stat_result) -> str:
    """Why a cache directory or entry with this ``lstat``/``fstat`` cannot be trusted, or ""."""
    uid = getattr(os, "getuid", None)
    if uid is not None and info.st_uid != uid():
        return f"it is owned by uid {info.st_uid}, not by this user"
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return "other users can write to it"
    return ""


def _refuse(path: str, reason: str) -> str:
    if not _WARNED:  # one note per process: the run goes on uncached
        _WARNED.append(path)
        print(f"premerge: note: not using the cache at {path}: {reason}; running uncached",
              file=sys.stderr)
    return reason


def _trusted_directory(path: str, create: bool) -> bool:
    """Whether ``path`` is a real directory of this user's that only it can write (created
    0700 when ``create`` and missing)."""
    verdict = _VERDICTS.get(path)
    if verdict is None or (verdict == "missing" and create):
        try:
            info = os.lstat(path)
        except FileNotFoundError:
            if not create:
                _VERDICTS[path] = "missing"
                return False
            try:
                os.makedirs(path, mode=0o700, exist_ok=True)
                info = os.lstat(path)
            except OSError:
                _VERDICTS[path] = "missing"
                return False
        except OSError as exc:
            _VERDICTS[path] = verdict = _refuse(path, exc.strerror or str(exc))
            return False
        if not stat.S_ISDIR(info.st_mode):
            verdict = "it is not a directory (a symbolic link?)"
        else:
            verdict = untrusted(info)
            if verdict:
                verdict += f" (chmod 700 {path}, or set PREMERGE_CACHE_DIR)"
        _VERDICTS[path] = _refuse(path, verdict) if verdict else ""
    return verdict == ""


class Cache:
    """One namespace (e.g. ``scope``) of the cache; disabled caches miss and drop writes."""

    def __init__(self, namespace: str, enabled: bool = True, salt: str = "") -> None:
        self.namespace = namespace
        self.enabled = enabled
        self.salt = salt
        self.directory = cache_dir() / namespace
        self._made = False

    def key(self, content: bytes, *extra: str) -> str:
        try:  # hashlib's blake2b is this C type; importing hashlib also loads OpenSSL (~5 ms)
            from _blake2 import blake2b  # noqa: PLC0415 - lazy: --no-cache never hashes
        except ImportError:  # pragma: no cover - interpreters built without _blake2
            from hashlib import blake2b  # noqa: PLC0415

        digest = blake2b(digest_size=20)
        for part in (__version__, self.namespace, self.salt, *extra):
            digest.update(part.encode())
            digest.update(b"\0")
        digest.update(content)
        return digest.hexdigest()

    def _path(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key[2:]}.json"

    def _trusted(self, path: Path, create: bool = False) -> bool:
        """Every directory from the cache's root down to the entry's is trusted."""
        top = cache_dir()
        return all(_trusted_directory(str(d), create)
                   for d in (top, self.directory, path.parent))

    def get(self, key: str, check: Callable[[Any], object] | None = None) -> Any | None:
        """The entry's value, or None: a miss for anything absent, untrusted, over
        :data:`MAX_ENTRY_BYTES`, unparsable (100,000 nested brackets too) or, with
        ``check``, of a shape ``check`` rejects (returns false or raises)."""
        if not self.enabled:
            return None
        path = self._path(key)
        if not self._trusted(path):
            return None
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)
                         | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
        except OSError:
            return None
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_ENTRY_BYTES:
                return None
            reason = untrusted(info)
            if reason:
                _refuse(str(path), reason)
                return None
            with os.fdopen(fd, "rb", closefd=False) as handle:
                raw = handle.read(MAX_ENTRY_BYTES + 1)
        except OSError:
            return None
        finally:
            os.close(fd)
        if len(raw) > MAX_ENTRY_BYTES:
            return None
        import json  # noqa: PLC0415 - lazy: only a hit reads JSON (~1.5 ms to import)

        try:
            value = json.loads(raw)
            if check is not None and not check(value):
                return None
        except (ValueError, RecursionError, MemoryError, LookupError, TypeError,
                AttributeError):
            return None
        return value

    def put(self, key: str, value: Any) -> None:
        if not self.enabled:
            return
        path = self._path(key)
        try:
            if not self._trusted(path, create=True):
                return
            import json  # noqa: PLC0415 - a warm run never writes

            # a name only this process writes (not tempfile: importing it costs a cold
            # one-file run ~3 ms where nothing else loaded it); O_EXCL|O_NOFOLLOW: a name
            # someone planted (a link to the user's files) fails the open, nothing is written
            tmp = str(path.parent / f".tmp-{os.getpid()}-{os.urandom(6).hex()}-{path.name}")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL
                         | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0), 0o600)
            try:
                # dumps, not dump: only a one-shot encoding runs json's C encoder; dump walks
                # the value in Python and writes it a fragment at a time (same text either way)
                text = json.dumps(value, separators=(",", ":"))
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    handle.write(text)
                os.replace(tmp, path)
            except BaseException:
                try:
                    os.unlink(tmp)
                except OSError:
                    pass
                raise
        except (OSError, TypeError, ValueError, RecursionError):
            return  # a cache that cannot write is just a slower run
