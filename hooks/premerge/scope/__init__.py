"""``premerge scope``: static import-scoping analysis, per file, in parallel, cached.

``run(config, paths)`` discovers the files, serves unchanged ones from the content-hash cache,
analyses the rest (in worker processes when there are enough of them to pay for the start-up),
then adds the cross-file answers (submodules, package ``__all__``), which are never cached
because they depend on other files.  A file's report is a :class:`FileReport` in process; it
becomes a dict only where it leaves the process: into the cache and back from a worker.  A file that cannot be read or parsed gets its PM0xx
finding; an unexpected failure on one file is PM009 for that file; the others go on.
"""

from __future__ import annotations

import functools
import gc
import os
import sys
from collections.abc import Iterator, Sequence

from premerge import startup
from premerge.config import Config
from premerge.findings import CheckResult, Finding

#: typing.TYPE_CHECKING without importing typing: its names serve annotations only, and
#: the import costs ~3 ms of start-up where nothing else has loaded it
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from premerge.scope.file_report import FileReport

#: below this many files to analyse, worker processes cost more than they save (measured:
#: scripts/bench_scope.py; a worker pool starts in ~40 ms, a typical file takes ~5 ms)
PARALLEL_MIN_FILES = 24
#: files handed to a worker at a time
CHUNK_SIZE = 8
#: above this many files, results are cached in one index per root, not one entry per file
INDEX_MIN_FILES = 64


def run(config: Config, paths: Sequence[str]) -> CheckResult:
    from premerge.cache import Cache
    from premerge.sources import SourceError, discover_python_files, read_bytes, relative_to

    root = config.root.as_posix()
    files, problems = discover_python_files(paths, root, config.scope.exclude)
    if config.run.changed is not None:
        changed = set(config.run.changed)
        files = [f for f in files if relative_to(f, root) in changed]
    result = CheckResult(findings=list(problems), files=len(files))
    cache = Cache("scope", enabled=config.run.use_cache,
                  salt=_salt() if config.run.use_cache else "")
    todo: list[tuple[str, bytes, str | None, str]] = []
    for path in files:
        try:
            raw = read_bytes(path)
        except SourceError as exc:
            result.findings.append(exc.finding)
            continue
        if not raw.strip():
            continue  # an empty file has nothing to check (and imports fine)
        package = package_of(path)
        key = cache.key(raw, path, package or "") if cache.enabled else ""
        todo.append((path, raw, package, key))

    # The whole run's answer, when no file changed and nothing the cross-file part read did.
    run_key = cache.key(b"", "run", root, *(key for *_rest, key in todo)) if cache.enabled else ""
    cached = _cached_run(cache.get(run_key)) if run_key else None
    if cached is not None and _fresh(cached[1]):
        result.findings.extend(cached[0])
    else:
        reports = _per_file_reports(todo, config, cache, root)
        findings, deps = _finish(reports, config)
        result.findings.extend(findings)
        if run_key:
            cache.put(run_key, {"findings": [f.to_json() for f in findings], "deps": deps})
    if config.run.fix or config.run.diff:
        from premerge.scope.fix import apply_fixes  # --fix writes, --diff sets facts["diff"]

        apply_fixes(config, result)
    return result


def _per_file_reports(todo: list[tuple[str, bytes, str | None, str]], config: Config,
                      cache: Any, root: str) -> list[FileReport]:
    """Each file's report: from the cache when its bytes are unchanged, else analysed.

    Small runs (pre-commit's few files) keep one cache entry per file.  Large runs keep one
    index per repository root instead: one read and one write rather than a thousand small
    files, which on a cold run cost more than the analysis saved (measured on the stdlib).
    """
    if len(todo) <= INDEX_MIN_FILES or not cache.enabled:
        reports: list[FileReport] = []
        missing = []
        for item in todo:
            hit = _cached_report(cache.get(item[3]))
            if hit is not None:
                reports.append(hit)
            else:
                missing.append(item)
        return reports + _analyze_all(missing, config, cache)
    index_key = cache.key(b"", "index", root)
    stored = cache.get(index_key)
    known = stored.get("reports", {}) if isinstance(stored, dict) else {}
    by_key: dict[str, FileReport] = {}
    entries: dict[str, dict[str, Any]] = {}  # the index as stored: hits as they were read
    missing = []
    for item in todo:
        entry = known.get(item[3]) if isinstance(known, dict) else None
        report = _cached_report(entry)
        if report is not None:
            by_key[item[3]] = report
            entries[item[3]] = entry
        else:
            missing.append(item)
    for item, report in zip(missing, _analyze_all(missing, config, None)):
        by_key[item[3]] = report
        entries[item[3]] = report.to_json()
    if missing:
        cache.put(index_key, {"reports": entries})
    return [by_key[key] for *_rest, key in todo]


