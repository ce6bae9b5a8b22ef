"""A content-hash cache of per-file results, kept outside the user's tracked files.

Entries are JSON (never pickle: a cache directory must not be a code-execution vector), keyed by
a hash of the tool version, the check's namespace, its options and the file's bytes, so an
unrelated edit or a premerge upgrade can never serve a stale answer.  Writes are atomic
(temporary file + rename); a damaged or unreadable entry is a miss, never an error.
"""

from __future__ import annotations

import os
from pathlib import Path

from premerge import __version__

#: typing.TYPE_CHECKING without importing typing: its names serve annotations only, and
#: the import costs ~3 ms of start-up where nothing else has loaded it
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def cache_dir() -> Path:
    """``$PREMERGE_CACHE_DIR``, else ``$XDG_CACHE_HOME/premerge``, else ``~/.cache/premerge``."""
    explicit = os.environ.get("PREMERGE_CACHE_DIR")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "premerge"


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

    def get(self, key: str) -> Any | None:
        if not self.enabled:
            return None
        try:
            with open(self._path(key), encoding="utf-8") as handle:
                import json  # noqa: PLC0415 - lazy: only a hit reads JSON (~1.5 ms to import)

                return json.load(handle)
        except (OSError, ValueError):
            return None

    def put(self, key: str, value: Any) -> None:
        if not self.enabled:
            return
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            import json  # noqa: PLC0415 - a warm run never writes

            # a name only this process writes (not tempfile: importing it costs a cold
            # one-file run ~3 ms where nothing else loaded it)
            tmp = str(path.parent / f".tmp-{os.getpid()}-{path.name}")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    json.dump(value, handle, separators=(",", ":"))
                os.replace(tmp, path)
            except BaseException:
                try:
                    os.unlink(tmp)
                except OSError:
                    pass
                raise
        except (OSError, TypeError, ValueError):
            return  # a cache that cannot write is just a slower run
