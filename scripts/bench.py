#!/usr/bin/env python3
"""Benchmarks: premerge side by side with its anchors, on real corpora, printing ratios.

    python scripts/bench.py scope     # vs pyflakes (and ruff where installed) on the stdlib
    python scripts/bench.py files     # a 10,000-file repository with a 20-entry manifest
    python scripts/bench.py smoke     # a generated 150+ module project vs naive imports
    python scripts/bench.py check     # check --changed vs the full run; reporters on 10k findings
    python scripts/bench.py scope_fix # scope --fix/--diff on a mutated stdlib (imports moved)
    python scripts/bench.py all

Each benchmark lives in ``scripts/bench_<name>.py`` with ``main(argv) -> int``; shared timing
and table helpers are in ``scripts/benchlib.py``.  Nothing here asserts: it measures and prints.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence
from pathlib import Path

BENCHES = ("scope", "files", "smoke", "check", "scope_fix")


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(__doc__)
        return 0 if args else 2
    name, rest = args[0], args[1:]
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    names = BENCHES if name == "all" else (name,)
    if any(n not in BENCHES for n in names):
        print(f"bench.py: unknown benchmark {name!r}; choose from {', '.join(BENCHES)}, all",
              file=sys.stderr)
        return 2
    status = 0
    for bench in names:
        module = importlib.import_module(f"bench_{bench}")
        status |= module.main(rest)
    return status


if __name__ == "__main__":
    raise SystemExit(main())
