"""Running the selected modules and turning outcomes into findings and facts."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Sequence

from premerge.config import Config
from premerge.findings import CheckResult, Finding
from premerge.imports.discovery import ProjectModule
from premerge.imports.graph import ImportGraph, add_module, empty_graph
from premerge.imports.interpreter import choose_interpreter
from premerge.smoke import messages as m
from premerge.smoke.classify import Classified, Context, classify, fold
from premerge.smoke.runner import (InterpreterProblem, Outcome, Runner, Settings,
                                   child_environment, make_workdir, memory_limit)
from premerge.smoke.static import FileFacts
from premerge.smoke.writes import Change, Snapshot, attribute, private_base, walk
from premerge.sources import SKIP_DIR_NAMES, is_virtualenv, posix, relative_to


def _needed(graph: ImportGraph, modules: Sequence[ProjectModule]) -> set[str]:
    """These modules' files and their first-party dependencies', transitively."""
    needed: set[str] = set()
    stack = [mod.path for mod in modules]
    while stack:
        path = stack.pop()
        if path in needed:
            continue
        needed.add(path)
        stack.extend(edge.target for edge in graph.edges.get(path, ()))
    return needed


def preload_candidates(graph: ImportGraph, modules: Sequence[ProjectModule]) -> list[str]:
    """External modules imported at import time by these modules and their first-party
    dependencies; never a name a first-party file could shadow."""
    needed = _needed(graph, modules)
    names = {name for name, importers in graph.external.items() if importers & needed}
    return sorted(n for n in names if _preloadable(n, graph))


def _preloadable(name: str, graph: ImportGraph) -> bool:
    return name.split(".")[0] not in graph.first_party_tops and \
        all(part.isidentifier() for part in name.split(".")) and name != "__main__"


class Prefetch:
    """The warm parent's preload, started while premerge still reads the sources: as soon as
    a module that will be imported has been read, the external modules it imports go to the
    parent, which imports them while premerge reads the rest (and a forked compiler compiles
    every module meanwhile).  The full, sorted preload list follows as before
    (:meth:`Runner.start`); the parent imports nothing twice and answers for all of them then.

    Only for a run over every module (no PATHs, ``--changed`` or ``--shard``): then every
    name sent early is in the final list (each comes from a module that is imported)."""

    def __init__(self, runner: Runner, config: Config, modules: Sequence[ProjectModule]) -> None:
        self.runner = runner
        self.config = config
        self.modules = modules
        self.graph = empty_graph(modules)
        self.sent: set[str] = set()
        self.pending: set[str] = set()  # not sent yet: the snapshot is still being copied
        #: names ``from X import a`` takes from each module: to send, and sent
        self.attributes: dict[str, set[str]] = {}
        self.touched: dict[str, set[str]] = {}
        self.snapshot_ready = False

    @classmethod
    def for_run(cls, runner: Runner | None, config: Config, paths: Sequence[str],
                modules: Sequence[ProjectModule]) -> Prefetch | None:
        run = config.run
        if runner is None or paths or run.changed is not None or run.shard is not None:
            return None
        return cls(runner, config, modules)

    def __call__(self, module: ProjectModule, info: FileFacts) -> None:
        from premerge.smoke import skip_reason  # noqa: PLC0415

        if skip_reason(module, info, self.config) is not None:
            return
        external = {n for n in add_module(self.graph, module, info.imports)
                    if _preloadable(n, self.graph)}
        self.pending.update(external - self.sent)
        attributes: dict[str, set[str]] = {}
        _add_attributes(attributes, info, external)
        for name, attrs in attributes.items():
            self.attributes.setdefault(name, set()).update(attrs - self.touched.get(name, set()))
        if not (self.pending or any(self.attributes.values())) or not self._snapshot_ready():
            return
        compile_paths: list[str] = []
        if not self.sent:  # first message: every module the run may import, compiled once
            compile_paths = [mod.path for mod in self.modules]
        names, self.pending = sorted(self.pending), set()
        self.sent.update(names)
        touch = {name: sorted(attrs) for name, attrs in self.attributes.items() if attrs}
        for name, attrs in self.attributes.items():
            self.touched.setdefault(name, set()).update(attrs)
        self.attributes = {}
        self.runner.prefetch(names, compile_paths, touch)

    def _snapshot_ready(self) -> bool:
        """Imports read the snapshot: nothing is sent before its copy is complete."""
        if not self.snapshot_ready:
            snapshot = self.runner.settings.snapshot
            if snapshot is None or not snapshot.copied():
                return False
            root = self.runner.settings.root
            snapshot.add(relative_to(mod.path, root) for mod in self.modules)
            self.snapshot_ready = True
        return True


def needs_threads_tier(graph: ImportGraph, modules: Sequence[ProjectModule],
                       starters: Sequence[str]) -> list[ProjectModule]:
    """The modules whose import-time closure imports a package that starts threads when
    imported (``starters``, refused by the first warm parent)."""
    def starts(name: str) -> bool:
        return any(name == s or name.startswith(s + ".") for s in starters)

    importers = set()
    for name, paths in graph.external.items():
        if starts(name):
            importers |= paths
    if not importers:
        return []
    return [mod for mod in modules if _needed(graph, [mod]) & importers]


def _run_tiers(runner: Runner, graph: ImportGraph, facts: dict[str, FileFacts],
               modules: Sequence[ProjectModule], preload: Sequence[str],
               compile_paths: Sequence[str], attributes: dict[str, list[str]],
               warm: dict[str, list[str]] | None = None) -> list[Outcome]:
    """Import every module: in the first warm parent, or -- when the project's heavy
    dependencies start threads at import (litellm) and the first parent refused them -- the
    modules that import those in a second warm parent that holds them.

    First import in a fresh state stays true in both: a warm parent holds only third-party
    and standard-library modules (the child proves no first-party module is loaded before its
    import).  The threads those dependencies started do not exist in a forked child (fork
    copies only the calling thread); a child of the second tier that hangs or crashes -- a
    lock held by a vanished thread -- is re-imported in a fresh process before anything is
    reported.  The second parent is the first one before it restarted without those packages
    (it already holds everything), or else preloads while the first tier's imports run.

    Modules whose top-level code deletes, renames or rewrites files are imported after all the
    others, one at a time: every import shares the one snapshot, and none may import from a
    snapshot another one changed.
    """
    import threading  # noqa: PLC0415

    second_tier = needs_threads_tier(graph, modules, runner.thread_starters) \
        if runner.thread_starters and runner.server is not None else []
    moved = {mod.path for mod in second_tier}
    first_tier = [mod for mod in modules if mod.path not in moved]
    total = len(modules)
    progress = runner.settings.progress
    done = [0]

    def batch(which: Runner, batch_modules: list[ProjectModule], serial: bool = False
              ) -> list[Outcome]:
        """One batch, its progress counted on from the batches before."""
        if not batch_modules:
            return []
        start = done[0]
        if progress is not None:
            which.settings = which.settings.replace(
                progress=lambda d, _t, name, failed=False: progress(start + d, total, name,
                                                                    failed))
        done[0] += len(batch_modules)
        return which.run(batch_modules, one_at_a_time=serial)

    def split(batch_modules: list[ProjectModule]) -> tuple[list[ProjectModule],
                                                         list[ProjectModule]]:
        """(the others, those that delete or rewrite files at import: imported last, one at
        a time, so that no module imports from a snapshot another one changed)"""
        writes = {m.path for m in batch_modules
                  if (facts.get(m.path) or FileFacts()).write_effect is not None}
        return ([m for m in batch_modules if m.path not in writes],
                [m for m in batch_modules if m.path in writes])

    first, first_writers = split(first_tier)
    if not second_tier:
        outcomes = batch(runner, first) + batch(runner, first_writers, serial=True)
        order = {mod.path: index for index, mod in enumerate(modules)}
        return sorted(outcomes, key=lambda o: order.get(o.module.path, 0))
    second_modules, second_writers = split(second_tier)
    second = Runner(runner.settings, threads_tier=True)
    runner.companions.append(second)
    problem: list[BaseException] = []

    def start_second() -> None:
        try:
            second.start(preload, compile_paths, attributes, warm)
        except InterpreterProblem as exc:  # the first parent started: the second will too
            problem.append(exc)

    spare = runner.take_spare()
    if spare is not None:  # the first parent before its restart already holds everything
        second.adopt(spare)
    starter = threading.Thread(target=start_second if spare is None else lambda: None,
                               name="premerge-threads-tier", daemon=True)
    starter.start()
    try:
        outcomes = batch(runner, first)
        starter.join()
        runner.notes.append(f"smoke: {len(second_tier)} modules that import "
                            f"{', '.join(sorted(set(runner.thread_starters)))} ran in a second "
                            "warm parent that holds them")
        tier = runner if problem else second
        outcomes += batch(tier, second_modules)
        outcomes += batch(runner, first_writers, serial=True)
        outcomes += batch(tier, second_writers, serial=True)
    finally:
        second.close()
        runner.notes.extend(n for n in second.notes if n not in runner.notes)
        runner.details.extend(n for n in second.details if n not in runner.details)
    order = {mod.path: index for index, mod in enumerate(modules)}
    return sorted(outcomes, key=lambda o: order.get(o.module.path, 0))


def preload_attributes(facts: dict[str, FileFacts], graph: ImportGraph,
                       modules: Sequence[ProjectModule], names: Sequence[str]
                       ) -> dict[str, list[str]]:
    """For each preloaded module, the names the project's import-time ``from X import a``
    statements take from it (a lazy package loads them only when asked)."""
    wanted = set(names)
    out: dict[str, set[str]] = {}
    for path in _needed(graph, modules):
        info = facts.get(path)
        if info is not None:
            _add_attributes(out, info, wanted)
    return {name: sorted(attrs) for name, attrs in out.items() if attrs}


def _add_attributes(out: dict[str, set[str]], info: FileFacts, wanted: set[str]) -> None:
    """Add the names this file's import-time ``from X import a`` take from ``wanted``."""
    for ref in info.imports:
        if ref.level or not ref.import_time or not ref.runtime or ref.module not in wanted:
            continue
        out.setdefault(ref.module, set()).update(n for n in ref.names if n != "*")


