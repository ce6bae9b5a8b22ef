"""The one way premerge reads a file of the checked repository: regular and bounded.

The repository is hostile: a committed ``z.py -> /dev/zero`` (or ``premerge.yaml`` linked to
it) would grow an unbounded read without end, a FIFO named ``x.py`` blocks ``open`` forever,
and a check of the size by path says nothing about what a later ``open`` of that path gets.
So :func:`read_regular` opens without blocking (``O_NONBLOCK``; ``O_NOFOLLOW`` where a link
must not be followed), asks the *opened descriptor* (``fstat``) whether it is a regular file
and how large, and reads at most ``limit + 1`` bytes, so a file that grows is still caught.
A path that is not a regular file is refused before it is opened too: opening some devices
acts on them.
"""

from __future__ import annotations

import errno
import os
import stat

NOT_REGULAR, TOO_LARGE, UNREADABLE = "not-regular", "too-large", "unreadable"

_OPEN_FLAGS = (os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
               | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0))
_NO_FOLLOW = getattr(os, "O_NOFOLLOW", 0)


class FileRefused(OSError):
    """Why a file was not read: ``kind`` (:data:`NOT_REGULAR`, :data:`TOO_LARGE`,
    :data:`UNREADABLE`) and a one-line ``reason`` such as "is a character device".  An
    OSError, so a caller that already handled an unreadable file handles this one."""

    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(reason)
        self.kind = kind
        self.reason = reason


#: each kind of file that is not regular, in the words a finding uses
_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
          (stat.S_ISSOCK, "a socket"), (stat.S_ISLNK, "a symbolic link"))


def file_kind(mode: int) -> str:
    """What a non-regular file is, in words ("a FIFO (named pipe)")."""
    return next((words for test, words in _KINDS if test(mode)), "not a regular file")


def _check(info: os.stat_result, limit: int) -> None:
    """Refuse what is not a regular file; ``limit`` < 0: any size."""
    if not stat.S_ISREG(info.st_mode):
        raise FileRefused(NOT_REGULAR, f"is {file_kind(info.st_mode)}, not a regular file")
    if 0 <= limit < info.st_size:
        raise FileRefused(TOO_LARGE, f"file is {info.st_size // 1024} KiB, over the "
                                     f"{limit // 1024} KiB limit")


def _refusal(path: str, exc: OSError, follow_symlinks: bool) -> FileRefused:
    if exc.errno == errno.ELOOP:
        if not follow_symlinks and os.path.islink(path):
            return FileRefused(NOT_REGULAR, "is a symbolic link, not a regular file")
        return FileRefused(UNREADABLE, "looping symlink")
    if exc.errno == errno.ENOENT and os.path.islink(path):
        return FileRefused(UNREADABLE, "dangling symlink")
    if exc.errno == errno.EISDIR:
        return FileRefused(NOT_REGULAR, "is a directory, not a regular file")
    return FileRefused(UNREADABLE, exc.strerror or str(exc))


def read_regular(path: str | os.PathLike[str], limit: int, follow_symlinks: bool = True,
                 truncate: bool = False) -> bytes:
    """The bytes of the regular file at ``path``, at most ``limit`` of them, or
    :class:`FileRefused`.  ``follow_symlinks=False``: a symbolic link is refused, not read.
    ``truncate``: a longer file gives its first ``limit`` bytes instead of a refusal."""
    name = os.fspath(path)
    check_limit = -1 if truncate else limit
    try:
        _check(os.stat(name, follow_symlinks=follow_symlinks), check_limit)
        fd = os.open(name, _OPEN_FLAGS | (0 if follow_symlinks else _NO_FOLLOW))
    except FileRefused:
        raise
    except OSError as exc:
        raise _refusal(name, exc, follow_symlinks) from None
    except ValueError:  # a NUL in the path
        raise FileRefused(UNREADABLE, "the path holds a NUL byte") from None
    try:
        info = os.fstat(fd)
        _check(info, check_limit)  # what was opened, whatever the path names by now
        chunks: list[bytes] = []
        remaining = limit + 1
        while remaining > 0:
            chunk = os.read(fd, min(remaining, max(info.st_size + 1, 1 << 16)))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
    except FileRefused:
        raise
    except OSError as exc:
        raise _refusal(name, exc, follow_symlinks) from None
    finally:
        os.close(fd)
    data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
    if truncate:
        return data[:limit]
    if len(data) > limit:
        raise FileRefused(TOO_LARGE, f"file grew over the {limit // 1024} KiB limit while "
                                     "it was read")
    return data
