"""README's opening: the "What it catches" output is real (regenerated and compared), and the
set-up snippets are the ones the quality gates validate in the "In CI" section."""

from __future__ import annotations

import re
import subprocess
import sys

from tests.conftest import ROOT


def test_readme_examples_are_what_premerge_prints() -> None:
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "readme_examples.py"),
                           "--check"], capture_output=True, text=True, timeout=600,
                          check=False)
    assert proc.returncode == 0, proc.stderr


def _section(text: str, heading: str) -> str:
    start = text.index(heading)
    end = text.find("\n## ", start + 1)
    return text[start:end if end != -1 else None]


def test_set_up_snippets_are_the_validated_ones() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    top = re.findall(r"```yaml\n(.*?)```", _section(readme, "## Set it up"), re.S)
    validated = re.findall(r"```yaml\n(.*?)```", _section(readme, "## In CI: the GitHub Action"),
                           re.S)
    pre_commit, workflow = top
    assert pre_commit in validated
    assert workflow.split("\n", 1)[1] == validated[0]  # less its "# .github/workflows" line
    assert readme.index("## What it catches") < readme.index("## Set it up") \
        < readme.index("## The two commands")
    # every check has its example, with the output a reader would see
    examples = _section(readme, "## What it catches")
    for command in ("scope", "files", "smoke"):
        assert f"$ premerge {command}\n" in examples
    assert "... and 6 more modules (see --format json)" in examples