def warm_subclasses(facts: dict[str, FileFacts], graph: ImportGraph,
                    modules: Sequence[ProjectModule], names: Sequence[str]
                    ) -> dict[str, list[str]]:
    """For each preloaded module, its classes that the project's import-time code subclasses
    (``class Config(BaseModel)``): the warm parent subclasses each once, so that what a
    package does on its first subclass (pydantic loads its plugins from every installed
    distribution's entry points) is done before the fork, not again in every child."""
    wanted = set(names)
    out: dict[str, set[str]] = {}
    for path in _needed(graph, modules):
        info = facts.get(path)
        for dotted in info.class_bases if info is not None else ():
            module, _, attr = dotted.rpartition(".")
            if module in wanted:
                out.setdefault(module, set()).add(attr)
    return {name: sorted(attrs) for name, attrs in sorted(out.items())}


def sources_to_compile(graph: ImportGraph, modules: Sequence[ProjectModule]) -> list[str]:
    """Every first-party file the children will execute (the modules, their dependencies and
    package ``__init__``s): compiled once, next to the warm parent's preload, instead of in
    each child."""
    needed = _needed(graph, modules)
    return sorted(path for path, mod in graph.modules.items()
                  if path in needed or mod.is_package_init)


def prepare(config: Config, root: str) -> Runner:
    """Choose the interpreter (ConfigError when a named one is missing), make the private
    work directory and spawn the warm parent, which boots while premerge reads sources."""
    interpreter = choose_interpreter(config)
    run = config.run
    jobs = run.jobs if run.jobs is not None else config.smoke.jobs
    workdir = make_workdir()
    snapshot = Snapshot(root, os.path.join(
        tempfile.mkdtemp(prefix="premerge-smoke-tree-", dir=private_base(memory=True)),
        os.path.basename(root.rstrip("/")) or "repo"))
    progress = None
    if run.progress:
        from premerge.smoke import progress_printer  # noqa: PLC0415

        progress = progress_printer()
    settings = Settings(
        interpreter=interpreter, root=root, timeout=run.timeout or config.smoke.timeout,
        jobs=max(1, jobs or os.cpu_count() or 1),
        env=child_environment(config.smoke.env, os.path.join(workdir, "home"),
                              os.path.join(workdir, "tmp")),
        workdir=workdir, memory=memory_limit(), progress=progress,
        source_roots=[os.path.normpath(os.path.join(root, d)) for d in config.smoke.source_roots],
        warm=os.environ.get("PREMERGE_SMOKE_FRESH", "") not in ("1", "true"),
        snapshot=snapshot)
    _snapshot_environment(settings.env, snapshot)
    runner = Runner(settings)
    runner.guard()
    # the copy (git's file list, then the files) runs while the warm parent boots; its root
    # exists before that interpreter starts (see child._forget_missing_paths)
    snapshot.start(_checked_files(config, root) if config.in_git else None)
    runner.spawn()
    return runner


