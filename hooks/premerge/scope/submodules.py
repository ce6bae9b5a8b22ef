"""PM109 and the package half of PM110: questions about *other* files, answered statically.

``import importlib`` then ``importlib.util.find_spec(...)`` fails with AttributeError unless
something imported ``importlib.util`` first.  To say so without running anything we need: is
``util`` a submodule of ``importlib`` (find its spec with the import system's *finders*, which
locate files but never execute a package), does ``importlib/__init__.py`` itself bind ``util``
or import it (parsed, not run), and does anything the file imports load it on the way (the
static import closure of those modules, stdlib and first-party sources only).

Nothing here imports the code it looks at.  Answers are memoised per process; per-module import
lists are cached on disk by content (``Cache("scope-modules")``).
"""

from __future__ import annotations

import ast
import os
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from importlib.machinery import EXTENSION_SUFFIXES, PathFinder

from premerge.cache import Cache
from premerge.findings import Finding
from premerge.parsed import PARSE_ERRORS, parse_source, read_source_bytes
from premerge.sources import SourceError
from premerge.scope.bindings import resolve_relative
from premerge.scope.dynamic import is_module_object
from premerge.scope.file_report import FileReport
from premerge.scope.messages import SubmoduleNotImported, UndefinedExport
from premerge.scope.module_summary import module_level_statements, static_all

#: how many modules the accidental-import closure may parse before it gives up (and, to stay
#: precise, assumes the submodule might be loaded)
CLOSURE_LIMIT = 1500

#: source text that means a module's namespace is not what its statements show
_DYNAMIC_MARKERS = (b"globals()", b"vars()", b"__dict__", b"exec(", b"setattr(", b"_convert_",
                    b"global_enum", b"__getattr__")

#: one match per line that matters: a ``def`` or an import (with its indentation), or any
#: statement at column 0 (which ends every function body).  Compiled on first use (by
#: ``_lines()``): most runs never scan a module's text, and compiling costs ~2 ms.
_LINES_PATTERN = (
    r"^(?:(?P<indent>[ \t]*)(?:(?P<def>(?:async[ \t]+)?def[ \t])"
    r"|from[ \t]+(?P<source>[.\w]+)[ \t]+import[ \t]+(?P<names>[^\n#;]+)"
    r"|import[ \t]+(?P<plain>[\w. \t,]+))|(?P<top>[^\s#]))")


def _lines() -> re.Pattern[str]:
    return re.compile(_LINES_PATTERN, re.MULTILINE)  # re's own cache keeps it after the first


class _ModuleInfo:
    __slots__ = ("name", "origin", "locations")

    def __init__(self, name: str, origin: str | None, locations: list[str] | None) -> None:
        self.name = name
        self.origin = origin
        self.locations = locations

    @property
    def is_package(self) -> bool:
        return self.locations is not None


