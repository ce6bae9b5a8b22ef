"""Code references to repository files: what they are, and scanning many files, cached.

A *reference* is a path the code builds from something the repository fixes:

- ``__file__`` (``Path(__file__).parent / "CLAUDE.md"``, ``.parents[1] / "templates"``,
  ``os.path.join(os.path.dirname(os.path.abspath(__file__)), "x.md")``, ``pkgutil.get_data(
  __name__, "data.json")``, ``importlib.resources.files(__package__) / "x"``), through
  variables assigned exactly once (``ROOT = Path(__file__).parent`` then ``ROOT / "x"``);
- the literal name of a file in a file API call (``open("settings.json")``, ``Path("x.md")``,
  ``shutil.copy("CLAUDE.md", ...)``), which only counts when that name is a tracked file.

Everything else -- ``Path.home()``, ``tempfile``, ``os.environ``, parameters, ``sys.argv``,
attributes, names bound more than once -- evaluates to *unknown* and produces nothing: precision
first.  Each reference carries how the code uses it (read, existence check, write, other), so
the caller can tell a resource from runtime data.  Extraction (:mod:`premerge.files.pathexpr`,
with ``ast``) depends only on a file's text and its repository path, so it is cached per file,
keyed on content; a warm run never imports the analysis.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator, Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from premerge.cache import Cache
from premerge.records import FrozenRecord, frozen_init

if TYPE_CHECKING:
    import ast

#: Usages of a referenced path, as recorded on a :class:`Reference`.
READ, GUARDED_READ, CHECK, WRITE, OTHER = "read", "guarded-read", "check", "write", "other"
#: printed, logged, formatted or compared: names the path without touching the file
MENTION = "mention"
#: the anchor of a path whose directory is computed at run time (``self.root / "CLAUDE.md"``):
#: only its literal tail is known, so only PM210 (matching it to the manifest) uses it
TAIL = "tail"

#: Files that are code, not resources: importing them is the smoke check's business.
CODE_SUFFIXES = (".py", ".pyi", ".pyw")

#: Cheap pre-filter on a file's bytes, independent of the repository's state so that what
#: is cached for a content stays true: an anchor (``__file__``, a package resource API), a file
#: API called with a literal, or a file-like literal assigned to a name.  Only such files are
#: parsed.  (Each pattern starts with a fixed character, so the scan stays linear.)
_ANCHOR_WORDS = (b"__file__", b"get_data", b"resource_", b"importlib")
_ANCHOR_HINT = (
    rb"(?:open|Path|join|copy\w{0,8}|exists|isfile|isdir|listdir|scandir|move|rename)"
    rb"\([ \t]{0,8}[rRbBuU]?[\"']"
    rb"|=[ \t]{0,8}[\"'][^\"'\n]{0,200}\.[A-Za-z0-9]{1,8}[\"']")


class Swallow(FrozenRecord):
    """A read, copy or move of a referenced path whose failure a handler lets pass silently
    (found by :mod:`premerge.files.handlers`; PM210 when the path is declared)."""

    __slots__ = _fields = ("line", "col", "handler_line", "handler_col", "verb", "behaviour",
                           "via")
    line: int  # the operation
    col: int
    handler_line: int  # the ``except`` clause
    handler_col: int
    verb: str  # "copying", "moving", "reading"
    behaviour: str  # "only prints a warning and the loop goes on"
    #: (line, col) of the calls that lead from the operation's function to the handler's
    via: tuple[tuple[int, int], ...]

    def __init__(self, line: int, col: int, handler_line: int, handler_col: int, verb: str,
                 behaviour: str, via: tuple[tuple[int, int], ...] = ()) -> None:
        frozen_init(self, line, col, handler_line, handler_col, verb, behaviour, via)

    def to_json(self) -> list[Any]:
        return [self.line, self.col, self.handler_line, self.handler_col, self.verb,
                self.behaviour, [list(call) for call in self.via]]

    @classmethod
    def from_json(cls, data: list[Any]) -> Swallow:
        line, col, handler_line, handler_col, verb, behaviour, via = data
        calls = tuple((call_line, call_col) for call_line, call_col in via)
        if not all(isinstance(n, int) for n in (line, col, handler_line, handler_col,
                                                *(n for call in calls for n in call))) \
                or not isinstance(verb, str) or not isinstance(behaviour, str):
            raise ValueError("not a swallowed failure")
        return cls(line, col, handler_line, handler_col, verb, behaviour, calls)


class Reference(FrozenRecord):
    """One place where code reaches for a repository path."""

    __slots__ = _fields = ("target", "anchor", "usages", "dynamic", "line", "col", "end_line",
                           "end_col", "code", "swallowed")
    target: str  # root-relative POSIX path ("" is the root itself)
    anchor: str  # "file": built from __file__ / a package; "cwd": a literal name; TAIL
    usages: frozenset[str]
    dynamic: bool  # a computed name follows: the code reads *something below* target
    line: int
    col: int
    end_line: int
    end_col: int
    code: str  # the referencing source line, stripped (for init's comments)
    #: reads, copies or moves of this path whose failure a handler lets pass silently
    swallowed: tuple[Swallow, ...]

    def __init__(self, target: str, anchor: str, usages: frozenset[str], dynamic: bool,
                 line: int, col: int, end_line: int, end_col: int, code: str = "",
                 swallowed: tuple[Swallow, ...] = ()) -> None:
        frozen_init(self, target, anchor, usages, dynamic, line, col, end_line, end_col, code,
                    swallowed)

    @property
    def writes(self) -> bool:
        return WRITE in self.usages

    @property
    def reads(self) -> bool:
        """Read unconditionally: not guarded by try/except and never existence-checked."""
        return READ in self.usages

    @property
    def optional(self) -> bool:
        return CHECK in self.usages or GUARDED_READ in self.usages

    def to_json(self) -> list[Any]:
        return [self.target, self.anchor, sorted(self.usages), self.dynamic, self.line,
                self.col, self.end_line, self.end_col, self.code,
                [swallow.to_json() for swallow in self.swallowed]]

    @classmethod
    def from_json(cls, data: list[Any]) -> Reference:
        target, anchor, usages, dynamic, line, col, end_line, end_col, code, swallowed = data
        return cls(target, anchor, frozenset(usages), bool(dynamic), line, col, end_line,
                   end_col, code, tuple(Swallow.from_json(item) for item in swallowed))


def extract(text: str, relpath: str) -> list[Reference]:
    """Every reference in one module's source (raises SyntaxError/ValueError when unparsable)."""
    from premerge.files.pathexpr import extract_references  # noqa: PLC0415 - the cold path

    return extract_references(text, relpath)


