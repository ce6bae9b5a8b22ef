"""The code registry is the single source for README's table, `premerge rules` and SARIF."""

from __future__ import annotations

import re
import subprocess
import sys

from premerge.findings import all_rules, family_of
from tests.conftest import ROOT


def test_every_rule_is_complete() -> None:
    rules = all_rules()
    assert rules, "no rules registered"
    for code, rule in rules.items():
        assert re.fullmatch(r"PM[0-3]\d\d", code), code
        assert rule.title and rule.help and rule.template, f"{code} lacks title/help/template"
        assert family_of(code) in {"input", "scope", "files", "smoke"}


def test_readme_table_is_generated_from_registry() -> None:
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "readme_rules.py"), "--check"],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for code in all_rules():
        assert f"| `{code}` |" in readme, f"{code} missing from README"
