"""The smoke check: every module imported first, in a fresh interpreter state, fast and safely.

Steps: discover modules (:mod:`premerge.imports.discovery`) -> read imports and script effects
per file (:mod:`.static`, cached by content) -> static import graph
(:mod:`premerge.imports.graph`) -> select (PATHs, ``--changed`` plus importers, ``--shard``)
-> skip scripts with top-level effects -> run the imports under the project's interpreter
(:mod:`.runner`, :mod:`.child`) -> classify (:mod:`.classify`) -> repository writes
(:mod:`.writes`) and uncommitted imports.

``CheckResult.facts`` carries each imported module's real namespace for
:func:`premerge.smoke.refine.refine_scope_findings`.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from premerge.cache import Cache
from premerge.config import Config
from premerge.findings import CheckResult, Finding, Location
from premerge.imports.discovery import ProjectModule, discover_modules
from premerge.imports.graph import ImportGraph, build_graph
from premerge.imports.references import analyse_files
from premerge.smoke import messages as m
from premerge.smoke.static import BLOCKING_KINDS, FileFacts, effect_kind, facts_from_tree
from premerge.input_rules import NotRegularFile
from premerge.sources import discover_python_files, matches_any, posix, relative_to

if TYPE_CHECKING:
    from premerge.smoke.runner import Runner

#: Files never imported (they are programs by convention), silently.
NEVER_IMPORT = frozenset({"setup.py"})


def run(config: Config, paths: Sequence[str]) -> CheckResult:
    root = posix(config.root)
    # The warm parent boots (interpreter start-up, site, child.py) while premerge discovers
    # and reads the modules: started first, it is ready when the preload list is.
    from premerge.smoke.execute import discard, prepare  # noqa: PLC0415

    runner: Runner | None = prepare(config, root)
    try:
        modules = discover_modules(Path(root), config.smoke.include, config.smoke.exclude)
    except BaseException:
        discard(runner)
        raise
    if not modules:
        discard(runner)
        runner = None
    try:
        return _run(config, paths, root, modules, runner)
    except BaseException:
        if runner is not None:
            discard(runner)
        raise


def _run(config: Config, paths: Sequence[str], root: str, modules: list[ProjectModule],
         runner: Runner | None) -> CheckResult:
    findings: list[Finding] = []
    notes: list[str] = []
    not_regular: dict[str, str] = {}
    from premerge.smoke.execute import Prefetch  # noqa: PLC0415

    facts = file_facts(modules, use_cache=config.run.use_cache, not_regular=not_regular,
                       on_file=Prefetch.for_run(runner, config, paths, modules))
    graph = build_graph(modules, {path: info.imports for path, info in facts.items()})
    selected, problems = select_modules(modules, graph, root, paths, config)
    findings.extend(problems)
    to_run: list[ProjectModule] = []
    for module in selected:
        if module.path in not_regular:
            findings.append(NotRegularFile.at(module.path, reason=not_regular[module.path]))
            continue
        skip = skip_reason(module, facts.get(module.path), config)
        if skip is None:
            to_run.append(module)
        elif skip[1]:
            findings.append(m.ScriptNotImported.at(module.path, skip[0] or None,
                                                   module=module.name, reason=skip[1]))
            from premerge.smoke.classify import static_global_findings  # noqa: PLC0415

            findings.extend(static_global_findings(module))
    result = CheckResult(findings=findings, files=len(selected), notes=notes)
    result.facts = {"modules": {}, "namespaces": {},
                    "counts": {"modules": len(to_run), "imported": 0}}
    from premerge.smoke.execute import discard, execute  # noqa: PLC0415

    if not to_run or runner is None:
        if runner is not None:
            discard(runner)
        return result
    execute(runner, config, root, graph, facts, to_run, result)
    return result


def file_facts(modules: Sequence[ProjectModule], use_cache: bool = True,
               not_regular: dict[str, str] | None = None,
               on_file: Callable[[ProjectModule, FileFacts], None] | None = None
               ) -> dict[str, FileFacts]:
    """Imports and script effects of every module file, cached by content.  ``not_regular``
    collects path -> reason for the module files that are devices, FIFOs, ...: importing
    one would hang or never end, so they are reported (PM006) instead; ``on_file`` sees
    each file's facts as soon as they are known."""
    cache = Cache("smoke-static-6", enabled=use_cache)  # 6: class bases (warm subclasses)
    return analyse_files(modules, cache, facts_from_tree, FileFacts.from_json,
                         FileFacts.to_json, not_regular, on_file)


def select_modules(modules: Sequence[ProjectModule], graph: ImportGraph, root: str,
                   paths: Sequence[str], config: Config
                   ) -> tuple[list[ProjectModule], list[Finding]]:
    """PATHs, then ``--changed`` (plus every importer, transitively), then ``--shard``."""
    problems: list[Finding] = []
    chosen = list(modules)
    if paths:
        files, problems = discover_python_files(paths, root, config.smoke.exclude)
        wanted = set(files)
        directories = [posix(p) for p in paths if os.path.isdir(p)]
        chosen = [mod for mod in chosen if mod.path in wanted
                  or any(mod.path.startswith(d.rstrip("/") + "/") for d in directories)]
    changed = config.run.changed
    if changed is not None:
        changed_paths = {f"{root}/{rel}" for rel in changed}
        closure = graph.importers_closure(p for p in changed_paths if p in graph.modules)
        chosen = [mod for mod in chosen if mod.path in closure]
    if config.run.shard is not None:
        chosen = shard(chosen, *config.run.shard)
    return chosen, problems


