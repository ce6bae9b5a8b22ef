"""The one place premerge reads, decodes and parses a Python file of the checked repository.

Each check used to read and parse on its own: a ``premerge check`` read a file up to five
times (scope, scope's first-party lookup, files, smoke, ``# noqa``) and parsed it up to three
(scope, files, smoke), more for a module smoke classifies.  Now they all ask here.

Reads are bounded and regular (:func:`premerge.safefile.read_regular`, ``MAX_SOURCE_BYTES``);
decoding is :func:`premerge.sources.decode_source`; parsing is ``ast.parse`` with the file's
SyntaxWarnings silenced (they are not premerge's to print).  A parse raises what ``ast.parse``
raises (SyntaxError, ValueError, RecursionError, MemoryError); each caller keeps its own
answer to those, as before.

What is read and parsed is remembered only while :func:`shared` is open (``run_checks`` opens
it for a run where a second check, or smoke's classification, would read a file again) and
only in the process that opened it: scope's worker processes inherit the reads their parent
made and keep nothing of their own.  Both memos are bounded (see :class:`_Memo`): raw bytes
up to :data:`READ_BUDGET`, the first files that fit (scope holds every file's bytes for its
run anyway); syntax trees while the run's source fits :data:`TREE_BUDGET` -- a tree takes
~27 times its source (``_pydecimal.py``: 229 KB -> 6.3 MB) -- and none once it does not, so
a 5,000-file run keeps no tree alive, while a pre-commit run's few files are parsed once for
every check.  A run of scope alone or files alone opens nothing: its one-file path frees
(or leaves for the exit) the tree it analysed, as before.  Syntax trees are shared, so no
consumer may change one (none does: parents and scopes live in the walkers' own
dictionaries).
"""

from __future__ import annotations

import os

from premerge.records import Record
from premerge.safefile import FileRefused, read_regular
from premerge.sources import MAX_SOURCE_BYTES, SourceFile, decode_source, read_bytes

#: typing.TYPE_CHECKING without importing typing (see :mod:`premerge.startup`)
TYPE_CHECKING = False
if TYPE_CHECKING:
    import ast

#: raw bytes kept per run (every check's first read of a file, then served from here)
READ_BUDGET = 64 * 1024 * 1024
#: source bytes whose syntax trees are kept per run (~27x that in memory)
TREE_BUDGET = 1024 * 1024
#: what ``ast.parse`` raises for a file it cannot turn into a tree
PARSE_ERRORS = (SyntaxError, ValueError, RecursionError, MemoryError)


class Parsed(Record):
    """One file read, decoded and parsed: its bytes, its decoded text and its tree."""

    __slots__ = _fields = ("path", "raw", "source", "tree")

    def __init__(self, path: str, raw: bytes, source: SourceFile, tree: ast.Module) -> None:
        self.path = path
        self.raw = raw
        self.source = source
        self.tree = tree


class _Memo:
    """Reads and parses of one run, in the process that opened it, each within its budget.

    Reads: the first files that fit are kept, not the newest -- the checks walk the files in
    their own orders, so a memo that evicts the oldest for the newest drops each file just
    before the next check asks for it.  Trees: all of the run's or none.  Every tree kept
    alive is walked by the garbage collector's full collections for the rest of the run:
    keeping the first 1 MiB of source's trees of a 734-file ``check --checks scope,files
    --jobs 1`` cost 0.6-1.0 s more CPU (of ~5.5 s) and ~40 MB.  So a run whose trees outgrow
    :data:`TREE_BUDGET` -- a large one, where few would be asked for again -- keeps none from
    then on; a pre-commit run's few files keep all.
    """

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.reads: dict[str, bytes | FileRefused] = {}
        self.read_bytes = 0
        #: path -> (the bytes parsed, the Parsed or the exception its parse raised, raised
        #: again for the next caller)
        self.trees: dict[str, tuple[bytes, Parsed | BaseException]] = {}
        self.tree_bytes = 0
        #: the run's trees outgrew :data:`TREE_BUDGET`: none is kept any more
        self.trees_full = False

    def remember_read(self, path: str, outcome: bytes | FileRefused) -> None:
        size = len(outcome) if isinstance(outcome, bytes) else 0
        if self.read_bytes + size <= READ_BUDGET:
            self.reads[path] = outcome
            self.read_bytes += size

    def remember_tree(self, path: str, raw: bytes, outcome: Parsed | BaseException) -> None:
        if self.trees_full:
            return
        known = self.trees.pop(path, None)
        if known is not None:
            self.tree_bytes -= len(known[0])
        if self.tree_bytes + len(raw) > TREE_BUDGET:
            self.trees_full = True
            self.trees.clear()
            self.tree_bytes = 0
            return
        self.trees[path] = (raw, outcome)
        self.tree_bytes += len(raw)