def _cached_run(bundle: Any) -> tuple[list[Finding], dict[str, list[int]]] | None:
    """A run's cached answer decoded, once: its findings and the ``{path: [mtime_ns, size]}``
    its cross-file part read; None (a miss) for anything absent or of the wrong shape."""
    try:
        findings = [Finding.from_json(item) for item in bundle["findings"]]
        deps = bundle["deps"]
        if all(isinstance(path, str) and [type(v) for v in stamp] == [int, int]
               for path, stamp in deps.items()):
            return findings, deps
    except (LookupError, TypeError, ValueError, AttributeError):
        pass
    return None


#: what :func:`_finish` reads of a file's report, and the types it needs
_REPORT_LISTS = ("injected_builtins", "imported_modules", "submodule_uses", "missing_exports",
                 "star_modules")


def _report_shape(report: Any) -> bool:
    """A file's cached report holds what :func:`_finish` reads, of the types it reads (its
    findings are checked by decoding them: :func:`_cached_report`)."""
    if not isinstance(report["path"], str) or \
            not all(isinstance(report.get(name, []), list) for name in _REPORT_LISTS):
        return False
    return all(isinstance(name, str) for name in
               (*report.get("imported_modules", []), *report.get("injected_builtins", [])))


def _cached_report(entry: Any) -> FileReport | None:
    """A cached report back as a :class:`FileReport`, or None (a miss) for anything absent,
    of the wrong shape or that does not decode."""
    from premerge.scope.file_report import FileReport

    try:
        return FileReport.from_json(entry) if _report_shape(entry) else None
    except (LookupError, TypeError, ValueError, AttributeError):
        return None


def package_of(path: str) -> str | None:
    """The dotted package a file belongs to (directories with ``__init__.py``), or None."""
    return _package_of_directory(os.path.dirname(path))


@functools.lru_cache(maxsize=4096)
def _package_of_directory(directory: str) -> str | None:
    if not os.path.isfile(os.path.join(directory, "__init__.py")):
        return None
    parent = os.path.dirname(directory)
    outer = _package_of_directory(parent) if parent != directory else None
    name = os.path.basename(directory)
    return f"{outer}.{name}" if outer else name


def _fresh(deps: dict[str, list[int]]) -> bool:
    """Whether every file and directory the cross-file answers read is as it was."""
    for path, (mtime, size) in deps.items():
        try:
            stat = os.stat(path)
        except OSError:
            if mtime != -1:
                return False
            continue
        if stat.st_mtime_ns != mtime or stat.st_size != size:
            return False
    return True


def _finish(reports: list[FileReport], config: Config
            ) -> tuple[list[Any], dict[str, list[int]]]:
    """Per-file findings plus the cross-file ones, and what the latter depended on."""
    from premerge.scope.messages import UndefinedName

    findings: list[Finding] = []
    index = None
    first_party = None
    # names some checked file puts into builtins (IPython's test `_ip`) are defined everywhere
    injected = {name for report in reports for name in report.injected_builtins}
    for report in reports:
        findings.extend(f for f in report.findings if not (
            injected and f.code == UndefinedName.code and f.name in injected))
        if any("." in module for module in report.imported_modules):
            # PM112: a from-import of a name the repository's module does not define
            if first_party is None:
                first_party = _first_party_modules(config, index)
                index = first_party.index
            findings.extend(_first_party_findings(report, first_party))
        if report.submodule_uses or report.missing_exports or report.star_modules:
            from premerge.scope.submodules import ModuleIndex, resolve, search_path_for

            if index is None:
                from premerge.scope.environment import project_path

                index = ModuleIndex(search_path_for(config.root.as_posix()),
                                    use_cache=config.run.use_cache, more=project_path(config))
            try:
                findings.extend(resolve(report, index))
            except Exception as exc:  # one file's cross-file answer must not stop the rest
                from premerge.input_rules import InternalError

                findings.append(InternalError.at(
                    report.path, 1, 1, reason=f"resolving submodules: {type(exc).__name__}: "
                                               f"{exc}"))
    return findings, (index.dependencies() if index is not None else {})


