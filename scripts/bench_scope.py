"""``python scripts/bench.py scope``: premerge scope vs pyflakes (and ruff) on the stdlib.

The corpus is a copy of the running interpreter's standard library (``Lib/**/*.py``), without
test packages (``test/``, ``tests/``, ``idle_test/``: deliberately broken code is not what users
run) and without ``site-packages``.  One run prints, side by side: pyflakes, ruff (when
installed; it is a compiled linter, shown for scale only), premerge cold (a fresh, empty cache
directory), premerge warm (the cache primed), and the same for one large file (cold, and with
``--no-cache``: no cache read or written), timed in interleaved rounds.

Targets from the issue: cold <= 0.5x pyflakes, warm <= 0.05x, one file <= 0.75x.
Options: ``--repeat N`` (best of N, default 3), ``--keep DIR`` (build the corpus there and keep it).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from benchlib import cpu_seconds, premerge_cmd, print_table, time_command

EXCLUDED_DIRS = {"test", "tests", "idle_test", "site-packages", "dist-packages", "__pycache__"}
#: the large single file: the biggest real module (pydoc_data/topics.py is one string literal)
LARGE_FILE = "_pydecimal.py"


def build_corpus(target: Path) -> int:
    """Copy the stdlib's Python files into ``target``; returns how many."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    count = 0
    for current, dirnames, filenames in os.walk(stdlib):
        dirnames[:] = sorted(d for d in dirnames if d not in EXCLUDED_DIRS)
        for name in filenames:
            if not name.endswith(".py"):
                continue
            source = Path(current) / name
            destination = target / source.relative_to(stdlib)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, destination)
            count += 1
    return count


def interleaved(commands: Sequence[tuple[str, list[str], dict[str, str] | None,
                                        Callable[[], None] | None]],
                rounds: int, cwd: Path) -> tuple[list[tuple[str, float]], dict[str, float]]:
    """Each command's best wall time over ``rounds`` rounds that run every command once, one
    after another (a neighbour's load then hits them alike), and the median over the rounds of
    each command's time divided by the first command's."""
    times: dict[str, list[float]] = {label: [] for label, *_rest in commands}
    for _ in range(rounds):
        for label, cmd, env, before in commands:
            times[label].append(time_command(cmd, 1, cwd=cwd, env=env, before=before))
    anchor = times[commands[0][0]]
    ratios = {label: statistics.median(t / a for t, a in zip(values, anchor))
              for label, values in times.items()}
    return [(label, min(values)) for label, values in times.items()], ratios


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.py scope")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", metavar="DIR")
    args = parser.parse_args(argv)

    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="premerge-bench-"))
    corpus = work / "stdlib"
    if corpus.exists():
        shutil.rmtree(corpus)
    corpus.mkdir(parents=True)
    files = build_corpus(corpus)
    large = corpus / LARGE_FILE
    if not large.exists():
        large = max(corpus.rglob("*.py"), key=lambda p: p.stat().st_size)
    cache = work / "cache"
    # Installed tools run from byte-code; this sandbox sets PYTHONDONTWRITEBYTECODE, which would
    # make every run recompile premerge's source (~0.15 s).  Give every tool the same byte-code
    # cache outside the checkout and prime it, so each is timed as users run it.
    bytecode = {"PYTHONDONTWRITEBYTECODE": "", "PYTHONPYCACHEPREFIX": str(work / "pycache")}
    env = {"PREMERGE_CACHE_DIR": str(cache), **bytecode}

    def fresh_cache() -> None:
        shutil.rmtree(cache, ignore_errors=True)

    scope = [*premerge_cmd("scope", "--fail-on", "never")]
    pyflakes = [sys.executable, "-m", "pyflakes"]
    ruff = shutil.which("ruff")
    ruff_cmd = [ruff, "check", "--select", "F821,F822,F401", "--no-cache", "--quiet",
                "--exit-zero"] if ruff else None
    repeat = args.repeat

    # Tools run from beside the corpus, never inside it: `python -m` puts the working directory
    # first on sys.path, and the corpus would shadow the real standard library.
    target, single = corpus.name, str(large.relative_to(work))
    for prime in ([*pyflakes, single], [*scope, "--no-cache", single]):
        subprocess.run(prime, cwd=work, env={**os.environ, **env}, capture_output=True,
                       check=False)
    print(f"corpus: {files} files from {sysconfig.get_paths()['stdlib']} "
          f"(Python {sys.version.split()[0]}), large file: {large.name} "
          f"({large.stat().st_size // 1024} KiB), {os.cpu_count()} CPUs")
    rows: list[tuple[str, float]] = [
        ("pyflakes", time_command([*pyflakes, target], repeat, cwd=work, env=bytecode))]
    if ruff_cmd:
        rows.append(("ruff (F821,F822,F401)", time_command([*ruff_cmd, target], repeat, cwd=work)))
    rows.append(("premerge scope, cold", time_command([*scope, target], repeat, cwd=work,
                                                      env=env, before=fresh_cache)))
    subprocess.run([*scope, target], cwd=work, env={**os.environ, **env},
                   capture_output=True, check=False)
    rows.append(("premerge scope, warm", time_command([*scope, target], repeat, cwd=work,
                                                      env=env)))
    print_table("whole corpus", rows, "pyflakes",
                {"premerge scope, cold": "<= 0.50x", "premerge scope, warm": "<= 0.05x"})

    # One file takes a fraction of a second: runs of each tool at different moments would
    # measure the neighbours' load as much as the tools, so every round runs each tool once.
    one_commands: list[tuple[str, list[str], dict[str, str] | None, Callable[[], None] | None]]
    one_commands = [("pyflakes", [*pyflakes, single], bytecode, None)]
    if ruff_cmd:
        one_commands.append(("ruff (F821,F822,F401)", [*ruff_cmd, single], None, None))
    one_commands.append(("premerge scope, cold", [*scope, single], env, fresh_cache))
    one_commands.append(("premerge scope --no-cache", [*scope, "--no-cache", single], env,
                         None))
    one, ratios = interleaved(one_commands, repeat * 4, work)
    print_table(f"one large file ({large.name}), best of {repeat * 4} interleaved rounds", one,
                "pyflakes",
                {"premerge scope, cold": "<= 0.75x", "premerge scope --no-cache": "<= 0.75x"})
    print("median of the per-round ratios: " + ", ".join(
        f"{label} {ratio:.2f}x" for label, ratio in ratios.items() if label != "pyflakes"))

    cpu = [("pyflakes", cpu_seconds([*pyflakes, target], repeat, work, bytecode)),
           ("premerge scope, cold", cpu_seconds([*scope, target], repeat, work, env,
                                                fresh_cache))]
    subprocess.run([*scope, target], cwd=work, env={**os.environ, **env}, capture_output=True,
                   check=False)
    cpu.append(("premerge scope, warm", cpu_seconds([*scope, target], repeat, work, env)))
    cpu.append(("pyflakes, one large file", cpu_seconds([*pyflakes, single], repeat * 2, work,
                                                        bytecode)))
    cpu.append(("premerge scope, one large file", cpu_seconds([*scope, single], repeat * 2, work,
                                                              env, fresh_cache)))
    print_table("CPU seconds (all processes), whole corpus; then one file", cpu, "pyflakes")
    print(f"load average while measuring: {os.getloadavg()[0]:.2f} "
          f"(wall times above include other processes' use of the {os.cpu_count()} CPUs)")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    raise SystemExit(main())