def references_in(tree: ast.Module, text: str, relpath: str) -> list[Reference]:
    """Every reference in one module's syntax tree."""
    from premerge.files.pathexpr import references_in_tree  # noqa: PLC0415 - the cold path

    return references_in_tree(tree, text, relpath)


# ---------------------------------------------------------------------------------------------
# scanning many files, cached


def is_code(target: str) -> bool:
    return target.endswith(CODE_SUFFIXES)


class ScanResult:
    """References per scanned file (root-relative POSIX path -> references)."""

    def __init__(self) -> None:
        self.by_file: dict[str, list[Reference]] = {}
        self.files = 0
        self.parsed = 0
        self.unreadable: list[str] = []
        #: parsed, but nested too deeply (or too large) for the reference walk: not checked
        self.too_deep: list[str] = []

    def items(self, tails: bool = False) -> Iterator[tuple[str, Reference]]:
        """(file, reference) pairs; ``tails``: also the paths only known by their last
        components (:data:`TAIL`), which only PM210 can use."""
        for path, refs in sorted(self.by_file.items()):
            for ref in refs:
                if tails or ref.anchor != TAIL:
                    yield path, ref


@lru_cache(maxsize=1)
def _anchor_hint() -> re.Pattern[bytes]:
    return re.compile(_ANCHOR_HINT)  # compiled only by runs that read files


def might_reference(raw: bytes) -> bool:
    """The cheap test before parsing (see ``_ANCHOR_HINT``)."""
    return any(word in raw for word in _ANCHOR_WORDS) or \
        _anchor_hint().search(raw) is not None


