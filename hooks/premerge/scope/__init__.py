"""The scope check (placeholder until its issue lands)."""

from __future__ import annotations

from collections.abc import Sequence

from premerge.check import CheckResult
from premerge.config import Config


def run(config: Config, paths: Sequence[str]) -> CheckResult:
    return CheckResult()
