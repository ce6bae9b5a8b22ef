"""PM112: ``from jobs import Runner`` where the repository's ``jobs`` does not define ``Runner``.

ty, pyrefly and pyright report it statically; smoke only when the module imports at all.  The
answer needs the other file, so it is cross-file work (never cached per file): a file's
``imported_modules`` already lists ``jobs.Runner`` for that import, and only when ``jobs``
is a source file of the repository whose module-level names are all statically known (no star
import, no module ``__getattr__``, nothing that rewrites its namespace) and ``Runner`` is
neither one of them nor a submodule is the importing file parsed again, to find the statement
and check that no ``except ImportError`` and no ``if TYPE_CHECKING:`` covers it.
"""

from __future__ import annotations

import ast
import os
import re


from premerge.findings import Finding
from premerge.scope.bindings import ScopeFacts, StatementScanner, is_type_checking, resolve_relative
from premerge.scope.messages import NotInFirstPartyModule

TYPE_CHECKING = False
if TYPE_CHECKING:
    from premerge.scope.submodules import ModuleIndex

_WORD = re.compile(rb"[A-Za-z_][A-Za-z0-9_]*")
#: handlers that catch the ImportError of a missing name
_CATCHES_IMPORT = frozenset({"ImportError", "Exception", "BaseException"})


class FirstPartyModules:
    """What the repository's own modules define (memoised per run)."""

    def __init__(self, index: ModuleIndex, roots: list[str]) -> None:
        self.index = index
        self.roots = [os.path.realpath(r) for r in roots]
        self._tops: set[str] | None = None
        self._names: dict[str, set[str] | None] = {}
        self._sources: dict[str, bytes | None] = {}
        self._origins: dict[str, str | None] = {}
        self._word_sets: dict[str, frozenset[bytes] | None] = {}
        #: "module.name" -> whether ``from module import name`` fails (asked once per run)
        self._verdicts: dict[str, bool] = {}

    def tops(self) -> set[str]:
        """Top-level module names the repository provides (its root and ``src/``)."""
        if self._tops is None:
            tops: set[str] = set()
            for root in self.roots:
                try:
                    entries = os.listdir(root)
                except OSError:
                    continue
                for entry in entries:
                    if entry.endswith(".py"):
                        tops.add(entry[:-3])
                    elif os.path.isfile(os.path.join(root, entry, "__init__.py")):
                        tops.add(entry)
            self._tops = tops
        return self._tops

    def candidates(self, imported: list[str]) -> list[tuple[str, str]]:
        """(module, name) pairs of ``from module import name`` that would fail."""
        tops = self.tops()
        out = []
        verdicts = self._verdicts
        for dotted in imported:
            failing = verdicts.get(dotted)
            if failing is None:
                module, _, name = dotted.rpartition(".")
                failing = bool(module) and module.split(".", 1)[0] in tops and \
                    self._fails(module, name)
                verdicts[dotted] = failing
            if failing:
                module, _, name = dotted.rpartition(".")
                out.append((module, name))
        return out

    def _fails(self, module: str, name: str) -> bool:
        words = self._words(module)
        if words is None or name.encode() in words:
            return False  # the name occurs in the module's text: the cheap, common answer
        if self.index.is_submodule(module, name):
            return False  # `from package import submodule` imports it
        names = self.defined(module)
        return not (names is None or name in names)

    def _words(self, module: str) -> frozenset[bytes] | None:
        """Every identifier-like word of a first-party module's source (read once)."""
        if module not in self._word_sets:
            raw = self._source(module)
            self._word_sets[module] = None if raw is None else frozenset(_WORD.findall(raw))
        return self._word_sets[module]

    def origin(self, module: str) -> str | None:
        """The source file of a repository module (``pkg/sub.py`` or ``pkg/sub/__init__.py``
        under the first root that has one, as the import system would find it), or None."""
        if module not in self._origins:
            found = None
            parts = module.split(".")
            for root in self.roots:
                base = os.path.join(root, *parts)
                for candidate in (base + ".py", os.path.join(base, "__init__.py")):
                    if os.path.isfile(candidate):
                        found = candidate
                        break
                if found or os.path.isdir(base):
                    break  # the first root that has it (a namespace package too) decides
            self._origins[module] = found
        return self._origins[module]

    def _source(self, module: str) -> bytes | None:
        """The bytes of a first-party module's source file, or None."""
        if module not in self._sources:
            raw = None
            origin = self.origin(module)
            if origin is not None:
                from premerge.sources import SourceError, read_bytes

                self.index.depends_on(origin)  # the run's cached answer is stale if it changes

                try:
                    raw = read_bytes(origin)
                except (SourceError, OSError):
                    raw = None
            self._sources[module] = raw
        return self._sources[module]

    def defined(self, module: str) -> set[str] | None:
        """Every name a first-party module binds at module level; None when not statically
        known (not a readable source in the repository, star import, ``__getattr__``,
        namespace writes)."""
        if module in self._names:
            return self._names[module]
        result = None
        raw = self._source(module)
        origin = self.origin(module)
        if raw is not None and origin is not None:
            package = module if origin.endswith("__init__.py") else module.rpartition(".")[0]
            result = _module_names(origin, raw, package)
        self._names[module] = result
        return result

    def where(self, module: str) -> str:
        origin = self.origin(module) or module
        for root in self.roots:
            if origin.startswith(root + os.sep):
                return os.path.relpath(origin, root).replace(os.sep, "/")
        return origin