def shard(modules: Sequence[ProjectModule], index: int, count: int) -> list[ProjectModule]:
    """The ``index``-th (1-based) of ``count`` slices: round-robin over modules sorted by
    (name, path), so every module lands in exactly one shard and shards differ by at most one."""
    ordered = sorted(modules, key=lambda mod: (mod.name, mod.relpath))
    return [mod for position, mod in enumerate(ordered) if position % count == index - 1]


def skip_reason(module: ProjectModule, info: FileFacts | None, config: Config
                ) -> tuple[int, str] | None:
    """(line, reason) when the module must not be imported; reason "" means skip silently.

    Only effects the pristine snapshot cannot contain stop an import: processes, the
    network, a command-line program, an endless loop.  Writes -- a log file, a log directory,
    even deleting files -- land in the snapshot and are reported (PM311).
    """
    if config.smoke.run_scripts and matches_any(module.relpath, config.smoke.run_scripts):
        return None
    base = os.path.basename(module.path)
    if base in NEVER_IMPORT:
        return 0, ""
    if base == "__main__.py":
        return 0, "a __main__.py runs its program when imported"
    if info is not None and info.script_effect is not None:
        line, reason = info.script_effect
        why = BLOCKING_KINDS[effect_kind(reason)]
        return line, f"it {why}: at module level it {reason}"
    return None


class TrackedFiles:
    """git's tracked files, read in a background thread while the imports run (the answer
    is needed only at the end, for PM314; reading it then cost ~20 ms of wall time)."""

    def __init__(self, config: Config) -> None:
        import threading  # noqa: PLC0415

        self.config = config
        self.repo: Any = None
        self.tracked: frozenset[str] | None = None
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._read, name="premerge-git-index",
                                        daemon=True)
        self._thread.start()

    def _read(self) -> None:
        from premerge.repo import Repository  # noqa: PLC0415

        try:
            self.repo = Repository(self.config.root)
            self.tracked = self.repo.tracked_files
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            self.error = exc

    def result(self) -> tuple[Any, frozenset[str]]:
        """(Repository, tracked files); raises what the read raised, in the caller's thread."""
        self._thread.join()
        if self.error is not None:
            raise self.error
        assert self.tracked is not None
        return self.repo, self.tracked


def uncommitted_findings(config: Config, root: str, graph: ImportGraph,
                         loaded: dict[str, list[str]],
                         prefetched: TrackedFiles | None = None) -> list[Finding]:
    """PM314 for tracked modules that import files git neither tracks nor ignores."""
    if not config.in_git or not any(loaded.values()):
        return []
    from premerge.repo import GitError, Repository  # noqa: PLC0415

    try:
        if prefetched is not None:
            repo, tracked = prefetched.result()
        else:
            repo = Repository(config.root)
            tracked = repo.tracked_files
        prefix = root.rstrip("/") + "/"
        files_loaded = {posix(f) for f in {f for files in loaded.values() for f in files}}
        candidates = sorted({f[len(prefix):] if f.startswith(prefix) else relative_to(f, root)
                             for f in files_loaded} - tracked)
        candidates = [c for c in candidates if not c.startswith("/")]
        untracked = set(candidates) - repo.ignored(candidates) if candidates else set()
    except GitError:
        return []
    if not untracked:
        return []
    out: list[Finding] = []
    for importer, files in sorted(loaded.items()):
        if relative_to(importer, root) not in tracked:
            continue
        module = graph.modules.get(importer)
        if module is None:
            continue
        for file in sorted(files):
            rel = relative_to(posix(file), root)
            if rel not in untracked:
                continue
            target = graph.modules.get(posix(file))
            edges = [e for e in graph.edges.get(importer, []) if e.target == posix(file)]
            if not edges:
                continue  # reported at its direct importer
            related = [Location(posix(file), None, message="not committed")]
            out.append(m.UncommittedModule.at(importer, edges[0].line, edges[0].col,
                                              module=module.name, related=related,
                                              missing=target.name if target else rel,
                                              file=rel, key=f"{module.name}:{rel}"))
    return out


def progress_printer(stream=sys.stderr, delay: float = 1.0):  # type: ignore[no-untyped-def]
    """``\\r[37/152] 2 failed  pkg.mod`` on a terminal, once the run has taken ``delay``
    seconds (a quick run stays silent; a timer draws the line when no module finishes in
    time); the line is cleared at the end.  Called with ``done == 0`` when the run starts."""
    import threading  # noqa: PLC0415

    width = shutil.get_terminal_size((80, 20)).columns - 1
    lock = threading.Lock()
    state: dict[str, Any] = {"done": 0, "total": 0, "name": "", "failed": 0, "shown": False,
                             "over": False, "timer": None}

    def draw() -> None:
        failures = f" {state['failed']} failed " if state["failed"] else " "
        text = f"[{state['done']}/{state['total']}]{failures} {state['name']}"[:width]
        stream.write("\r" + text.ljust(width))
        stream.flush()

    def late() -> None:
        with lock:
            if not state["over"]:
                state["shown"] = True
                draw()

    def show(done: int, total: int, name: str, failed: bool = False) -> None:
        with lock:
            state.update(done=done, total=total, name=name)
            state["failed"] += bool(failed)
            if state["timer"] is None:
                timer = state["timer"] = threading.Timer(delay, late)
                timer.daemon = True
                timer.start()
            if done >= total:
                state["over"] = True
                state["timer"].cancel()
                if state["shown"]:
                    stream.write("\r" + " " * width + "\r")
                    stream.flush()
            elif state["shown"]:
                draw()

    return show
