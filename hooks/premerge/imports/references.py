"""Import references: every import statement of a file, with when it runs.

One walk over a module's statements (imports are never expressions) records each ``import``
and ``from ... import`` with whether it runs at import time (not inside a function) and whether
it runs at all (not under ``if TYPE_CHECKING:``).  smoke builds its import graph and preload
list from them; scope's fix engine asks the same graph whether a hoist closes a cycle.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar, Union

from premerge.cache import Cache
from premerge.parsed import PARSE_ERRORS, parse_source, parse_text, read_source_bytes
from premerge.records import Record
from premerge.safefile import NOT_REGULAR, FileRefused
from premerge.sources import SourceError

if TYPE_CHECKING:
    from premerge.imports.discovery import ProjectModule

Facts = TypeVar("Facts")


class ImportRef(Record):
    """One imported module reference: ``import a.b`` or ``from .m import x``."""

    __slots__ = _fields = ("line", "col", "module", "level", "names", "import_time", "runtime")

    def __init__(self, line: int, col: int, module: str, level: int = 0,
                 names: list[str] | None = None, import_time: bool = True,
                 runtime: bool = True) -> None:
        self.line = line
        self.col = col
        #: dotted, without the leading dots of a relative import ("" for `from . import`)
        self.module = module
        self.level = level
        #: for `from` imports; ["*"] for star
        self.names: list[str] = [] if names is None else names
        self.import_time = import_time  # not inside a function (runs when the module is imported)
        self.runtime = runtime  # not under `if TYPE_CHECKING:`

    def to_json(self) -> dict[str, Any]:
        return {"line": self.line, "col": self.col, "module": self.module, "level": self.level,
                "names": self.names, "import_time": self.import_time, "runtime": self.runtime}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ImportRef:
        return cls(**data)


def _is_type_checking(test: ast.expr) -> bool:
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


_BLOCKS = ("body", "orelse", "finalbody")


def collect_imports(body: list[ast.stmt], out: list[ImportRef],
                     nodes: list[ast.Import | ast.ImportFrom], in_function: bool,
                     typing_only: bool) -> None:
    """Import statements, walking statements only (imports are never expressions)."""
    for stmt in body:
        if isinstance(stmt, ast.Import):
            nodes.append(stmt)
            for alias in stmt.names:
                out.append(ImportRef(stmt.lineno, stmt.col_offset + 1, alias.name, 0, [],
                                     not in_function, not typing_only))
            continue
        if isinstance(stmt, ast.ImportFrom):
            nodes.append(stmt)
            out.append(ImportRef(stmt.lineno, stmt.col_offset + 1, stmt.module or "",
                                 stmt.level or 0, [a.name for a in stmt.names],
                                 not in_function, not typing_only))
            continue
        inner = in_function or isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef))
        if isinstance(stmt, ast.If) and _is_type_checking(stmt.test):
            collect_imports(stmt.body, out, nodes, inner, True)
            collect_imports(stmt.orelse, out, nodes, inner, typing_only)
            continue
        for name in _BLOCKS:
            block = getattr(stmt, name, None)
            if isinstance(block, list):
                collect_imports(block, out, nodes, inner, typing_only)
        for handler in getattr(stmt, "handlers", None) or ():
            collect_imports(handler.body, out, nodes, inner, typing_only)
        for case in getattr(stmt, "cases", None) or ():
            collect_imports(case.body, out, nodes, inner, typing_only)


#: a file's syntax tree, or what its parse raised (:data:`premerge.parsed.PARSE_ERRORS`)
TreeOrError = Union[ast.Module, BaseException]


def parsed_text(text: str, filename: str) -> TreeOrError:
    """The tree of source text, or the exception its parse raised."""
    try:
        return parse_text(text, filename)
    except PARSE_ERRORS as exc:
        return exc


def imports_from_source(text: str, filename: str = "<unknown>") -> list[ImportRef]:
    """Every import reference of one file's source (none when it does not parse)."""
    return imports_in_tree(parsed_text(text, filename))


def imports_in_tree(tree: TreeOrError) -> list[ImportRef]:
    """Every import reference of one file's tree (none when it did not parse)."""
    if isinstance(tree, BaseException):
        return []
    refs: list[ImportRef] = []
    try:
        collect_imports(tree.body, refs, [], in_function=False, typing_only=False)
    except RecursionError:
        pass
    return refs


def file_imports(modules: Sequence[ProjectModule], use_cache: bool = True
                 ) -> dict[str, list[ImportRef]]:
    """The import references of every module file, cached by content."""
    return analyse_files(
        modules, Cache("import-refs-1", enabled=use_cache), imports_in_tree,
        lambda data: [ImportRef.from_json(ref) for ref in data["imports"]],
        lambda refs: {"imports": [ref.to_json() for ref in refs]})


def analyse_files(modules: Sequence[ProjectModule], cache: Cache,
                  analyse: Callable[[TreeOrError], Facts],
                  load: Callable[[dict[str, Any]], Facts],
                  dump: Callable[[Facts], dict[str, Any]],
                  not_regular: dict[str, str] | None = None,
                  on_file: Callable[[ProjectModule, Facts], None] | None = None
                  ) -> dict[str, Facts]:
    """path -> ``analyse(tree)`` of every module file (the tree or what its parse raised),
    cached by content (``dump`` and ``load`` convert to and from the cached dict; a damaged
    entry is a miss).  Unreadable and undecodable files are left out; ``not_regular``
    collects path -> reason for the module files that are devices, FIFOs, ...; ``on_file``
    sees each module's facts as they come."""
    out: dict[str, Facts] = {}
    for module in modules:
        try:
            raw = read_source_bytes(module.path)
        except FileRefused as refused:
            if refused.kind == NOT_REGULAR and not_regular is not None:
                not_regular[module.path] = refused.reason
            continue
        key = cache.key(raw)
        cached = cache.get(key)
        if isinstance(cached, dict):
            try:
                out[module.path] = load(cached)
            except (KeyError, TypeError, ValueError):
                pass
            else:
                if on_file is not None:
                    on_file(module, out[module.path])
                continue
        tree: TreeOrError
        try:
            tree = parse_source(module.path, raw).tree  # the tree scope parsed, when kept
        except SourceError:  # undecodable: the import will say what is wrong
            continue
        except PARSE_ERRORS as exc:
            tree = exc
        info = analyse(tree)
        out[module.path] = info
        cache.put(key, dump(info))
        if on_file is not None:
            on_file(module, info)
    return out
