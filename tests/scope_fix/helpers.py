"""Shared helpers for the autofix tests: run the real scope check with --fix / --diff."""

from __future__ import annotations

from pathlib import Path

from premerge.config import Config
from premerge.findings import CheckResult
from premerge.scope import run


def scope_run(root: Path, *paths: Path, fix: bool = False, diff: bool = False) -> CheckResult:
    """``premerge scope [--fix|--diff] PATHS`` through the check's real entry point."""
    config = Config(root=root)
    config.run.use_cache = False
    config.run.fix = fix
    config.run.diff = diff
    return run(config, [str(p) for p in paths] or [str(root)])


def codes(result: CheckResult) -> list[str]:
    return sorted(f.code for f in result.findings if f.code.startswith("PM1"))