def _first_party_modules(config: Config, index: Any) -> Any:
    """What the repository's modules define, sharing the run's module index (or starting it)."""
    from premerge.scope.environment import project_path, repository_path
    from premerge.scope.first_party import FirstPartyModules
    from premerge.scope.submodules import ModuleIndex, search_path_for

    root = config.root.as_posix()
    if index is None:
        index = ModuleIndex(search_path_for(root), use_cache=config.run.use_cache,
                            more=project_path(config))
    return FirstPartyModules(index, repository_path(root))


def _first_party_findings(report: FileReport, modules: Any) -> list[Any]:
    from premerge.scope.first_party import findings

    try:
        return findings(report.path, package_of(report.path), report.imported_modules,
                        modules)
    except Exception as exc:  # one file's cross-file answer must not stop the rest
        from premerge.input_rules import InternalError

        return [InternalError.at(report.path, 1, 1, reason=f"resolving first-party imports: "
                                                            f"{type(exc).__name__}: {exc}")]


#: the files whose code decides a cached FileReport: the analyzer and every part it is built
#: from, relative to this directory (the builtins table is shared with smoke, one level up)
_ANALYSIS_MODULES = ("analyzer.py", "bindings.py", "../builtin_names.py", "dynamic.py",
                     "expressions.py", "file_report.py", "flow.py", "frames.py", "guards.py",
                     "messages.py", "module_summary.py", "statements.py", "verdicts.py")


def _salt() -> str:
    """Part of every cache key: the analyzer's own source, so a changed analyzer never serves
    stale results (cheap: the analysis modules' sizes and mtimes)."""
    here = os.path.dirname(os.path.abspath(__file__))
    parts = []
    for name in _ANALYSIS_MODULES:
        try:
            stat = os.stat(os.path.join(here, name))
        except OSError:
            continue
        parts.append(f"{name}:{stat.st_size}:{stat.st_mtime_ns}")
    parts.append(sys.version.split()[0])
    return "|".join(parts)


def guarded_loads(path: str) -> set[tuple[int, str]]:
    """The loads (line, name) this file's own code guards against NameError (``try: x`` /
    ``except NameError``, ``if "x" in globals()``).  Smoke's runtime check of a module's
    globals asks here, so the two checks give one verdict on one load.  Raises what
    :func:`premerge.parsed.parse_source` raises."""
    from premerge.parsed import parse_source
    from premerge.scope.analyzer import analyze_tree

    parsed = parse_source(path)
    return analyze_tree(parsed.tree, parsed.source.text, path,
                        is_init=path.endswith("__init__.py")).guarded_loads


