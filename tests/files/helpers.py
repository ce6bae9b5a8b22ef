"""Helpers for the files check's tests: run `premerge files` and read its JSON."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any


def files_json(run_cli: Callable[..., Any], cwd: Path, *args: str) -> tuple[int, list[dict[str, Any]]]:
    """Exit code and findings of ``premerge files --format json`` run in ``cwd``."""
    result = run_cli("files", "--format", "json", *args, cwd=cwd)
    assert result.code in (0, 1), result.err
    document = json.loads(result.out)
    return result.code, document["findings"]


def codes(findings: list[dict[str, Any]]) -> list[str]:
    return [f["code"] for f in findings]


def only(findings: list[dict[str, Any]], code: str) -> dict[str, Any]:
    matching = [f for f in findings if f["code"] == code]
    assert len(matching) == 1, findings
    return matching[0]
