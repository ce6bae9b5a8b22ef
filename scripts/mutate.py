"""Mutation check: does the test suite fail when the code breaks?

Each entry of ``MUTATIONS`` is one deliberate breakage: a file, an exact snippet of its source
(which must occur exactly once there, or once inside one named top-level class or function),
the text that replaces it, and the tests that should notice.
The tree (tracked and new files, as ``git ls-files`` lists them) is copied once into a temporary
git repository; the tests are run there unchanged first (they must pass), then each breakage is
applied to the copy alone, its tests are run against it, and the file is restored.  The working
tree is never touched.

    python scripts/mutate.py                  # every breakage
    python scripts/mutate.py fingerprint-hash-constant pm203-never   # some of them
    python scripts/mutate.py --list           # names, files and tests
    python scripts/mutate.py --check-snippets # only: does every snippet still apply? (no tests)

Prints one line per breakage: ``caught``, ``NOT CAUGHT``, ``SNIPPET NOT FOUND`` (the code moved
or changed: update the entry), or ``ERROR`` (its tests could not run); exits 1 unless every one
was caught.  ``tests/core/test_mutations.py`` checks on every test run that each snippet still
applies, so a refactoring that moves one updates this list in the same change.

Snippets are kept small and tied to what the code means (a rule class, a named helper) so that
unrelated edits do not invalidate them.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: where the package lives in the tree; the copy's comes first on PYTHONPATH for the tests
PACKAGE_DIR = "hooks"
#: seconds one breakage's tests may take; longer counts as caught (the suite did not pass)
TIMEOUT = 900


@dataclass(frozen=True)
class Mutation:
    """One breakage: ``original`` (exactly once in ``file``, or, with ``within``, exactly once
    in the top-level block whose first line starts with ``within``) becomes ``replacement``."""

    name: str
    file: str
    original: str
    replacement: str
    tests: tuple[str, ...]
    why: str = ""
    #: e.g. ``"class OptionalImportUnguarded("``: a short snippet that is unique only there
    within: str = ""


P = "hooks/premerge/"

MUTATIONS: tuple[Mutation, ...] = (
    Mutation("pm101-never", P + "scope/messages.py",
             "return cls.at(",
             "return None if True else cls.at(",
             ("tests/scope/test_verdicts.py::test_verdict_matches_python",),
             "PM101 (imported only in another function) is never reported",
             within="class ImportedInOtherFunction("),
    Mutation("pm105-never", P + "scope/messages.py",
             "return cls.at(",
             "return None if True else cls.at(",
             ("tests/scope/test_cli.py::test_fail_on_levels",
              "tests/scope/test_verdicts.py::test_verdict_matches_python"),
             "PM105 (optional import used unguarded) is never reported",
             within="class OptionalImportUnguarded("),
    Mutation("pm105-error", P + "scope/messages.py",
             "severity = Severity.WARNING",
             "severity = Severity.ERROR",
             ("tests/scope/test_cli.py::test_fail_on_levels",),
             "PM105 is an error instead of a warning",
             within="class OptionalImportUnguarded("),
    Mutation("fail-on-warning", P + "check.py",
             "threshold = Severity(fail_on).rank",
             "threshold = Severity.ERROR.rank",
             ("tests/scope/test_cli.py::test_fail_on_levels",
              "tests/check/test_run_checks.py::test_exit_code_follows_fail_on"),
             "--fail-on warning does not fail on warnings"),
    Mutation("fail-on-never", P + "check.py",
             'if fail_on == "never":',
             'if fail_on == "nothing":',
             ("tests/scope/test_cli.py::test_fail_on_levels",
              "tests/check/test_run_checks.py::test_exit_code_follows_fail_on"),
             "--fail-on never still fails"),
    Mutation("fingerprint-hash-constant", P + "report/sarif.py",
             ".hexdigest()[:32]",
             ".hexdigest()[:0] + 32 * '0'",
             ("tests/report/test_sarif.py",),
             "the hash part of SARIF fingerprints is constant (the :N counter still differs)"),
    Mutation("fingerprint-constant", P + "report/sarif.py",
             'f"{digest}:{occurrence}"',
             "32 * '0' + ':1'",
             ("tests/report/test_sarif.py",),
             "SARIF fingerprints are entirely constant"),
    Mutation("worktrees-ignored", P + "files/messages.py",
             "if not entry.worktrees or not facts.in_git:",
             "if True or not entry.worktrees or not facts.in_git:",
             ("tests/files/test_worktrees.py",),
             "`worktrees: true` is ignored",
             within="class MissingInWorktree("),
    Mutation("env-not-scrubbed", P + "smoke/execute.py",
             "env=child_environment(",
             "env={**os.environ} | child_environment(",
             ("tests/smoke/test_safety.py::test_secrets_stdin_home_and_cwd_of_imported_code",),
             "imported code sees premerge's whole environment"),
    Mutation("token-not-secret", P + "smoke/runner.py",
             "(TOKEN|SECRET|",
             "(SECRET|",
             ("tests/smoke/test_safety.py::test_env_globs_pass_what_they_match_but_never_a_secret",),
             "*TOKEN* variables are not secret"),
    Mutation("secret-filter-removed", P + "smoke/runner.py",
             "elif _SECRET.search(key):",
             "elif False and _SECRET.search(key):",
             ("tests/smoke/test_safety.py::test_env_globs_pass_what_they_match_but_never_a_secret",),
             "secret-looking variables matched by a smoke.env glob reach imported code"),
    Mutation("env-globs-ignored", P + "smoke/runner.py",
             "globs.append(item)",
             "None",
             ("tests/smoke/test_safety.py::test_env_globs_pass_what_they_match_but_never_a_secret",),
             "globs in smoke.env let nothing through"),
    Mutation("noqa-ignores-codes", P + "check.py",
             '"*" in codes or finding.code in codes',
             '"*" in codes or bool(codes)',
             ("tests/files/test_manifest_checks.py::test_noqa_on_the_manifest_line_suppresses",),
             "`# noqa: CODE` suppresses every code"),
    Mutation("annotation-percent-unescaped", P + "report/github.py",
             '.replace("%", "%25")',
             '.replace("%", "%")',
             ("tests/report/test_github.py",),
             "`%` is not escaped in GitHub annotations"),
    Mutation("annotation-newline-unescaped", P + "report/github.py",
             '.replace("\\n", "%0A")',
             '.replace("\\n", "\\n")',
             ("tests/report/test_github.py",),
             "a newline is not escaped in GitHub annotations (it ends the command)"),
    Mutation("annotation-comma-unescaped", P + "report/github.py",
             '.replace(",", "%2C")',
             '.replace(",", ",")',
             ("tests/report/test_github.py",),
             "`,` is not escaped in annotation properties (it starts another property)"),
    Mutation("cache-key-ignores-content", P + "cache.py",
             "digest.update(content)",
             "None",
             ("tests/scope/test_cli.py::test_cache_serves_and_invalidates",),
             "the cache key ignores the file's bytes (an edited file gets stale findings)"),
    Mutation("init-overwrites", P + "files/starter.py",
             "if target.exists() and not force:",
             "if target.exists() and not force and False:",
             ("tests/files/test_init.py::test_init_refuses_to_overwrite_without_force",),
             "`premerge init` overwrites a manifest without --force"),
    Mutation("changed-not-transitive", P + "imports/graph.py",
             "queue.append(importer)",
             "None",
             ("tests/smoke/test_selection.py::test_changed_selects_importers_transitively",),
             "--changed runs a changed module's direct importers only"),
    Mutation("pm203-never", P + "files/messages.py",
             "return [state.at(cls, path, related=state.related(path))",
             "return [] and [state.at(cls, path, related=state.related(path))",
             ("tests/files/test_manifest_checks.py::test_untracked_file_is_pm203_and_says_why_it_matters",),
             "PM203 (required file not committed) is never reported",
             within="class UntrackedFile("),
)


def _block(text: str, header: str) -> tuple[int, int] | None:
    """Where the top-level block starting with the line ``header...`` lies in ``text``: from
    that line to the next line that starts at column 0 (None unless the header is unique)."""
    starts = [i for i, line in enumerate(text.splitlines(keepends=True))
              if line.startswith(header)]
    if len(starts) != 1:
        return None
    lines = text.splitlines(keepends=True)
    begin = sum(map(len, lines[:starts[0]]))
    end = begin + len(lines[starts[0]])
    for line in lines[starts[0] + 1:]:
        if line.strip() and not line[0].isspace():
            break
        end += len(line)
    return begin, end


def locate(text: str, mutation: Mutation) -> int | str:
    """The offset of the one occurrence of ``mutation.original`` in ``text``, else why not."""
    begin, end = 0, len(text)
    if mutation.within:
        block = _block(text, mutation.within)
        if block is None:
            return f"no single top-level block starts with {mutation.within!r}"
        begin, end = block
    count = text.count(mutation.original, begin, end)
    if count != 1:
        where = f" in the block {mutation.within!r}" if mutation.within else ""
        return (f"the snippet occurs {count} times{where} (make it unique)" if count
                else f"snippet not found{where}")
    return text.index(mutation.original, begin, end)


def mutated(text: str, mutation: Mutation) -> str:
    """``text`` with the breakage applied (``locate`` must have found the snippet)."""
    offset = locate(text, mutation)
    assert isinstance(offset, int), offset
    return text[:offset] + mutation.replacement + text[offset + len(mutation.original):]


def snippet_problem(root: Path, mutation: Mutation) -> str | None:
    """Why ``mutation`` cannot be applied to the tree at ``root`` (None: it can)."""
    path = root / mutation.file
    if not path.is_file():
        return f"{mutation.file} does not exist"
    found = locate(path.read_text(encoding="utf-8"), mutation)
    if isinstance(found, int):
        return None
    elsewhere = [p.relative_to(root).as_posix() for p in sorted((root / PACKAGE_DIR).rglob("*.py"))
                 if mutation.original in p.read_text(encoding="utf-8")]
    hint = f" (found in {', '.join(elsewhere)})" if elsewhere and "not found" in found else ""
    return f"{found} in {mutation.file}{hint}: {mutation.original!r}"


def copy_tree(source: Path, target: Path) -> None:
    """The files ``git ls-files`` lists (tracked and new, not ignored), committed in a new repo."""
    listed = subprocess.run(["git", "ls-files", "-z", "-co", "--exclude-standard"], cwd=source,
                            capture_output=True, text=True, check=True).stdout
    for rel in filter(None, listed.split("\0")):
        path = source / rel
        if path.is_file() and not path.is_symlink():
            (target / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target / rel)
    env = {**os.environ, "GIT_AUTHOR_NAME": "mutate", "GIT_AUTHOR_EMAIL": "mutate@invalid",
           "GIT_COMMITTER_NAME": "mutate", "GIT_COMMITTER_EMAIL": "mutate@invalid"}
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-qm", "copy"]):
        subprocess.run(["git", *args], cwd=target, check=True, env=env, capture_output=True)


def _drop_byte_code(root: Path) -> None:
    """A restored file may keep the mutated file's size and second: no stale .pyc may stay."""
    for cache in (root / PACKAGE_DIR).rglob("__pycache__"):
        shutil.rmtree(cache, ignore_errors=True)