def scan(root: str, relpaths: Iterable[str], blobs: Mapping[str, str] | None = None,
         use_cache: bool = True) -> ScanResult:
    """Extract references from each file (root-relative paths).

    ``blobs`` maps files whose working-tree content is exactly their staged blob to that blob
    id: git already hashed their content, so their references come from one per-repository
    cache entry without reading them.  Other files are read, pre-filtered, and looked up in
    the per-file cache keyed on their bytes.  Unreadable and unparsable files are skipped (the
    scope check reports them).
    """
    cache = Cache("files-refs", enabled=use_cache, salt=_FORMAT)
    index_key = cache.key(root.encode("utf-8", "surrogateescape"), "blob-index")
    stored = (cache.get(index_key) if blobs else None) or {}
    if not isinstance(stored, dict) or not isinstance(stored.get("none"), str) or \
            not isinstance(stored.get("refs"), dict):
        stored = {"none": "", "refs": {}}
    # "blob path" of files known to hold no reference, and path -> [blob, refs] for the rest
    stored_none = set(stored["none"].split("\n"))
    stored_refs: dict[str, Any] = stored["refs"]
    fresh_none: list[str] = []
    fresh_refs: dict[str, list[Any]] = {}
    changed = False
    result = ScanResult()
    for relpath in relpaths:
        result.files += 1
        blob = blobs.get(relpath) if blobs else None
        if blob:
            ident = f"{blob} {relpath}"
            if ident in stored_none:
                fresh_none.append(ident)
                continue
            hit = stored_refs.get(relpath)
            if isinstance(hit, list) and len(hit) == 2 and hit[0] == blob:
                refs = _decode(hit[1])
                if refs:
                    fresh_refs[relpath] = hit
                    result.by_file[relpath] = refs
                    continue
        refs = _scan_file(root, relpath, cache, result)
        if refs is None:
            continue
        if blob:
            changed = True
            if refs:
                fresh_refs[relpath] = [blob, [ref.to_json() for ref in refs]]
            else:
                fresh_none.append(f"{blob} {relpath}")
        if refs:
            result.by_file[relpath] = refs
    stored_none.discard("")
    if blobs and (changed or len(fresh_none) != len(stored_none)
                  or len(fresh_refs) != len(stored_refs)):  # new, changed or removed files
        cache.put(index_key, {"none": "\n".join(fresh_none), "refs": fresh_refs})
    return result


#: the cached form of :class:`Reference`; a new field is a new format (old entries miss)
_FORMAT = "5"


def _decode(items: Any) -> list[Reference] | None:
    try:
        return [Reference.from_json(item) for item in items]
    except (TypeError, ValueError):
        return None


def _scan_file(root: str, relpath: str, cache: Cache, result: ScanResult
               ) -> list[Reference] | None:
    """One file's references: read, pre-filter, per-file cache, parse.  None: unreadable."""
    # lazily: a warm run served from the blob index never reads a source
    from premerge.parsed import parse_source, read_source_bytes  # noqa: PLC0415
    from premerge.safefile import TOO_LARGE, FileRefused  # noqa: PLC0415
    from premerge.sources import SourceError  # noqa: PLC0415

    full = os.path.join(root, relpath)
    try:
        raw = read_source_bytes(full)
    except FileRefused as refused:
        if refused.kind == TOO_LARGE:
            return []
        result.unreadable.append(relpath)
        return None
    if not might_reference(raw):
        return []
    key = cache.key(raw, relpath)
    cached = cache.get(key)
    if isinstance(cached, list):
        refs = _decode(cached)
        if refs is not None:
            return refs
    try:
        parsed = parse_source(full, raw)  # the tree scope or smoke parsed, when the run kept it
        refs = references_in(parsed.tree, parsed.source.text, relpath)
    except (SourceError, SyntaxError, ValueError):  # scope reports these (PM001-PM003)
        result.unreadable.append(relpath)
        return None
    except (RecursionError, MemoryError):  # valid Python the walk cannot follow: say so
        result.too_deep.append(relpath)
        return None
    result.parsed += 1
    cache.put(key, [ref.to_json() for ref in refs])
    return refs
