"""``bench.py smoke --repo PATH --python PY``: premerge smoke on a real repository.

Side by side, in interleaved rounds (each row once per round, so a neighbour's load on this
shared machine hits every row alike): the one-process floor (one interpreter importing every
module premerge imports, once), one fresh interpreter per module (one after another), and
premerge smoke; then premerge's five slowest modules and its idle import slots (from
``--verbose``).  The modules are the ones premerge imports (its discovery and skip rules), so
the rows do the same imports.  Prints the best wall time of each row and the median of the
per-round ratios, and the CPU time of the floor and of premerge (on a shared machine wall
time measures the neighbours too).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from benchlib import cpu_seconds, premerge_cmd

_DRIVER = """\
import importlib, importlib.util, json, sys
base = list(sys.path)
for root, kind, name, path in json.load(open(sys.argv[1])):
    sys.path[:] = [root] + base
    try:
        if kind == "script":
            spec = importlib.util.spec_from_file_location(name, path)
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            spec.loader.exec_module(module)
        else:
            importlib.import_module(name)
    except BaseException:
        pass
"""


def modules_premerge_imports(repo: Path) -> list[tuple[str, str, str, str]]:
    """(import root, kind, name, path) of every module premerge smoke imports in ``repo``."""
    from premerge.config import load_config
    from premerge.repo import find_root
    from premerge.smoke import file_facts, skip_reason
    from premerge.imports.discovery import discover_modules

    config = load_config(repo, in_git=find_root(repo) is not None)
    modules = discover_modules(repo, config.smoke.include, config.smoke.exclude)
    facts = file_facts(modules, use_cache=False)
    return [(m.import_root, m.kind, m.name, m.path) for m in modules
            if skip_reason(m, facts.get(m.path), config) is None]


def _timed(cmd: Sequence[str], cwd: Path, env: dict[str, str]) -> tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run(list(cmd), cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                          check=False)
    return time.perf_counter() - start, proc.stderr


def run(repo: Path, python: str, rounds: int, skip_naive: bool) -> int:
    repo = repo.resolve()
    modules = modules_premerge_imports(repo)
    if not modules:
        print(f"bench smoke --repo: premerge imports no module in {repo}", file=sys.stderr)
        return 1
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    with tempfile.TemporaryDirectory(prefix="premerge-bench-repo-") as work:
        listing = Path(work) / "modules.json"
        listing.write_text(json.dumps(modules))
        driver = Path(work) / "driver.py"
        driver.write_text(_DRIVER)
        floor_cmd = [python, "-B", str(driver), str(listing)]
        smoke_cmd = premerge_cmd("smoke", "--no-cache", "--python", python, "--verbose",
                                 "--format", "json", "--output", os.devnull)
        # premerge's own byte-code primed once (as an installed copy has it)
        bytecode = ["-X", f"pycache_prefix={Path(work) / 'pycache'}"]
        smoke_cmd[1:1] = bytecode
        own_env = {**os.environ, "PYTHONDONTWRITEBYTECODE": ""}
        _timed(smoke_cmd, repo, own_env)
        rows: dict[str, list[float]] = {"floor": [], "per-module": [], "premerge": []}
        verbose = ""
        for _ in range(rounds):
            rows["floor"].append(_timed(floor_cmd, repo, env)[0])
            seconds, verbose = _timed(smoke_cmd, repo, own_env)
            rows["premerge"].append(seconds)
            if not skip_naive:
                start = time.perf_counter()
                for root, kind, name, path in modules:
                    code = (f"import importlib.util as u, sys; s = u.spec_from_file_location("
                            f"{name!r}, {path!r}); m = u.module_from_spec(s); "
                            f"sys.modules[{name!r}] = m; s.loader.exec_module(m)"
                            if kind == "script" else f"import {name}")
                    subprocess.run([python, "-B", "-c", code], cwd=root,
                                   env={**env, "PYTHONPATH": root}, stdin=subprocess.DEVNULL,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                   check=False)
                rows["per-module"].append(time.perf_counter() - start)
        cpu_floor = cpu_seconds(floor_cmd, rounds, cwd=repo, env=env)
        cpu_smoke = cpu_seconds(smoke_cmd, rounds, cwd=repo, env=own_env)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"\nsmoke on {repo}: {len(modules)} modules imported, {python}, {os.cpu_count()} "
          f"CPUs, {rounds} interleaved rounds, load average {load:.2f} at the end")
    floor = min(rows["floor"])
    print(f"{'':<34}{'best s':>9}{'x floor':>9}{'median x':>10}")
    for label, key in (("one process, every module once", "floor"),
                       ("one interpreter per module", "per-module"),
                       ("premerge smoke", "premerge")):
        if not rows[key]:
            continue
        ratios = [s / f for s, f in zip(rows[key], rows["floor"])]
        print(f"{label:<34}{min(rows[key]):>9.2f}{min(rows[key]) / floor:>9.2f}"
              f"{statistics.median(ratios):>10.2f}")
    cpus = os.cpu_count() or 1
    print(f"CPU time (user+sys, whole process tree, best of {rounds}): one process "
          f"{cpu_floor:.2f} s, premerge smoke {cpu_smoke:.2f} s = {cpu_smoke / cpu_floor:.2f}x; "
          f"on {cpus} idle CPUs premerge's wall time is at least "
          f"{cpu_smoke / cpus / cpu_floor:.2f}x the floor's (more: its start and preload are "
          "serial)")
    if rows["per-module"]:
        speedups = [n / p for n, p in zip(rows["per-module"], rows["premerge"])]
        print(f"premerge is {statistics.median(speedups):.1f}x faster than one interpreter per "
              f"module (median of rounds; target >= 8x); target <= 3x the floor")
    for line in verbose.splitlines():
        if line.startswith(("smoke: slowest", "smoke: ") ) and "per-module" not in line:
            print(line)
    return 0
