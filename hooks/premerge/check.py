"""The one way in: run the configured checks, merge, suppress, de-duplicate.

The CLI subcommands, the pre-commit hooks and the GitHub Action all call :func:`run_checks`.
Every check is a module with ``run(config, paths) -> CheckResult``; checks never print.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence

from premerge.config import Config
from premerge.findings import (CONFIRMED_AT_RUNTIME, RULES, CheckResult, Finding, Location,
                               Severity, noqa_codes)
from premerge.input_rules import InternalError
from premerge.records import Record



def _run_scope(config: Config, paths: Sequence[str]) -> CheckResult:
    from premerge import scope  # noqa: PLC0415 - each check loads only when it runs

    return scope.run(config, paths)


def _run_files(config: Config, paths: Sequence[str]) -> CheckResult:
    from premerge import files  # noqa: PLC0415

    return files.run(config, paths)


def _run_smoke(config: Config, paths: Sequence[str]) -> CheckResult:
    from premerge import smoke  # noqa: PLC0415

    return smoke.run(config, paths)


#: check name -> its ``run(config, paths)``; the order they run and report in.  Each imports
#: its package when it runs, so a one-file scope run never loads smoke or GitPython.
CHECKS: dict[str, Callable[[Config, Sequence[str]], CheckResult]] = {
    "scope": _run_scope, "files": _run_files, "smoke": _run_smoke,
}


class RunResult(Record):
    __slots__ = _fields = ("findings", "files", "seconds", "by_check", "notes", "checks",
                           "facts", "seconds_by_check", "counts")

    def __init__(self, findings: list[Finding], files: int, seconds: float,
                 by_check: dict[str, int], notes: list[str], checks: list[str],
                 facts: dict[str, dict[str, object]] | None = None,
                 seconds_by_check: dict[str, float] | None = None,
                 counts: dict[str, dict[str, int]] | None = None) -> None:
        self.findings = findings
        self.files = files
        self.seconds = seconds
        self.by_check = by_check
        self.notes = notes
        self.checks = checks
        self.facts: dict[str, dict[str, object]] = {} if facts is None else facts
        #: wall time of each check (the total also covers merging)
        self.seconds_by_check: dict[str, float] = {} if seconds_by_check is None \
            else seconds_by_check
        #: check -> what it looked at and what passed, for the closing summary: ``files``
        #: (every check) and the check's own ``facts["counts"]``
        self.counts: dict[str, dict[str, int]] = {} if counts is None else counts


def suppressed(findings: Iterable[Finding],
               read_lines: Callable[[str], list[str] | None]) -> list[Finding]:
    """Drop findings whose reported line carries a matching ``# noqa``."""
    kept: list[Finding] = []
    cache: dict[str, list[str] | None] = {}
    for finding in findings:
        if finding.line:
            if finding.path not in cache:
                cache[finding.path] = read_lines(finding.path)
            lines = cache[finding.path]
            if lines is not None and 0 < finding.line <= len(lines):
                codes = noqa_codes(lines[finding.line - 1])
                if codes is not None and ("*" in codes or finding.code in codes):
                    continue
        kept.append(finding)
    return kept


def _read_lines(path: str) -> list[str] | None:
    from premerge.parsed import read_source_bytes  # noqa: PLC0415
    from premerge.safefile import FileRefused  # noqa: PLC0415

    try:
        data = read_source_bytes(path)  # the bytes the checks read, this run
    except FileRefused:
        return None
    return data.decode("utf-8", errors="replace").splitlines()


def _identity(finding: Finding) -> tuple[object, ...]:
    """Two findings with the same code, place and message are one (scope and smoke may both
    report the same syntax error)."""
    return (finding.code, finding.path, finding.line, finding.col, finding.message)


def corroborated(findings: Sequence[Finding]) -> list[Finding | None]:
    """Fold a runtime finding that confirms a static one (same file and line, same claim) into
    the static finding as a related location: one annotation per bug, the static one because it
    says *why* (where the name is bound, the fix), with "confirmed at runtime" beside it.

    Returns the findings in the same order, ``None`` where a runtime finding was folded."""
    static_at: dict[tuple[str, int], list[int]] = {}
    for index, finding in enumerate(findings):
        if finding.line is not None and finding.check in ("input", "scope"):
            static_at.setdefault((finding.path, finding.line), []).append(index)
    out: list[Finding | None] = list(findings)
    for index, runtime in enumerate(findings):
        rule = RULES.get(runtime.code)  # registered: its check made the finding in this process
        if rule is None or runtime.line is None:
            continue
        for target in static_at.get((runtime.path, runtime.line), ()):
            static = out[target]
            if static is not None and rule.confirms(static, runtime):
                note = Location(runtime.path, runtime.line, runtime.col,
                                CONFIRMED_AT_RUNTIME.format(
                                    code=runtime.code, message=runtime.message.splitlines()[0]))
                out[target] = static.with_changes(related=(*static.related, note))
                out[index] = None
                break
    return out


