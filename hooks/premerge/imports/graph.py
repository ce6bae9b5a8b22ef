"""The static import graph of the repository's own modules.

Edges come from import statements that run at import time (not inside functions); each edge
remembers the line of its statement, so a cycle can be printed as the chain of imports that
forms it.  Names that resolve to no first-party module are *external*: the stdlib and
third-party modules the warm parent may preload.

Resolution follows the import semantics of each module: a script sees its own directory's
modules first; a package module resolves relative imports against its package and absolute
ones against its source root, then against any first-party package of that name.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping, Sequence

from premerge.imports.discovery import ProjectModule
from premerge.imports.references import ImportRef
from premerge.records import FrozenRecord, Record, frozen_init


class Edge(FrozenRecord):
    __slots__ = _fields = ("source", "target", "line", "col")
    source: str  # path of the importing module
    target: str  # path of the imported module
    line: int
    col: int

    def __init__(self, source: str, target: str, line: int, col: int) -> None:
        frozen_init(self, source, target, line, col)


class ImportGraph(Record):
    _fields = ("modules", "edges", "reverse", "external", "unresolved_relative",
               "first_party_tops")
    __slots__ = (*_fields, "_cached_resolver")

    def __init__(self, modules: dict[str, ProjectModule],
                 edges: dict[str, list[Edge]] | None = None,
                 reverse: dict[str, set[str]] | None = None,
                 external: dict[str, set[str]] | None = None,
                 unresolved_relative: list[tuple[str, ImportRef, str]] | None = None,
                 first_party_tops: set[str] | None = None) -> None:
        self.modules = modules  # path -> module
        #: source path -> edges
        self.edges: dict[str, list[Edge]] = {} if edges is None else edges
        #: target path -> importers
        self.reverse: dict[str, set[str]] = {} if reverse is None else reverse
        #: dotted name -> importers
        self.external: dict[str, set[str]] = {} if external is None else external
        #: (importer path, ImportRef, missing dotted name) of relative imports that resolve
        #: nowhere
        self.unresolved_relative: list[tuple[str, ImportRef, str]] = \
            [] if unresolved_relative is None else unresolved_relative
        #: top-level names first-party files provide, in any import root (never preloaded)
        self.first_party_tops: set[str] = set() if first_party_tops is None \
            else first_party_tops
        #: built on the first look-up (:attr:`_resolver`)
        self._cached_resolver: _Resolver | None = None

    def importers_closure(self, paths: Iterable[str]) -> set[str]:
        """The given module paths plus every module that imports them, transitively."""
        seen = set(paths)
        queue = deque(seen)
        while queue:
            current = queue.popleft()
            for importer in self.reverse.get(current, ()):
                if importer not in seen:
                    seen.add(importer)
                    queue.append(importer)
        return seen

    def cycle_through(self, start: str, via: str | None = None) -> list[Edge] | None:
        """The shortest import cycle from ``start`` back to itself (through ``via`` if given)."""
        if via is not None and via != start:
            first = self._path(start, via)
            back = self._path(via, start)
            if first and back:
                return first + back
        for edge in self.edges.get(start, ()):
            back = self._path(edge.target, start)
            if back is not None:
                return [edge, *back] if edge.target != start else [edge]
        return None

    def _path(self, source: str, target: str) -> list[Edge] | None:
        """Shortest chain of import edges from ``source`` to ``target`` (BFS)."""
        if source == target:
            return []
        previous: dict[str, Edge] = {}
        queue = deque([source])
        seen = {source}
        while queue:
            current = queue.popleft()
            for edge in self.edges.get(current, ()):
                if edge.target in seen:
                    continue
                previous[edge.target] = edge
                if edge.target == target:
                    chain = [edge]
                    while chain[0].source != source:
                        chain.insert(0, previous[chain[0].source])
                    return chain
                seen.add(edge.target)
                queue.append(edge.target)
        return None

    def find(self, name: str, context: ProjectModule | None = None) -> ProjectModule | None:
        """The first-party module a dotted name means, seen from ``context``."""
        return self._resolver.resolve(name, context)

    @property
    def _resolver(self) -> _Resolver:
        resolver = self._cached_resolver
        if resolver is None:
            resolver = _Resolver(self.modules.values())
            self._cached_resolver = resolver
        return resolver


class _Resolver:
    def __init__(self, modules: Iterable[ProjectModule]) -> None:
        self.by_root: dict[str, dict[str, ProjectModule]] = {}
        self.packages: dict[str, list[ProjectModule]] = {}
        for module in modules:
            self.by_root.setdefault(module.import_root, {})[module.name] = module
            if module.kind == "package":
                self.packages.setdefault(module.name, []).append(module)

    def resolve(self, name: str, context: ProjectModule | None) -> ProjectModule | None:
        if context is not None:
            found = self.by_root.get(context.import_root, {}).get(name)
            if found is not None:
                return found
        candidates = self.packages.get(name, [])
        return candidates[0] if len(candidates) == 1 else None


def absolute_name(ref: ImportRef, module: ProjectModule) -> str | None:
    """The absolute dotted name of a relative import, or None when it leaves the package."""
    if not ref.level:
        return ref.module
    package = module.package.split(".") if module.package else []
    if ref.level - 1 > len(package) or not package:
        return None
    base = package[: len(package) - (ref.level - 1)]
    return ".".join([*base, ref.module] if ref.module else base)


def build_graph(modules: Sequence[ProjectModule], imports: Mapping[str, Sequence[ImportRef]]
                ) -> ImportGraph:
    """The graph of ``modules`` from ``imports`` (module path -> its import references)."""
    graph = empty_graph(modules)
    for module in modules:
        refs = imports.get(module.path)
        if refs is not None:
            add_module(graph, module, refs)
    return graph


def empty_graph(modules: Sequence[ProjectModule]) -> ImportGraph:
    """The graph of ``modules`` before any module's imports are added (:func:`add_module`)."""
    graph = ImportGraph(modules={m.path: m for m in modules})
    graph.first_party_tops = {m.top for m in modules}
    return graph


def add_module(graph: ImportGraph, module: ProjectModule, refs: Sequence[ImportRef]
               ) -> list[str]:
    """Add one module's import-time edges, unresolved relative imports and external names;
    return its external names."""
    resolver = graph._resolver
    edges: list[Edge] = []
    external: list[str] = []
    for ref in refs:
        if not ref.import_time:
            continue
        name = absolute_name(ref, module)
        if name is None:
            continue
        targets: list[ProjectModule] = []
        parts = name.split(".") if name else []
        for index in range(1, len(parts) + 1):  # a.b.c runs a, a.b and a.b.c
            found = resolver.resolve(".".join(parts[:index]), module)
            if found is not None:
                targets.append(found)
        for imported in ref.names:  # `from pkg import sub` may import a submodule
            if imported != "*" and name:
                found = resolver.resolve(f"{name}.{imported}", module)
                if found is not None:
                    targets.append(found)
        if targets:
            for target in targets:
                if target.path != module.path:
                    edges.append(Edge(module.path, target.path, ref.line, ref.col))
                    graph.reverse.setdefault(target.path, set()).add(module.path)
        elif ref.level:
            graph.unresolved_relative.append((module.path, ref, name))
        elif name and ref.runtime and name.split(".")[0] not in graph.first_party_tops:
            graph.external.setdefault(name, set()).add(module.path)
            external.append(name)
    graph.edges[module.path] = edges
    return external
