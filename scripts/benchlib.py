"""Shared helpers for the benchmarks: best-of-N wall time of a command, and a ratio table."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def time_command(cmd: Sequence[str], repeat: int = 3, cwd: Path | None = None,
                 env: Mapping[str, str] | None = None,
                 before: Callable[[], None] | None = None) -> float:
    """Best wall time in seconds of running ``cmd`` ``repeat`` times (``before`` runs untimed
    before each run, e.g. to clear a cache)."""
    best = float("inf")
    for _ in range(repeat):
        if before is not None:
            before()
        start = time.perf_counter()
        subprocess.run(list(cmd), cwd=cwd, env={**os.environ, **(env or {})},
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       stdin=subprocess.DEVNULL, check=False)
        best = min(best, time.perf_counter() - start)
    return best


def cpu_seconds(cmd: Sequence[str], repeat: int = 3, cwd: Path | None = None,
                env: Mapping[str, str] | None = None,
                before: Callable[[], None] | None = None) -> float:
    """Best CPU time (user + system of the command and all its children) of ``repeat`` runs.

    Wall time is what users feel, but on a shared machine it measures the neighbours too; CPU
    time shows the work each tool does (a parallel run spends more CPU than its wall time).
    NaN where the platform has no ``resource`` module.
    """
    try:
        import resource  # noqa: PLC0415 - POSIX only
    except ImportError:
        return float("nan")
    best = float("inf")
    for _ in range(repeat):
        if before is not None:
            before()
        start = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run(list(cmd), cwd=cwd, env={**os.environ, **(env or {})},
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       stdin=subprocess.DEVNULL, check=False)
        end = resource.getrusage(resource.RUSAGE_CHILDREN)
        best = min(best, (end.ru_utime - start.ru_utime) + (end.ru_stime - start.ru_stime))
    return best


GIT_ENV = {"GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@premerge.invalid",
           "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@premerge.invalid"}


def git(cwd: Path, *args: str) -> None:
    """Run git quietly in a generated repository, failing loudly."""
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                   env={**os.environ, **GIT_ENV})


def premerge_cmd(*args: str) -> list[str]:
    """premerge as a user runs it (the installed console script's interpreter)."""
    return [sys.executable, "-m", "premerge", *args]


def print_table(title: str, rows: Sequence[tuple[str, float]], anchor: str,
                targets: Mapping[str, str] | None = None) -> None:
    """Rows of (label, seconds) with each row's ratio to the ``anchor`` row."""
    base = dict(rows)[anchor]
    print(f"\n{title}")
    print(f"{'':<36}{'seconds':>10}{'ratio':>10}  target")
    for label, seconds in rows:
        ratio = seconds / base if base else float("nan")
        target = (targets or {}).get(label, "")
        print(f"{label:<36}{seconds:>10.3f}{ratio:>9.2f}x  {target}")


def service_lines(helper: str, cls: str, deps: Sequence[str],
                  extra_methods: Sequence[str] = ()) -> list[str]:
    """The body both generated corpora give each module after its helper: a class that uses
    ``helper``, then one function per first-party dependency that calls that module's helper."""
    lines = [
        f"class {cls}:",
        "    def __init__(self, size: int = 3) -> None:",
        "        self.items = list(range(size))",
        "",
        "    def total(self) -> int:",
        f"        return sum({helper}(i) for i in self.items)",
        "",
        *extra_methods,
        "    @staticmethod",
        "    def parse(text: str) -> list[str]:",
        "        return [part.strip() for part in text.split(',') if part]",
        "",
        "",
    ]
    for dep in deps:
        name = dep.rsplit(".", 1)[-1]
        lines += [f"def use_{name}(value: int) -> int:", f"    return helper_{name}(value)", "",
                  ""]
    return lines