def merged(results: dict[str, CheckResult],
           read_lines: Callable[[str], list[str] | None] = _read_lines,
           ) -> tuple[list[Finding], dict[str, int]]:
    """Every check's findings after ``# noqa``, de-duplicated, runtime confirmations folded into
    the static findings they confirm, sorted; and how many each check contributed (a duplicate
    counts for the check that ran first, so the per-check counts add up to the total)."""
    first: dict[tuple[object, ...], tuple[Finding, str]] = {}
    for name, result in results.items():
        for finding in suppressed(result.findings, read_lines):
            first.setdefault(_identity(finding), (finding, name))
    pairs = list(first.values())
    folded = corroborated([finding for finding, _ in pairs])
    by_check = {name: 0 for name in results}
    kept: list[Finding] = []
    for finding, (_, name) in zip(folded, pairs):
        if finding is not None:
            kept.append(finding)
            by_check[name] += 1
    return sorted(kept, key=Finding.sort_key), by_check


def run_one(name: str, config: Config, paths: Sequence[str]) -> CheckResult:
    return CHECKS[name](config, paths)


def run_checks(config: Config, paths: Sequence[str], checks: Sequence[str]) -> RunResult:
    """Run ``checks`` in order, merge their findings, apply ``# noqa`` and de-duplicate.

    A check that crashes becomes one PM009 finding and the others still report; a user error
    it raises (an invalid manifest, a git failure) ends the run with its one-line message.

    Where another check (or smoke's classification) would read and parse a file again, the
    run shares one read and one parse (:mod:`premerge.parsed`).  scope alone and files alone
    read and parse each file once anyway: they keep nothing (holding 5,000 files' bytes cost
    ``files --no-cache`` ~15 ms on the 10,000-file benchmark, for no read saved).
    """
    selected = [name for name in CHECKS if name in checks]
    if len(selected) == 1 and selected != ["smoke"]:
        return _run_checks(config, paths, selected)
    from premerge.parsed import shared  # noqa: PLC0415

    with shared():
        return _run_checks(config, paths, selected)


def _run_checks(config: Config, paths: Sequence[str], selected: list[str]) -> RunResult:
    from premerge.config import ConfigError  # noqa: PLC0415
    from premerge.repo import GitError  # noqa: PLC0415

    started = time.perf_counter()
    notes: list[str] = []
    files = 0
    results: dict[str, CheckResult] = {}
    seconds_by_check: dict[str, float] = {}
    for name in selected:
        began = time.perf_counter()
        try:
            result = run_one(name, config, paths)
        except (KeyboardInterrupt, SystemExit, ConfigError, GitError):
            raise
        except Exception as exc:
            # A bug in one check must not hide the others' answers.
            result = CheckResult(findings=[InternalError.at(
                str(config.root), reason=f"the {name} check crashed: {type(exc).__name__}: "
                                         f"{exc}")])
        seconds_by_check[name] = time.perf_counter() - began
        results[name] = result
        files = max(files, result.files)
        notes.extend(result.notes)
    if "scope" in results and "smoke" in results:
        from premerge.smoke.refine import refine_scope_findings  # noqa: PLC0415

        results["scope"].findings = refine_scope_findings(results["scope"].findings,
                                                          results["smoke"].facts)
    findings, by_check = merged(results)
    return RunResult(findings=findings, files=files,
                     seconds=time.perf_counter() - started, by_check=by_check, notes=notes,
                     checks=selected,
                     facts={name: result.facts for name, result in results.items()},
                     seconds_by_check=seconds_by_check,
                     counts={name: {"files": result.files,
                                    **result.facts.get("counts", {})}  # type: ignore[dict-item]
                             for name, result in results.items()})


def fails(findings: Iterable[Finding], fail_on: str) -> bool:
    """Whether these findings make the run exit 1 under ``--fail-on``."""
    if fail_on == "never":
        return False
    threshold = Severity(fail_on).rank
    return any(f.severity.rank >= threshold for f in findings)
