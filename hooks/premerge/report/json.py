"""``--format json``: the contract's document, version 1."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence

from premerge.findings import Finding
from premerge.report import ReportContext


def document(findings: Sequence[Finding], context: ReportContext) -> dict[str, object]:
    return {
        "version": 1,
        "tool": {"name": "premerge", "version": context.version},
        "findings": [
            f.to_json(display_path=context.display_path(f.path),
                      related_paths=[context.display_path(r.path) for r in f.related])
            for f in findings
        ],
        "summary": {
            "files": context.files,
            "findings": len(findings),
            "by_code": dict(sorted(Counter(f.code for f in findings).items())),
            "seconds": round(context.seconds, 3),
        },
    }


def render(findings: Sequence[Finding], context: ReportContext) -> str:
    return json.dumps(document(findings, context), indent=2) + "\n"