class ModuleIndex:
    """Locates modules on a search path and reads what they import, without importing them."""

    def __init__(self, search_path: Sequence[str], use_cache: bool = True,
                 more: Callable[[], list[str] | None] | None = None) -> None:
        self.search_path = [p for p in search_path if p]
        #: the rest of the search path (the project interpreter's), asked for on the first
        #: top-level module not found in ``search_path``; None once asked
        self._more = more
        #: whether that rest could not be known: then a module not found may still exist
        self.environment_unknown = False
        self._specs: dict[str, _ModuleInfo | None] = {}
        self._imports: dict[str, tuple[set[str], set[str], bool]] = {}
        self._closures: dict[frozenset[str], set[str] | None] = {}
        self._submodules: dict[tuple[str, str], bool] = {}
        self._scanned: dict[str, set[str]] = {}
        #: modules whose source may add names at runtime (globals().update, setattr, ...)
        self._rewritten: set[str] = set()
        #: every file read and directory listed or searched: the answers' dependencies
        self._touched: set[str] = set(self.search_path)
        self._listings: dict[str, set[str]] = {}
        self._star_exports: dict[str, set[str] | None] = {}
        self.cache = Cache("scope-modules", enabled=use_cache)

    # -- locating ---------------------------------------------------------------------------
    def find(self, dotted: str) -> _ModuleInfo | None:
        if dotted in self._specs:
            return self._specs[dotted]
        info: _ModuleInfo | None = None
        parent, _, _leaf = dotted.rpartition(".")
        try:
            if parent:
                outer = self.find(parent)
                path = outer.locations if outer is not None and outer.is_package else None
                spec = PathFinder.find_spec(dotted, path) if path else None
            else:
                spec = PathFinder.find_spec(dotted, self.search_path)
                if spec is None and dotted not in sys.builtin_module_names and \
                        self._extend():  # (a builtin module never needs the project's path)
                    spec = PathFinder.find_spec(dotted, self.search_path)
        except Exception:  # finders raise odd things (KeyError for namespace packages whose
            spec = None     # parent is not in sys.modules): unknown means silent
        if spec is not None:
            if spec.origin and spec.has_location:
                self._touched.add(os.path.dirname(spec.origin))
            locations = spec.submodule_search_locations
            if locations is not None:
                self._touched.update(locations)
            info = _ModuleInfo(dotted, spec.origin if spec.has_location else None,
                               list(locations) if locations is not None else None)
        elif not parent and dotted in sys.builtin_module_names:
            info = _ModuleInfo(dotted, None, None)
        self._specs[dotted] = info
        return info

    def _extend(self) -> bool:
        """Add the project interpreter's search path (once); whether anything was added."""
        more, self._more = self._more, None
        if more is None:
            return False
        entries = more()
        if entries is None:
            self.environment_unknown = True
            return False
        added = [e for e in entries if e not in self.search_path]
        self.search_path.extend(added)
        self._touched.update(added)
        for name in [n for n, info in self._specs.items() if info is None]:
            del self._specs[name]  # not found before: may be found now
        return bool(added)

    def depends_on(self, path: str) -> None:
        """A file another answer read: the cached run is stale when it changes."""
        self._touched.add(path)

    def resolves(self, dotted: str) -> bool | None:
        """Whether a module exists in the project's environment: None when that is unknown."""
        if self.find(dotted) is not None:
            return True
        return None if self.environment_unknown else False

    def dependencies(self) -> dict[str, list[int]]:
        """(mtime_ns, size) of everything the answers depended on; -1 for what was absent."""
        out: dict[str, list[int]] = {}
        for path in sorted(self._touched):
            try:
                stat = os.stat(path)
                out[path] = [stat.st_mtime_ns, stat.st_size]
            except OSError:
                out[path] = [-1, -1]
        return out

    def is_submodule(self, package: str, attr: str) -> bool:
        key = (package, attr)
        known = self._submodules.get(key)
        if known is None:
            known = self._submodules[key] = self._is_submodule(package, attr)
        return known

    def _is_submodule(self, package: str, attr: str) -> bool:
        outer = self.find(package)
        if outer is None or not outer.is_package:
            return False
        for location in outer.locations or ():
            if attr in self._listing(location):
                return True
        return False

    def _listing(self, directory: str) -> set[str]:
        """Module names in a package directory (files, packages, extensions), listed once."""
        names = self._listings.get(directory)
        if names is None:
            self._touched.add(directory)
            names = set()
            try:
                entries = os.listdir(directory)
            except OSError:
                entries = []
            for entry in entries:
                stem, dot, _rest = entry.partition(".")
                if not dot:
                    names.add(entry)  # a directory: package or namespace package
                elif entry.endswith(".py") or any(entry.endswith(s) for s in EXTENSION_SUFFIXES):
                    names.add(stem)
            self._listings[directory] = names
        return names

    # -- reading ----------------------------------------------------------------------------
    def module_facts(self, dotted: str, tree: ast.Module | None = None
                     ) -> tuple[set[str], set[str], bool]:
        """(modules its top-level code imports, names it binds at module level, unknowable).

        ``unknowable`` is true for star imports, a module ``__getattr__`` or a source we cannot
        read: then any attribute may exist.  ``tree``: the module's, when the caller parsed it.
        """
        if dotted in self._imports:
            return self._imports[dotted]
        info = self.find(dotted)
        result: tuple[set[str], set[str], bool] = (set(), set(), True)
        if info is not None and info.origin and info.origin.endswith(".py"):
            result = self._read_facts(dotted, info, tree)
        elif info is not None and info.origin is None and not info.is_package:
            result = (set(), set(), True)  # builtin module: attributes unknown
        elif info is not None and info.is_package and not info.origin:
            result = (set(), set(), False)  # namespace package: binds nothing
        self._imports[dotted] = result
        return result

    def _read_facts(self, dotted: str, info: _ModuleInfo, tree: ast.Module | None
                    ) -> tuple[set[str], set[str], bool]:
        self._touched.add(info.origin)  # type: ignore[arg-type]
        try:
            raw = read_source_bytes(info.origin)  # type: ignore[arg-type]
        except OSError:
            return (set(), set(), True)
        if any(marker in raw for marker in _DYNAMIC_MARKERS):
            self._rewritten.add(dotted)
        key = self.cache.key(raw, dotted, str(info.is_package))
        hit = self.cache.get(key, lambda h: all(isinstance(n, str) for n in
                                                 (*h["imports"], *h["names"], "unknown")))
        if hit is not None:
            return set(hit["imports"]), set(hit["names"]), bool(hit["unknown"])
        package = dotted if info.is_package else dotted.rpartition(".")[0]
        if tree is None:
            try:
                tree = parse_source(info.origin, raw).tree  # type: ignore[arg-type]
            except (SourceError, *PARSE_ERRORS):
                return (set(), set(), True)
        imports, names, unknown = _top_level_facts(tree.body, package)
        # names bound through `global` in functions, and namespaces changed at runtime
        for node in ast.walk(tree):
            if type(node) is ast.Global:
                names.update(node.names)  # type: ignore[attr-defined]
        self.cache.put(key, {"imports": sorted(imports), "names": sorted(names),
                             "unknown": unknown})
        return imports, names, unknown

    def star_exports(self, dotted: str, depth: int = 0) -> set[str] | None:
        """The names ``from dotted import *`` binds; None when we cannot know.

        A static ``__all__`` is the answer whatever else the module does (its own star imports,
        ``globals()`` writes); without one, its public module-level names plus what its own
        star imports export, followed a few levels (PyYAML's and pyparsing's chains).
        """
        if dotted in self._star_exports:
            return self._star_exports[dotted]
        self._star_exports[dotted] = None  # a cycle of star imports: unknowable
        result: set[str] | None = None
        info = self.find(dotted)
        if depth <= 8 and info is not None and info.origin and info.origin.endswith(".py"):
            result = self._read_star_exports(dotted, info, depth)
        self._star_exports[dotted] = result
        return result

    def _read_star_exports(self, dotted: str, info: _ModuleInfo, depth: int) -> set[str] | None:
        self._touched.add(info.origin)  # type: ignore[arg-type]
        try:
            tree = parse_source(info.origin).tree  # type: ignore[arg-type]
        except (OSError, SourceError, *PARSE_ERRORS):
            return None
        if _assigns_all(tree.body):
            listed = static_all(tree.body)
            return None if listed is None else {name for name, _line, _col in listed}
        _imports, names, _unknown = self.module_facts(dotted, tree)  # one parse serves both
        if dotted in self._rewritten and _rewrites_namespace(tree):
            return None
        exported = {name for name in names if not name.startswith("_")}
        package = dotted if info.is_package else dotted.rpartition(".")[0]
        for node in ast.walk(tree):
            if type(node) is ast.ImportFrom and any(a.name == "*" for a in node.names):
                base = resolve_relative(node.module, node.level or 0, package)
                inner = self.star_exports(base, depth + 1) if base else None
                if inner is None:
                    return None
                exported |= inner
        return exported

    def imports_of(self, dotted: str) -> set[str]:
        """Modules a module's top-level code imports (outside function bodies; conditional
        imports count, which errs towards silence).

        A line scan, not the import references of :mod:`premerge.imports.references`: the
        closure reads hundreds of standard-library and installed modules that nothing else in
        the run parses (526 for ``asyncio``, ``email.message``, ``http.client``, ``json``,
        ``logging.handlers`` and ``importlib.util``), and the scan is ~8x cheaper than reading,
        decoding, parsing and walking each (168 stdlib modules: 0.2 s against 1.6 s).  Where a
        module is one the run parsed anyway, the scan still reads its bytes from the run's
        memo (:mod:`premerge.parsed`).
        """
        known = self._scanned.get(dotted)
        if known is not None:
            return known
        out: set[str] = set()
        info = self.find(dotted)
        if info is not None and info.origin and info.origin.endswith(".py"):
            package = dotted if info.is_package else dotted.rpartition(".")[0]
            self._touched.add(info.origin)
            try:
                text = read_source_bytes(info.origin).decode("utf-8", "replace")
            except OSError:
                text = ""
            defs: list[int] = []
            for match in _lines().finditer(text):
                if match.group("top") is not None:
                    defs.clear()
                    continue
                indent = len(match.group("indent").expandtabs())
                while defs and defs[-1] >= indent:
                    defs.pop()
                if match.group("def") is not None:
                    defs.append(indent)
                    continue
                if defs:
                    continue  # inside a function body: runs only when called
                plain = match.group("plain")
                if plain is not None:
                    for part in plain.split(","):
                        module = part.strip().split(" ", 1)[0]
                        if module:
                            out.add(module)
                    continue
                source, names = match.group("source"), match.group("names")
                level = len(source) - len(source.lstrip("."))
                base = resolve_relative(source.lstrip(".") or None, level, package)
                if not base:
                    continue
                out.add(base)
                for part in names.strip("() \t\\").split(","):
                    name = part.strip().split(" ", 1)[0]
                    if name.isidentifier():
                        out.add(f"{base}.{name}")
        self._scanned[dotted] = out
        return out

    def package_sets(self, package: str, attr: str) -> bool:
        """Whether ``import package`` makes ``package.attr`` exist (as far as we can tell)."""
        _imports, names, unknown = self.module_facts(package)
        if unknown or attr in names:
            return True
        loaded = self.closure([package])
        return loaded is None or f"{package}.{attr}" in loaded

    def closure(self, modules: Iterable[str]) -> set[str] | None:
        """Every module importing ``modules`` loads (statically); None if too many to know."""
        start = frozenset(modules)
        if start in self._closures:
            return self._closures[start]
        seen: set[str] = set()
        queue = [m for m in start]
        while queue:
            name = queue.pop()
            if name in seen:
                continue
            seen.add(name)
            if len(seen) > CLOSURE_LIMIT:
                self._closures[start] = None
                return None
            parent = name.rpartition(".")[0]
            if parent and parent not in seen:
                queue.append(parent)
            queue.extend(i for i in self.imports_of(name) if i not in seen)
        self._closures[start] = seen
        return seen