def _snapshot_environment(env: dict[str, str], snapshot: Snapshot) -> None:
    """PYTHONPATH entries in the user's tree point into the snapshot; git run by an import
    finds no repository above the snapshot (there is none; the ceiling says so too)."""
    if env.get("PYTHONPATH"):
        env["PYTHONPATH"] = os.pathsep.join(
            snapshot.inside(posix(p)) if os.path.isabs(p) else p
            for p in env["PYTHONPATH"].split(os.pathsep))
    env["GIT_CEILING_DIRECTORIES"] = os.path.dirname(snapshot.path)


#: ignored files and directories, an ignored directory as one ``dir/`` entry
IGNORED_QUERY = ("ls-files", "-z", "--others", "--ignored", "--exclude-standard", "--directory",
                 "--no-empty-directory")
#: what an import can load from an ignored file: generated modules, built extensions
IMPORTABLE = (".py", ".pyw", ".so", ".pyd")


def _checked_files(config: Config, root: str) -> Callable[[], list[str]]:
    """What smoke checks in a git work tree: tracked files and untracked ones git does not
    ignore, plus the ignored files imports can load (a generated ``_pb2.py``, a built
    extension; not in virtualenvs, caches or VCS directories).  premerge's cache directory
    is left out when it lies inside the tree."""
    def listing() -> list[str]:
        from premerge.repo import Repository, untracked_query  # noqa: PLC0415

        repo = Repository(config.root)
        repo.prefetch(untracked_query(), IGNORED_QUERY)
        files = set(repo.tracked_files) | set(repo.untracked_files())
        for entry in repo._plumbing(*IGNORED_QUERY).split("\0"):
            if entry.endswith("/"):
                directory = f"{root}/{entry.rstrip('/')}"
                if os.path.basename(entry.rstrip("/")) in SKIP_DIR_NAMES or \
                        is_virtualenv(directory):
                    continue
                files.update(f"{entry}{rel}" for rel in walk(directory)
                             if rel.endswith(IMPORTABLE))
            elif entry.endswith(IMPORTABLE):
                files.add(entry)
        cache_dir = os.environ.get("PREMERGE_CACHE_DIR")
        if cache_dir:
            inside = relative_to(posix(cache_dir), root)
            if not inside.startswith("/"):
                files = {f for f in files if f != inside and not f.startswith(inside + "/")}
        return sorted(files)

    return listing


