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
