"""The running interpreter's standard library: analysed with no crash, and (issue item 7) with
few findings, every one of which was looked at (see the scope section of README)."""

from __future__ import annotations

import sysconfig
from collections import Counter
from pathlib import Path

import pytest

from tests.scope.helpers import scope_findings

#: test packages are excluded, as in scripts/bench_scope.py (deliberately broken code)
EXCLUDE = ["test", "tests", "idle_test", "site-packages", "dist-packages"]


@pytest.mark.slow
def test_whole_stdlib_analysed_without_crash_and_nearly_silent(tmp_path: Path) -> None:
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    from premerge.config import Config
    from premerge.scope import run

    config = Config(root=stdlib)
    config.scope.exclude = EXCLUDE
    config.run.use_cache = False
    result = run(config, [str(stdlib)])
    assert result.files > 500
    counts = Counter(f.code for f in result.findings)
    assert counts["PM009"] == 0, [f for f in result.findings if f.code == "PM009"]
    reported = [f for f in result.findings if f.severity.value in ("error", "warning")
                and f.code.startswith("PM1")]
    assert len(reported) <= 30, [(f.path, f.line, f.code, f.message) for f in reported]
