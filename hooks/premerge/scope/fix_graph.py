"""Would hoisting this import to module level close an import cycle?

A function-level (or ``TYPE_CHECKING``) import of a first-party module is often lazy on
purpose: the imported module imports this one at import time, and a module-level import
would make the two import each other half-initialised.  The answer comes from the static
import graph smoke uses too (:mod:`premerge.imports.graph`: import-time edges between
first-party modules): hoisting
``import target`` into ``module`` adds the edge module -> target, which closes a cycle exactly
when ``target`` already reaches ``module``.  The graph is built once per run, and only when a
hoist needs it.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from premerge.config import Config

#: Top-level names that are never first-party (no cycle possible), cheap to rule out.
_STDLIB = frozenset(getattr(sys, "stdlib_module_names", ())) | frozenset(sys.builtin_module_names)


class CycleOracle:
    """Answers ``closes_cycle(path, stmt)`` from the repository's import graph."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self._graph: Any = None
        self._declared: list[str] | None = None
        self._failed = False

    def closes_cycle(self, path: str, stmt: Any) -> bool:
        """True when ``stmt`` (an ``ast.Import``/``ast.ImportFrom`` from the file at ``path``)
        imports a first-party module that imports ``path`` back, transitively, at import
        time.  Unknown answers count as a cycle: the caller then copies the import into the
        using function, which is always safe."""
        names = _imported_names(stmt)
        if stmt.__class__.__name__ == "Import" or not getattr(stmt, "level", 0):
            if all(name.split(".")[0] in _STDLIB for name in names if name):
                return False
        graph = self._load()
        if graph is None:
            return True
        module = graph.modules.get(path) or self._module_for(path)
        if module is None:
            return bool(getattr(stmt, "level", 0))
        targets = self._targets(graph, module, stmt)
        if not targets:
            return False
        importers = graph.importers_closure([path])
        return any(target in importers for target in targets)

    # -- internals --------------------------------------------------------------------------
    def _load(self) -> Any:
        if self._graph is None and not self._failed:
            try:
                from premerge.imports.discovery import declared_source_roots, discover_modules
                from premerge.imports.graph import build_graph
                from premerge.imports.references import file_imports

                root = Path(self.config.root)
                modules = discover_modules(root, ["**/*.py"], self.config.scope.exclude)
                imports = file_imports(modules, use_cache=self.config.run.use_cache)
                self._graph = build_graph(modules, imports)
                self._declared = sorted(declared_source_roots(root), key=len, reverse=True)
            except Exception:  # noqa: BLE001 - no graph: every first-party hoist is refused
                self._failed = True
        return self._graph

    def _module_for(self, path: str) -> Any:
        try:
            from premerge.imports.discovery import module_for

            return module_for(path, Path(self.config.root).as_posix(), self._declared or [])
        except Exception:  # noqa: BLE001
            return None

    @staticmethod
    def _targets(graph: Any, module: Any, stmt: Any) -> set[str]:
        """Paths of the first-party modules the statement runs, as ``build_graph`` sees them."""
        from premerge.imports.graph import absolute_name
        from premerge.imports.references import ImportRef

        out: set[str] = set()
        refs: list[Any] = []
        if stmt.__class__.__name__ == "Import":
            refs = [ImportRef(stmt.lineno, stmt.col_offset, alias.name) for alias in stmt.names]
        else:
            refs = [ImportRef(stmt.lineno, stmt.col_offset, stmt.module or "", stmt.level,
                              [alias.name for alias in stmt.names])]
        for ref in refs:
            name = absolute_name(ref, module)
            if name is None:
                continue
            parts = name.split(".") if name else []
            candidates = [".".join(parts[:i]) for i in range(1, len(parts) + 1)]
            candidates += [f"{name}.{sub}" for sub in ref.names if sub != "*" and name]
            for candidate in candidates:
                found = graph.find(candidate, module)
                if found is not None and found.path != module.path:
                    out.add(found.path)
        return out


def _imported_names(stmt: Any) -> list[str]:
    if stmt.__class__.__name__ == "Import":
        return [alias.name for alias in stmt.names]
    return [stmt.module or ""]
