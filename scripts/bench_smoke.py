"""Benchmark: ``premerge smoke`` on a generated project vs the two naive ways.

    python scripts/bench.py smoke [--modules N] [--scripts N] [--repeat N] [--keep DIR]
    python scripts/bench.py smoke --repo PATH --python PY [--rounds N] [--skip-naive]

With ``--repo`` it measures a real repository instead (see ``bench_smoke_repo.py``).

The generated project (a git repository in a temporary directory) has a package of N modules
(default 160) in first-party import chains, plus a directory of scripts with sibling imports;
every module imports real third-party packages installed here (yaml, git, jsonschema,
hypothesis, click, packaging, requests, attr -- whatever of them is importable) and a handful
of stdlib modules, and defines functions and classes for the runtime global check.

Rows (best wall time of ``--repeat`` runs, with ``sys.executable`` as the project's
interpreter -- the ``python3`` on PATH may be a slow pyenv shim):

* one process importing every module once: fast, but blind to import order problems (anchor)
* one fresh ``python -c "import m"`` per module, one after another: correct, slow
* premerge smoke (warm parent + fork per module), and its one-process-per-module fallback

Targets (issue 4): premerge <= 3x the one-process import, and >= 8x faster than fresh
``python -c`` per module.

premerge's own modules load from byte-code, as from an installed copy: this sandbox sets
PYTHONDONTWRITEBYTECODE, which would recompile them every run (~30 ms), so premerge's process
gets a private, primed ``-X pycache_prefix`` (never inherited by the project's interpreter,
which premerge starts with its own environment).  The imported project compiles from source
in every row, as its files would on a fresh checkout.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from benchlib import cpu_seconds, premerge_cmd, print_table, service_lines, time_command

THIRD_PARTY = ["yaml", "git", "jsonschema", "hypothesis", "click", "packaging.version",
               "requests", "attr"]
STDLIB = ["json", "os", "re", "dataclasses", "typing", "pathlib", "collections", "functools",
          "logging", "itertools", "enum", "datetime", "textwrap", "hashlib"]


def available_third_party() -> list[str]:
    return [name for name in THIRD_PARTY if importlib.util.find_spec(name.split(".")[0])]


def _module_source(rng: random.Random, index: int, deps: list[str], third: list[str]) -> str:
    lines = ["from __future__ import annotations", ""]
    for name in rng.sample(STDLIB, 4):
        lines.append(f"import {name}")
    for name in rng.sample(third, min(len(third), rng.randint(1, 3))):
        lines.append(f"import {name}")
    for dep in deps:
        lines.append(f"from benchproj.{dep} import helper_{dep.rsplit('.', 1)[-1]}")
    lines += ["", "", f"CONSTANT_{index} = {index}", ""]
    short = f"m{index}"
    lines += [
        f"def helper_{short}(value: int) -> int:",
        "    \"\"\"A helper other modules import.\"\"\"",
        f"    return value + CONSTANT_{index}",
        "",
        "",
    ]
    lines += service_lines(f"helper_{short}", f"Service{index}", deps, extra_methods=[
        "    def describe(self) -> str:",
        "        return json.dumps({'n': len(self.items)}) if 'json' in globals() else ''",
        "",
    ])
    return "\n".join(lines) + "\n"


def generate(root: Path, modules: int, scripts: int, seed: int = 7) -> list[tuple[str, str]]:
    """Write the project; return (import root, module name) of every module."""
    rng = random.Random(seed)
    third = available_third_party()
    package = root / "src" / "benchproj"
    groups = ["core", "features", "services", "adapters"]
    names: list[str] = []
    for group in groups:
        (package / group).mkdir(parents=True, exist_ok=True)
        (package / group / "__init__.py").write_text("")
    (package / "__init__.py").write_text('"""Generated benchmark project."""\n')
    for index in range(modules):
        group = groups[min(index * len(groups) // modules, len(groups) - 1)]
        name = f"{group}.m{index}"
        # first-party chains: each module imports up to two earlier modules
        deps = rng.sample(names[-12:], min(len(names[-12:]), rng.randint(0, 2))) if names else []
        (package / group / f"m{index}.py").write_text(_module_source(rng, index, deps, third))
        names.append(name)
    tools = root / "tools"
    tools.mkdir(exist_ok=True)
    (tools / "shared_helpers.py").write_text("def fmt(value):\n    return str(value)\n")
    for index in range(scripts):
        imports = rng.sample(third, min(len(third), 2))
        body = [f"import {n}" for n in imports] + ["import shared_helpers", "",
                                                   "def main():",
                                                   "    return shared_helpers.fmt(1)", "",
                                                   'if __name__ == "__main__":', "    main()"]
        (tools / f"tool_{index}.py").write_text("\n".join(body) + "\n")
    (root / "pyproject.toml").write_text(
        '[project]\nname = "benchproj"\nversion = "0"\n\n'
        '[tool.setuptools.packages.find]\nwhere = ["src"]\n')
    env = {**os.environ, "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "b@example.invalid",
           "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "b@example.invalid"}
    subprocess.run(["git", "init", "-q"], cwd=root, check=True, env=env)
    subprocess.run(["git", "add", "-A"], cwd=root, check=True, env=env)
    subprocess.run(["git", "commit", "-qm", "bench"], cwd=root, check=True, env=env)
    out = [(str(root / "src"), "benchproj"), *((str(root / "src"), f"benchproj.{g}")
                                               for g in groups)]
    out += [(str(root / "src"), f"benchproj.{n}") for n in names]
    out += [(str(tools), "shared_helpers")]
    out += [(str(tools), f"tool_{i}") for i in range(scripts)]
    return out


def snapshot_copy(root: Path, repeat: int) -> tuple[int, int, float, dict[str, int]]:
    """premerge smoke's pristine snapshot alone -- git's file list, then the copy -- as the
    smoke run makes it: (files, bytes, best seconds of ``repeat``, copy methods).  It runs in
    a thread while the warm parent starts, so it adds to the wall time above only where it
    outlasts that start; it is part of every premerge row."""
    from premerge.config import Config
    from premerge.smoke.execute import _checked_files
    from premerge.smoke.writes import Snapshot, private_base

    best, files, size, methods = float("inf"), 0, 0, {}
    for _ in range(max(1, repeat)):
        base = tempfile.mkdtemp(prefix="premerge-bench-snapshot-", dir=private_base(memory=True))
        try:
            snapshot = Snapshot(str(root), os.path.join(base, root.name))
            started = time.perf_counter()
            snapshot.start(_checked_files(Config(root=root), str(root)))
            snapshot.wait()
            best = min(best, time.perf_counter() - started)
            files, size, methods = len(snapshot.entries), snapshot.bytes, snapshot.methods
        finally:
            shutil.rmtree(base, ignore_errors=True)
    return files, size, best, methods


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.py smoke")
    parser.add_argument("--modules", type=int, default=160)
    parser.add_argument("--scripts", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", metavar="DIR", help="generate into DIR and keep it")
    parser.add_argument("--skip-naive", action="store_true",
                        help="skip the (slow) fresh-process rows")
    parser.add_argument("--repo", metavar="PATH", help="measure this real repository")
    parser.add_argument("--python", metavar="PY", default=sys.executable,
                        help="with --repo: the project's interpreter")
    parser.add_argument("--rounds", type=int, default=3, help="with --repo: interleaved rounds")
    args = parser.parse_args(list(argv or []))
    if args.repo:
        from bench_smoke_repo import run as run_repo

        return run_repo(Path(args.repo), args.python, args.rounds, args.skip_naive)
    base = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="premerge-bench-"))
    root = base / "project"
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    try:
        modules = generate(root, args.modules, args.scripts)
        python = sys.executable
        roots = sorted({r for r, _ in modules})
        env = {"PYTHONPATH": os.pathsep.join(roots), "PYTHONDONTWRITEBYTECODE": "1"}
        one_process = [python, "-c", "; ".join(f"import {name}" for _, name in modules)]
        check = subprocess.run(one_process, env={**os.environ, **env}, capture_output=True,
                               text=True, check=False)
        if check.returncode != 0:
            print(f"bench smoke: the generated project does not import: {check.stderr}",
                  file=sys.stderr)
            return 1
        print(f"generated {len(modules)} modules in {root} "
              f"(third-party: {', '.join(available_third_party())})")
        rows: list[tuple[str, float]] = []
        rows.append(("one process, every module once",
                     time_command(one_process, args.repeat, cwd=root, env=env)))
        if not args.skip_naive:
            started = time.perf_counter()
            for _, name in modules:
                subprocess.run([python, "-c", f"import {name}"], cwd=root,
                               env={**os.environ, **env}, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, check=False)
            rows.append(("fresh python -c per module", time.perf_counter() - started))
        bytecode = ["-X", f"pycache_prefix={base / 'pycache'}"]
        own_env = {"PYTHONDONTWRITEBYTECODE": ""}
        smoke = premerge_cmd("smoke", "--no-cache", "--python", python, "--format", "json",
                             "--output", os.devnull)
        smoke[1:1] = bytecode
        time_command(smoke, 1, cwd=root, env=own_env)  # primes premerge's byte-code
        rows.append(("premerge smoke", time_command(smoke, args.repeat, cwd=root, env=own_env)))
        warm_cache = smoke[:]
        warm_cache.remove("--no-cache")
        rows.append(("premerge smoke (static facts cached)",
                     time_command(warm_cache, args.repeat, cwd=root, env=own_env)))
        if not args.skip_naive:
            rows.append(("premerge smoke (fallback mode)",
                         time_command(smoke, 1, cwd=root,
                                      env={**own_env, "PREMERGE_SMOKE_FRESH": "1"})))
        result = subprocess.run(premerge_cmd("smoke", "--no-cache", "--python", python),
                                cwd=root, capture_output=True, text=True, check=False)
        print(f"premerge smoke on the project: exit {result.returncode}; "
              f"{result.stderr.strip().splitlines()[-1] if result.stderr.strip() else ''}")
        print_table(f"smoke: {len(modules)} modules, {os.cpu_count()} CPUs", rows,
                    anchor="one process, every module once",
                    targets={"premerge smoke": "<= 3x",
                             "fresh python -c per module": "premerge >= 8x faster"})
        cpu_one = cpu_seconds(one_process, cwd=root, env=env)
        cpu_smoke = cpu_seconds(smoke, cwd=root, env=own_env)
        cpus = os.cpu_count() or 1
        print(f"\nCPU time (user+sys, whole process tree): one process {cpu_one:.3f} s, "
              f"premerge smoke {cpu_smoke:.3f} s = {cpu_smoke / cpu_one:.2f}x; on {cpus} idle "
              f"CPUs that bounds premerge's wall time near {cpu_smoke / cpus / cpu_one:.2f}x")
        files, size, copy, methods = snapshot_copy(root, args.repeat)
        print(f"\nof which the pristine snapshot (in a thread, overlapping the warm parent's "
              f"start): {files} files, {size // 1024} KiB in {copy * 1000:.0f} ms "
              f"({', '.join(f'{k} {v}' for k, v in sorted(methods.items()))})")
        seconds = dict(rows)
        print(f"\npremerge vs one process: {seconds['premerge smoke'] / seconds[rows[0][0]]:.2f}x"
              " (target <= 3x)")
        if "fresh python -c per module" in seconds:
            print(f"fresh python -c per module vs premerge: "
                  f"{seconds['fresh python -c per module'] / seconds['premerge smoke']:.1f}x "
                  "slower (target >= 8x)")
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
    return 0