def _rewrites_namespace(tree: ast.Module) -> bool:
    """Whether a module may add to its own namespace at runtime (``globals()``, ``vars()``,
    ``exec``, ``sys.modules[__name__]``, enum's ``_convert_``/``global_enum``): the byte scan's
    precise second look (``self.__dict__`` in a method is no such thing)."""
    parents: dict[ast.AST, ast.AST] = {}
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            parents[child] = node
    for node in ast.walk(tree):
        kind = type(node)
        if kind is ast.Call:
            func = node.func  # type: ignore[attr-defined]
            if type(func) is ast.Name and func.id == "exec":
                return True
            if type(func) is ast.Name and func.id in ("globals", "vars") and not node.args and \
                    not _reads_only(node, parents.get(node)):  # type: ignore[attr-defined]
                return True
            if type(func) is ast.Attribute and func.attr in ("_convert_", "_convert",
                                                             "global_enum"):
                return True
        elif kind is ast.Name and node.id == "global_enum":  # type: ignore[attr-defined]
            return True
        elif kind is ast.Subscript and is_module_object(node):
            return True
    return False


_NAMESPACE_READS = frozenset({"values", "items", "keys", "get", "copy", "__contains__"})


def _reads_only(call: ast.AST, parent: ast.AST | None) -> bool:
    """``globals().items()``, ``"x" in vars()``, ``globals()["x"]``: a read of the namespace."""
    kind = type(parent)
    if kind is ast.Attribute:
        return parent.attr in _NAMESPACE_READS  # type: ignore[union-attr]
    if kind is ast.Compare:
        return call is not parent.left  # type: ignore[union-attr]
    if kind is ast.Subscript:
        return type(parent.ctx) is ast.Load  # type: ignore[union-attr]
    return False


