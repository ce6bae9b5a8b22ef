"""`python -m premerge` runs the same CLI as the console script."""

from __future__ import annotations

from premerge.cli import entry

if __name__ == "__main__":
    raise SystemExit(entry())