#: what every module has without binding it (``__path__`` only packages: added there)
_MODULE_DUNDERS = frozenset({"__name__", "__file__", "__doc__", "__spec__", "__loader__",
                             "__package__", "__builtins__", "__cached__", "__dict__"})


def _module_names(path: str, raw: bytes, package: str) -> set[str] | None:
    from premerge.parsed import PARSE_ERRORS, parse_source
    from premerge.sources import SourceError

    if b"import *" in raw or b"__getattr__" in raw:
        return None  # a star import or a module __getattr__ may bind any name (a parse saved)
    try:
        tree = parse_source(path, raw).tree
    except (SourceError, *PARSE_ERRORS):
        return None
    facts = ScopeFacts()
    facts.package = package
    StatementScanner(facts).scan_module(tree)
    if facts.star_imports or facts.dynamic_reasons or "__getattr__" in facts.module.bindings:
        return None
    from premerge.scope.submodules import _DYNAMIC_MARKERS, _rewrites_namespace

    if any(marker in raw for marker in _DYNAMIC_MARKERS) and _rewrites_namespace(tree):
        return None  # (the byte scan first: the tree walk is the costly part)
    names = set(facts.module.bindings) | _MODULE_DUNDERS
    if os.path.basename(path) == "__init__.py":
        names.add("__path__")
    for scope in facts.scopes.values():  # `global x` in a function binds x in the module
        declared = getattr(scope, "globals", None)
        if declared:
            names |= declared & set(scope.bindings)
    return names


def findings(path: str, package: str | None, imported: list[str],
             modules: FirstPartyModules) -> list[Finding]:
    """PM112 for one file: its failing first-party from-imports, located in its source."""
    wanted = modules.candidates(imported)
    if not wanted:
        return []
    from premerge.parsed import PARSE_ERRORS, parse_source
    from premerge.sources import SourceError

    try:
        tree = parse_source(path).tree  # the tree scope analysed, when the run kept it
    except (SourceError, OSError, *PARSE_ERRORS):
        return []
    pending = set(wanted)
    out: list[Finding] = []
    for node, scope in _from_imports(tree):
        base = resolve_relative(node.module, node.level or 0, package)
        for alias in node.names:
            if (base, alias.name) not in pending:
                continue
            where = alias if hasattr(alias, "lineno") else node  # aliases have one from 3.10
            out.append(NotInFirstPartyModule.at(
                path, where.lineno, where.col_offset + 1, end_line=where.end_lineno,
                end_col=(where.end_col_offset or 0) + 1, name=alias.name, module=base,
                where=modules.where(base), key=f"{scope}:{alias.name}"))  # type: ignore[arg-type]
    return out


def _from_imports(tree: ast.Module) -> list[tuple[ast.ImportFrom, str]]:
    """Every ``from ... import`` that runs unguarded, with its scope's qualified name: not
    under ``if TYPE_CHECKING:`` (never runs) nor in a try body whose handler catches the
    ImportError (handled)."""
    out: list[tuple[ast.ImportFrom, str]] = []

    def visit(body: list[ast.stmt], scope: str) -> None:
        for stmt in body:
            kind = type(stmt)
            if kind is ast.ImportFrom:
                out.append((stmt, scope))  # type: ignore[arg-type]
            elif kind in (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef):
                name = stmt.name  # type: ignore[attr-defined]
                inner = name if scope == "<module>" else f"{scope}.{name}"
                visit(stmt.body, inner)  # type: ignore[attr-defined]
            elif kind is ast.If and is_type_checking(stmt.test):  # type: ignore[attr-defined]
                visit(stmt.orelse, scope)  # type: ignore[attr-defined]
            elif kind is ast.Try or type(stmt).__name__ == "TryStar":
                if not any(_catches_import(h) for h in stmt.handlers):  # type: ignore[attr-defined]
                    visit(stmt.body, scope)  # type: ignore[attr-defined]
                for handler in stmt.handlers:  # type: ignore[attr-defined]
                    visit(handler.body, scope)
                visit(stmt.orelse, scope)  # type: ignore[attr-defined]
                visit(stmt.finalbody, scope)  # type: ignore[attr-defined]
            else:
                for field in ("body", "orelse"):
                    visit(getattr(stmt, field, None) or [], scope)
                for case in getattr(stmt, "cases", None) or ():
                    visit(case.body, scope)

    visit(tree.body, "<module>")
    return out


def _catches_import(handler: ast.ExceptHandler) -> bool:
    if handler.type is None:
        return True
    nodes = handler.type.elts if type(handler.type) is ast.Tuple else [handler.type]
    for node in nodes:
        name = node.id if type(node) is ast.Name else getattr(node, "attr", None)
        if name in _CATCHES_IMPORT:
            return True
    return False