def discard(runner: Runner) -> None:
    try:
        runner.close()
    finally:
        runner.unguard()
        snapshot = runner.settings.snapshot
        if snapshot is not None:
            snapshot.cancel()
            shutil.rmtree(os.path.dirname(snapshot.path), ignore_errors=True)
        shutil.rmtree(runner.settings.workdir, ignore_errors=True)


def execute(runner: Runner, config: Config, root: str, graph: ImportGraph,
            facts: dict[str, FileFacts], modules: Sequence[ProjectModule],
            result: CheckResult) -> None:
    try:
        _execute(config, root, graph, facts, modules, result, runner)
    finally:
        discard(runner)


def _execute(config: Config, root: str, graph: ImportGraph, facts: dict[str, FileFacts],
             modules: Sequence[ProjectModule], result: CheckResult, runner: Runner) -> None:
    from premerge.smoke import TrackedFiles, uncommitted_findings  # noqa: PLC0415

    tracked = TrackedFiles(config) if config.in_git else None
    snapshot = runner.settings.snapshot
    assert snapshot is not None
    preload = preload_candidates(graph, modules)
    compile_paths = sources_to_compile(graph, modules)
    attributes = preload_attributes(facts, graph, modules, preload)
    warm = warm_subclasses(facts, graph, modules, preload)
    snapshot.wait()
    # every module discovery found is importable from the snapshot, also one git ignores
    snapshot.add(relative_to(path, root) for path in graph.modules)
    try:
        runner.start(preload, compile_paths, attributes, warm)
    except InterpreterProblem as exc:
        result.findings.append(m.InterpreterUnusable.at(
            str(config.manifest_path if config.manifest else root), reason=str(exc)))
        return
    try:
        outcomes = _run_tiers(runner, graph, facts, modules, preload, compile_paths,
                              attributes, warm)
    finally:
        runner.close()
    found = snapshot.changes()
    timeout = runner.settings.timeout
    version = ".".join(map(str, runner.version[:3])) or "?"
    ctx = Context(root=root, graph=graph, facts=facts, timeout=timeout,
                  python=f"{runner.executable} (Python {version})")
    classified: list[Classified] = []
    loaded: dict[str, list[str]] = {}
    modules_fact: dict[str, str] = {}
    namespaces: dict[str, list[str]] = {}
    attacks: list[Finding] = []
    for outcome in outcomes:
        if outcome.attack:
            attacks.append(m.ImportAttackedItsRunner.at(outcome.module.path, None,
                                                        module=outcome.module.name,
                                                        action=outcome.attack))
            continue
        classified.extend(classify(outcome, ctx))
        payload = outcome.result or {}
        loaded[outcome.module.path] = [f for f in payload.get("first_party_loaded", [])
                                       if isinstance(f, str)]
        modules_fact[outcome.module.path] = outcome.module.name
        if outcome.status == "ok" and "namespace" in payload:
            namespaces[outcome.module.path] = payload["namespace"]
    if config.run.verbose:
        import sys  # noqa: PLC0415

        from premerge.smoke.timing import run_times, verbose_lines  # noqa: PLC0415

        for line in [*runner.details, *verbose_lines(run_times(outcomes, runner.settings.jobs))]:
            print(line, file=sys.stderr)
    tested = {o.module.path: o.module.name for o in outcomes}
    findings: list[Finding] = fold(classified, tested)
    findings.extend(attacks)
    findings.extend(_write_findings(root, found, outcomes))
    findings.extend(uncommitted_findings(config, root, graph, loaded, tracked))
    result.findings.extend(findings)
    result.notes.extend(runner.notes)
    result.facts.update({
        "modules": modules_fact, "namespaces": namespaces,
        "interpreter": runner.executable, "python": version,
        "mode": "warm" if any(o.mode == "warm" for o in outcomes) else "fresh",
        "preloaded": runner.preloaded,
        "counts": {"modules": len(outcomes),
                   "imported": sum(1 for o in outcomes if o.status == "ok")},
        "snapshot": {"files": len(snapshot.entries), "bytes": snapshot.bytes,
                     "seconds": round(snapshot.seconds, 4), "methods": snapshot.methods},
    })