def analyze_file(path: str, raw: bytes, package: str | None,
                 ends_process: bool = False) -> FileReport:
    """One file's report; every failure becomes a finding, never an exception.

    ``ends_process``: after this file the run only reports and the process exits without
    freeing anything (:func:`premerge.startup.exits_after_run`), so the syntax tree is left for
    the operating system to reclaim (freeing a large file's ~10^5 nodes costs ~3 ms) and the
    collector stays off (it would walk them all).
    """
    from premerge.input_rules import InternalError, SkippedFile, SyntaxErrorInFile
    from premerge.parsed import parse_source
    from premerge.scope.analyzer import analyze_tree
    from premerge.scope.file_report import FileReport
    from premerge.sources import SourceError

    # Parsing and analysing one file allocate ~10^5 objects and free them all at the end (the
    # analyzer breaks its cycles): collections during that find nothing to free, only cost.
    collecting = gc.isenabled()
    gc.disable()
    tree = None
    try:
        parsed = parse_source(path, raw)
        tree = parsed.tree
        report = analyze_tree(tree, parsed.source.text, path, package,
                              is_init=path.endswith("/__init__.py"))
    except SourceError as exc:
        return FileReport(path, [exc.finding])
    except SyntaxError as exc:
        finding = SyntaxErrorInFile.at(path, exc.lineno or 1, exc.offset or 1,
                                       reason=exc.msg or str(exc))
        return FileReport(path, [finding])
    except (RecursionError, MemoryError) as exc:
        reason = ("nested too deeply to analyse" if isinstance(exc, RecursionError)
                  else "too large to analyse in memory")
        return FileReport(path, [SkippedFile.at(path, 1, 1, reason=reason)])
    except Exception as exc:  # a bug in premerge must not stop the other files
        return FileReport(path, [InternalError.at(
            path, 1, 1, reason=f"{type(exc).__name__}: {exc}")])
    finally:
        if ends_process and tree is not None:
            startup.leave_for_exit(tree)
        elif collecting:
            gc.enable()
    return report


def _analyze_chunk(chunk: list[tuple[str, bytes, str | None, str]],
                   cache: Any = None, ends_process: bool = False) -> list[FileReport]:
    out = []
    last = len(chunk) - 1
    for index, (path, raw, package, key) in enumerate(chunk):
        report = analyze_file(path, raw, package, ends_process and index == last)
        if cache is not None:
            cache.put(key, report.to_json())
        out.append(report)
    return out


def _chunks(items: list[Any], size: int, cache: Any) -> Iterator[tuple[list[Any], Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size], cache


def _analyze_chunk_with(args: tuple[list[tuple[str, bytes, str | None, str]], Any]
                        ) -> list[dict[str, Any]]:
    """In a worker process: its reports cross back as dicts."""
    return [report.to_json() for report in _analyze_chunk(*args)]


def _jobs(config: Config, count: int) -> int:
    wanted = config.run.jobs if config.run.jobs else (os.cpu_count() or 1)
    if count < PARALLEL_MIN_FILES or wanted <= 1 or sys.platform == "win32":
        return 1
    return min(wanted, max(1, count // CHUNK_SIZE))


def _analyze_all(todo: list[tuple[str, bytes, str | None, str]], config: Config,
                 cache: Any) -> list[FileReport]:
    """Analyse files (each also written to the per-file cache, by whoever analysed it)."""
    if not todo:
        return []
    jobs = _jobs(config, len(todo))
    writer = cache if cache is not None and cache.enabled else None
    # Analysis builds many short-lived objects; the collector's full passes over them cost more
    # than they free (measured: ~25% of a stdlib run), so collect less often while we run.
    previous = gc.get_threshold()
    gc.set_threshold(50_000, 50, 100)
    try:
        if jobs == 1:
            return _analyze_chunk(todo, writer, startup.exits_after_run())
        return _analyze_parallel(todo, jobs, writer)
    finally:
        gc.set_threshold(*previous)


def _analyze_parallel(items: list[tuple[str, bytes, str | None, str]], jobs: int,
                      cache: Any) -> list[FileReport]:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    from premerge.scope.file_report import FileReport

    # biggest first, so one large file does not finish last alone
    order = sorted(range(len(items)), key=lambda i: -len(items[i][1]))
    ordered = [items[i] for i in order]
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else None
    context = multiprocessing.get_context(method)
    try:
        with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
            results: list[FileReport] = []
            for chunk_result in pool.map(_analyze_chunk_with,
                                         _chunks(ordered, CHUNK_SIZE, cache)):
                results.extend(FileReport.from_json(data) for data in chunk_result)
    except (BrokenProcessPool, OSError):
        results = _analyze_chunk(ordered, cache)  # a pool that cannot start: do it here
    by_index = dict(zip(order, results))
    return [by_index[index] for index in range(len(items))]