def _assigns_all(body: list[ast.stmt]) -> bool:
    """Whether module-level code (branches included, functions not) binds ``__all__``."""
    for stmt in module_level_statements(body):
        kind = type(stmt)
        if kind in (ast.Assign, ast.AugAssign, ast.AnnAssign):
            targets = stmt.targets if kind is ast.Assign else [stmt.target]  # type: ignore[attr-defined]
            if any(type(t) is ast.Name and t.id == "__all__" for t in targets):
                return True
    return False


def _top_level_facts(body: list[ast.stmt], package: str) -> tuple[set[str], set[str], bool]:
    """Modules imported and names bound by module-level code (not inside functions)."""
    imports: set[str] = set()
    names: set[str] = set()
    unknown = False
    for stmt in module_level_statements(body):
        kind = type(stmt)
        if kind is ast.Import:
            for alias in stmt.names:  # type: ignore[attr-defined]
                imports.add(alias.name)
                names.add(alias.asname or alias.name.split(".", 1)[0])
        elif kind is ast.ImportFrom:
            base = resolve_relative(stmt.module, stmt.level or 0, package)  # type: ignore[attr-defined]
            if base:
                imports.add(base)
            for alias in stmt.names:  # type: ignore[attr-defined]
                if alias.name == "*":
                    unknown = True
                    continue
                names.add(alias.asname or alias.name)
                if base:
                    imports.add(f"{base}.{alias.name}")
        elif kind in (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef):
            names.add(stmt.name)  # type: ignore[attr-defined]
            if stmt.name == "__getattr__":  # type: ignore[attr-defined]
                unknown = True
        elif kind in (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.For, ast.AsyncFor):
            targets = stmt.targets if kind is ast.Assign else [stmt.target]  # type: ignore[attr-defined]
            for target in targets:
                for node in ast.walk(target):
                    if type(node) is ast.Name:
                        names.add(node.id)
    # a module that imports "pkg.sub" also loads "pkg"
    return {i for i in imports if i}, names, unknown


