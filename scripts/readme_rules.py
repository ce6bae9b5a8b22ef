#!/usr/bin/env python3
"""Regenerate README's table of finding codes from the code registry.

    python scripts/readme_rules.py          # rewrite the block between the markers
    python scripts/readme_rules.py --check  # exit 1 when README is out of date (tests use it)

The registry (``premerge.findings.all_rules()``) is the single source: a code's title, severity,
help and example are written once, next to the logic that emits it.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"
START, END = "<!-- rules:start -->", "<!-- rules:end -->"


def _cell(text: str) -> str:
    """One Markdown table cell: pipes escaped, newlines folded, code kept inline."""
    return text.strip().replace("|", "\\|").replace("\n", "<br>")


def _example(text: str) -> str:
    if not text:
        return ""
    lines = [line for line in text.strip().splitlines() if line.strip()]
    shown = "; ".join(line.strip() for line in lines[:3])
    if len(lines) > 3:
        shown += "; ..."
    return f"`{shown.replace('`', '')}`"


def table() -> str:
    from premerge.findings import all_rules  # noqa: PLC0415

    rows = ["| code | severity | meaning | example |", "|---|---|---|---|"]
    for rule in all_rules().values():
        meaning = f"**{_cell(rule.title)}**: {_cell(rule.help)}"
        rows.append(f"| `{rule.code}` | {rule.severity.value} | {meaning} | "
                    f"{_cell(_example(rule.example))} |")
    return "\n".join(rows)


def render(readme: str) -> str:
    head, found, rest = readme.partition(START)
    if not found or END not in rest:
        raise SystemExit(f"{README}: markers {START} ... {END} not found")
    _, _, tail = rest.partition(END)
    return f"{head}{START}\n{table()}\n{END}{tail}"


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    current = README.read_text(encoding="utf-8")
    wanted = render(current)
    if "--check" in args:
        if current != wanted:
            print("README.md's code table is out of date: run python scripts/readme_rules.py",
                  file=sys.stderr)
            return 1
        return 0
    if current != wanted:
        README.write_text(wanted, encoding="utf-8")
        print("README.md: code table updated")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
