#!/usr/bin/env python3
"""Regenerate README's table of finding codes from the code registry.

    python scripts/readme_rules.py          # rewrite the block between the markers
    python scripts/readme_rules.py --check  # exit 1 when README is out of date (tests use it)

The registry (``premerge.findings.all_rules()``) is the single source: a code's title, severity,
help and example are written once, next to the logic that emits it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
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


def render_block(readme: str, start: str, end: str, body: str) -> str:
    """``readme`` with the text between the markers ``start`` and ``end`` replaced."""
    head, found, rest = readme.partition(start)
    if not found or end not in rest:
        raise SystemExit(f"{README}: markers {start} ... {end} not found")
    _, _, tail = rest.partition(end)
    return f"{head}{start}\n{body}\n{end}{tail}"


def regenerate(render: Callable[[str], str], what: str, script: str,
               argv: Sequence[str] | None = None) -> int:
    """Rewrite README with ``render``, or with ``--check`` exit 1 when it is out of date."""
    args = list(sys.argv[1:] if argv is None else argv)
    current = README.read_text(encoding="utf-8")
    wanted = render(current)
    if "--check" in args:
        if current != wanted:
            print(f"README.md's {what} is out of date: run python scripts/{script}",
                  file=sys.stderr)
            return 1
        return 0
    if current != wanted:
        README.write_text(wanted, encoding="utf-8")
        print(f"README.md: {what} updated")
    return 0


def render(readme: str) -> str:
    return render_block(readme, START, END, table())


def main(argv: Sequence[str] | None = None) -> int:
    return regenerate(render, "code table", "readme_rules.py", argv)


if __name__ == "__main__":
    raise SystemExit(main())