def search_path_for(root: str) -> list[str]:
    """Where first-party modules live (the repository root, ``src/``), then the standard
    library; the project interpreter's site-packages come later (``ModuleIndex(more=...)``)."""
    from premerge.scope.environment import repository_path, stdlib_path

    out = repository_path(root)
    out.extend(entry for entry in stdlib_path() if entry not in out)
    return out


def resolve(report: FileReport, index: ModuleIndex) -> list[Finding]:
    """The cross-file findings of one file: PM109 and PM110 for package ``__init__`` files."""
    findings: list[Finding] = []
    if report.star_modules:
        findings.extend(_star_findings(report, index))
    if report.submodule_uses:
        findings.extend(_submodule_findings(report, index))
    if report.missing_exports:
        findings.extend(_export_findings(report))
    return findings


def _star_findings(report: FileReport, index: ModuleIndex) -> list[Finding]:
    """Names a file's star imports might provide: reported only when every star-imported
    module is a readable source whose module-level names do not include them."""
    exported: set[str] = set()
    for module in report.star_modules:
        info = index.find(module)
        names = index.star_exports(module)
        if info is None or names is None:
            return [report.star_note] if report.star_note else []
        exported |= names
        for location in info.locations or ():  # a package's star may bind its submodules
            exported |= index._listing(location)
    return [f for f in report.star_pending if f.name not in exported]


def _submodule_findings(report: FileReport, index: ModuleIndex) -> list[Finding]:
    imported = set(report.imported_modules)
    if any(index.find(module) is None for module in imported if "." not in module):
        # an import the project's environment cannot resolve (or that cannot be asked): what
        # it would load is unknown, so any submodule may be loaded on the way (issue 11 item 6)
        return []
    out: list[Finding] = []
    reported: set[str] = set()
    loaded: set[str] | None = None
    for use in report.submodule_uses:
        module = use.module
        for attr in use.attrs:
            candidate = f"{module}.{attr}"
            if candidate in imported:
                module = candidate
                continue
            if candidate in reported or not index.is_submodule(module, attr):
                break
            if index.package_sets(module, attr):
                break
            if loaded is None:
                loaded = index.closure(imported) or None
                if loaded is None:
                    return out  # too much to know: stay silent
            if candidate in loaded:
                break
            reported.add(candidate)
            out.append(SubmoduleNotImported.at(
                report.path, use.line, use.col, end_line=use.end_line, end_col=use.end_col,
                name=candidate, package=module, key=f"{use.scope}:{candidate}"))
            break
    return out


def _export_findings(report: FileReport) -> list[Finding]:
    out: list[Finding] = []
    path = report.path
    is_init = os.path.basename(path) == "__init__.py"
    directory = os.path.dirname(path)
    for name, line, col in report.missing_exports:
        if is_init:
            base = os.path.join(directory, name)
            if os.path.isfile(base + ".py") or os.path.isdir(base) or any(
                    os.path.isfile(base + s) for s in EXTENSION_SUFFIXES):
                continue  # `from package import *` imports listed submodules
        out.append(UndefinedExport.at(path, line, col, name=name, key=f"__all__:{name}"))
    return out