def run_tests(root: Path, tests: Sequence[str], workers: str) -> tuple[int, str, float]:
    """pytest on ``tests`` in the copy at ``root``, importing the copy's package."""
    env = {**os.environ,
           "PYTHONPATH": os.pathsep.join(filter(None, [str(root / PACKAGE_DIR),
                                                       os.environ.get("PYTHONPATH")]))}
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:randomly",
               "-p", "no:cacheprovider", "--run-slow", "-n", workers, *tests]
    started = time.monotonic()
    try:
        proc = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True,
                              timeout=TIMEOUT, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return -1, f"timed out after {TIMEOUT} s", time.monotonic() - started
    return proc.returncode, proc.stdout + proc.stderr, time.monotonic() - started


def _first_failure(output: str) -> str:
    for line in output.splitlines():
        if line.startswith(("FAILED ", "ERROR ")):
            return line.split(" - ")[0]
    lines = [line for line in output.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def check(mutations: Sequence[Mutation], source: Path = ROOT, workers: str = "0",
          out: object = sys.stdout) -> int:
    """Apply each mutation to a copy of ``source``, run its tests; 0 when all were caught."""

    def say(text: str) -> None:
        print(text, file=out, flush=True)  # type: ignore[call-overload]

    problems = {m.name: snippet_problem(source, m) for m in mutations}
    with tempfile.TemporaryDirectory(prefix="premerge-mutate-") as temporary:
        root = Path(temporary) / "tree"
        copy_tree(source, root)
        wanted = sorted({test for m in mutations if not problems[m.name] for test in m.tests})
        if wanted:
            code, output, seconds = run_tests(root, wanted, workers)
            if code != 0:
                say(f"the tests fail without any mutation (exit {code}, {seconds:.0f} s): "
                    "fix them first\n" + output[-3000:])
                return 2
            say(f"baseline: {len(wanted)} test selections pass unmutated ({seconds:.0f} s)")
        missed = 0
        for mutation in mutations:
            label = f"{mutation.name:<30} {mutation.file}"
            if problems[mutation.name]:
                say(f"SNIPPET NOT FOUND  {label}: {problems[mutation.name]}")
                missed += 1
                continue
            path = root / mutation.file
            original = path.read_bytes()
            path.write_text(mutated(original.decode("utf-8"), mutation), encoding="utf-8")
            _drop_byte_code(root)
            try:
                code, output, seconds = run_tests(root, mutation.tests, workers)
            finally:
                path.write_bytes(original)
                _drop_byte_code(root)
            if code in (1, 2, -1):  # tests failed, collection broke, or hung
                say(f"caught             {label} ({seconds:.0f} s: {_first_failure(output)})")
            elif code == 0:
                say(f"NOT CAUGHT         {label} ({seconds:.0f} s): {mutation.why}")
                missed += 1
            else:
                say(f"ERROR              {label}: pytest exit {code}: {_first_failure(output)}")
                missed += 1
        caught = len(mutations) - missed
        say(f"{caught} of {len(mutations)} breakages caught")
    return 0 if missed == 0 else 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="run only these breakages (default: all)")
    parser.add_argument("--list", action="store_true", help="list the breakages and exit")
    parser.add_argument("--check-snippets", action="store_true",
                        help="only check that every snippet applies to the working tree")
    parser.add_argument("-n", "--workers", default="0",
                        help="pytest-xdist workers per breakage (default 0: in-process)")
    args = parser.parse_args(argv)
    unknown = set(args.names) - {m.name for m in MUTATIONS}
    if unknown:
        parser.error(f"unknown breakage(s): {', '.join(sorted(unknown))}")
    chosen = [m for m in MUTATIONS if not args.names or m.name in args.names]
    if args.list:
        for m in chosen:
            print(f"{m.name:<30} {m.file}: {m.why}\n{'':<30} tests: {' '.join(m.tests)}")
        return 0
    if args.check_snippets:
        problems = [f"{m.name}: {p}" for m in chosen if (p := snippet_problem(ROOT, m))]
        print("\n".join(problems) or f"all {len(chosen)} snippets apply")
        return 1 if problems else 0
    return check(chosen, workers=args.workers)


if __name__ == "__main__":
    sys.exit(main())