_memo: list[_Memo | None] = [None]


def _current() -> _Memo | None:
    memo = _memo[0]
    return memo if memo is not None and memo.pid == os.getpid() else None


class shared:  # noqa: N801 - used as a function: ``with shared():``
    """Remember reads and syntax trees until the block ends.  (A class, not ``contextlib``:
    a one-file run does not import it.)"""

    def __init__(self) -> None:
        self.previous: _Memo | None = None

    def __enter__(self) -> None:
        self.previous = _memo[0]
        _memo[0] = _Memo()

    def __exit__(self, *exc_info: object) -> None:
        _memo[0] = self.previous


def read_source_bytes(path: str) -> bytes:
    """A Python file's bytes, regular and at most ``MAX_SOURCE_BYTES``, or :class:`FileRefused`
    (read once per run while :func:`shared` is open)."""
    memo = _current()
    if memo is None:
        return read_regular(path, MAX_SOURCE_BYTES)
    outcome = memo.reads.get(path)
    if outcome is None:
        try:
            outcome = read_regular(path, MAX_SOURCE_BYTES)
        except FileRefused as refused:
            outcome = refused
        memo.remember_read(path, outcome)
    if isinstance(outcome, FileRefused):
        raise FileRefused(outcome.kind, outcome.reason)
    return outcome


#: the warnings filter list while a file is parsed: everything ignored
_QUIET: list[tuple[str, None, type[Warning], None, int]] = [("ignore", None, Warning, None, 0)]


def parse_text(text: str, filename: str = "<unknown>") -> ast.Module:
    """``ast.parse`` with the file's SyntaxWarnings and DeprecationWarnings silenced (raises
    what it raises).  The filter list is swapped for the parse, not copied and restored by
    ``warnings.catch_warnings()``: that cost ~4 us a file, ~10 ms of a 1,000-parse
    ``files --no-cache``; the interpreter reads ``warnings.filters`` at each warning."""
    import ast  # noqa: PLC0415 - a warm run that only reads never loads it
    import warnings  # noqa: PLC0415 - already loaded by the interpreter: a lookup

    saved = warnings.filters
    warnings.filters = _QUIET
    try:
        return ast.parse(text, filename=filename)
    finally:
        warnings.filters = saved


def parse_source(path: str, raw: bytes | None = None) -> Parsed:
    """``path`` read (unless its bytes are given), decoded and parsed, once per run while
    :func:`shared` is open.  Raises :class:`premerge.sources.SourceError` for a file that cannot
    be read or decoded, else what :func:`parse_text` raises."""
    memo = _current()
    if memo is not None:
        known = memo.trees.get(path)
        if known is not None and (raw is None or raw is known[0] or raw == known[0]):
            outcome = known[1]
            if isinstance(outcome, Parsed):
                return outcome
            raise outcome.with_traceback(None)
    if raw is None:
        raw = read_bytes(path)
    source = decode_source(path, raw)
    try:
        parsed = Parsed(path, raw, source, parse_text(source.text, path))
    except PARSE_ERRORS as exc:
        if memo is not None:
            memo.remember_tree(path, raw, exc.with_traceback(None))  # (frames not kept)
        raise
    if memo is not None:
        memo.remember_tree(path, raw, parsed)
    return parsed
