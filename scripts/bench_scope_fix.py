"""``python scripts/bench.py scope_fix``: what ``premerge scope --fix`` costs and achieves.

The corpus is the stdlib copy of ``bench_scope`` (no test packages), *mutated* the way the bug
happens in real code: in every module, one top-level ``import X`` of the leading block moves
into a new function at the end of the file, so every other use of ``X`` becomes a PM101 (and a
module-level use a NameError at import).  ``--fix`` must put each import back.

Printed: wall and CPU seconds of a plain run (the anchor), ``--diff`` and ``--fix`` (each from a
fresh copy, no cache), and the outcome: PM101 findings and files before and after, how many
files the fix touched, and whether every fixed file compiles.
Options: ``--repeat N`` (best of N, default 1: the fix rewrites the corpus, each run copies it
again), ``--keep DIR`` (build the corpus there and keep it).
"""

from __future__ import annotations

import argparse
import ast
import json
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

from bench_scope import build_corpus
from benchlib import cpu_seconds, premerge_cmd, print_table, time_command


def mutate(source: Path, target: Path) -> int:
    """Copy ``source`` to ``target`` moving one leading ``import X`` per module into a
    function at the end; returns how many modules were mutated."""
    count = 0
    for path in sorted(source.rglob("*.py")):
        out = target / path.relative_to(source)
        out.parent.mkdir(parents=True, exist_ok=True)
        text = path.read_text(encoding="utf-8", errors="surrogateescape")
        moved = _moved(text)
        if moved is None:
            shutil.copyfile(path, out)
            continue
        out.write_text(moved, encoding="utf-8", errors="surrogateescape")
        count += 1
    return count


def _moved(text: str) -> str | None:
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return None
    lines = text.splitlines(keepends=True)
    chosen = None
    for stmt in tree.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            break
        if (isinstance(stmt, ast.Import) and len(stmt.names) == 1 and stmt.col_offset == 0
                and stmt.lineno == stmt.end_lineno
                and lines[stmt.lineno - 1].startswith("import ")):
            chosen = stmt
    if chosen is None:
        return None
    statement = lines.pop(chosen.lineno - 1).strip()
    body = "".join(lines)
    if not body.endswith("\n"):
        body += "\n"
    return body + f"\n\ndef _premerge_setup():\n    {statement}\n    return None\n"


def pm101(root: Path) -> tuple[int, int]:
    """(PM101 findings, files with one) of a plain run."""
    proc = subprocess.run(premerge_cmd("scope", "corpus", "--no-cache", "--format", "json"),
                          cwd=root, capture_output=True, text=True, check=False)
    findings = [f for f in json.loads(proc.stdout)["findings"] if f["code"] == "PM101"]
    return len(findings), len({f["path"] for f in findings})


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.py scope_fix")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--keep", type=Path)
    args = parser.parse_args(argv)
    base = args.keep or Path(tempfile.mkdtemp(prefix="premerge-bench-fix-"))
    original, mutated, work = base / "stdlib", base / "mutated", base / "work"
    shutil.rmtree(base / "stdlib", ignore_errors=True)
    build_corpus(original)
    shutil.rmtree(mutated, ignore_errors=True)
    count = mutate(original, mutated)

    def fresh() -> None:
        shutil.rmtree(work, ignore_errors=True)
        shutil.copytree(mutated, work / "corpus")
        subprocess.run(["git", "init", "-q", str(work)], check=False)

    env = {"PYTHONSAFEPATH": "1"}  # the corpus shadows the stdlib: never on sys.path
    rows, cpu = [], []
    for label, extra in (("scope (plain run)", ()), ("scope --diff", ("--diff",)),
                         ("scope --fix", ("--fix",))):
        cmd = premerge_cmd("scope", "corpus", "--no-cache", *extra)
        fresh()
        rows.append((label, time_command(cmd, args.repeat, cwd=work, env=env, before=fresh)))
        cpu.append((label, cpu_seconds(cmd, args.repeat, work, env, before=fresh)))
    print(f"corpus: {count} of the stdlib's modules mutated (one import moved into a function)")
    print_table("wall seconds (best of %d)" % args.repeat, rows, "scope (plain run)")
    print_table("CPU seconds, user + system", cpu, "scope (plain run)")

    fresh()
    before = pm101(work)
    subprocess.run(premerge_cmd("scope", "corpus", "--no-cache", "--fix"), cwd=work,
                   capture_output=True, check=False, env={**__import__("os").environ, **env})
    after = pm101(work)
    touched = broken = 0
    for path in (work / "corpus").rglob("*.py"):
        rel = path.relative_to(work / "corpus")
        if path.read_bytes() != (mutated / rel).read_bytes():
            touched += 1
            try:
                compile(path.read_bytes(), str(path), "exec", dont_inherit=True)
            except SyntaxError:
                broken += 1
    print(f"\nPM101 before --fix: {before[0]} in {before[1]} files; after: {after[0]} in "
          f"{after[1]} files; files rewritten: {touched}; rewritten files that do not compile: "
          f"{broken}")
    if not args.keep:
        shutil.rmtree(base, ignore_errors=True)
    return 0