def _write_findings(root: str, found: list[Change], outcomes: Sequence[Outcome]
                    ) -> list[Finding]:
    if not found:
        return []
    intervals = {o.module.path: (o.started, o.ended) for o in outcomes}
    names = {o.module.path: o.module.name for o in outcomes}
    audited = {o.module.path: {relative_to(posix(w), root)
                               for w in (o.result or {}).get("writes", []) if isinstance(w, str)}
               for o in outcomes}
    out = []
    for path, items in sorted(attribute(found, intervals, audited).items()):
        listed = ", ".join(f"{c.relpath} ({c.kind})" for c in items[:5])
        if len(items) > 5:
            listed += f" and {len(items) - 5} more"
        out.append(m.WroteRepositoryFiles.at(path, _own_write_line(root, path, items, outcomes),
                                             module=names[path], files=listed,
                                             key=f"{names[path]}:writes"))
    return out


def _own_write_line(root: str, path: str, items: Sequence[Change],
                    outcomes: Sequence[Outcome]) -> int | None:
    """The first line of the module at ``path`` whose body wrote one of ``items`` itself (the
    child's audit hook names the module body that wrote each file), or None: another module it
    imports wrote them, a subprocess did, or the interpreter has no audit hooks."""
    changed = {c.relpath for c in items}
    lines = [line for outcome in outcomes if outcome.module.path == path
             for written, writer, line in _writers(outcome)
             if writer == path and relative_to(posix(written), root) in changed]
    return min(lines) if lines else None


def _writers(outcome: Outcome) -> list[tuple[str, str, int]]:
    """(file written, module file whose body wrote it, line) from a child's result; entries
    of another shape (a child's result is not trusted) are left out."""
    return [(entry[0], posix(entry[1]), entry[2])
            for entry in (outcome.result or {}).get("writers", [])
            if isinstance(entry, list) and len(entry) == 3 and isinstance(entry[0], str)
            and isinstance(entry[1], str) and isinstance(entry[2], int)
            and not isinstance(entry[2], bool)]
