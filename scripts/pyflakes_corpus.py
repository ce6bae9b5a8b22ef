#!/usr/bin/env python3
"""Extract pyflakes' own name-binding test snippets into premerge's test data.

    python scripts/pyflakes_corpus.py     # rewrite tests/scope/data/pyflakes_snippets.json

pyflakes (MIT) installs its tests; ``test_undefined_names.py`` and ``test_imports.py`` call
``self.flakes(source, *expected_message_classes)``.  Every call whose source is a literal is kept
with what pyflakes expects: ``undefined`` counts its UndefinedName / UndefinedLocal /
UndefinedExport messages (0 means pyflakes expects no undefined name there).  Tests pyflakes
itself skips (``@skip``: known false negatives it does not pass) are kept apart, marked
``skipped``.  The JSON is stored in the repository so the agreement test runs offline.
"""

from __future__ import annotations

import ast
import json
import sys
from collections.abc import Sequence
from pathlib import Path

OUT = (Path(__file__).resolve().parent.parent / "tests" / "scope" / "data"
       / "pyflakes_snippets.json")
FILES = ("test_undefined_names.py", "test_imports.py")
UNDEFINED = {"UndefinedName", "UndefinedLocal", "UndefinedExport"}


def _literal(node: ast.expr) -> str | None:
    try:
        value = ast.literal_eval(node)
    except ValueError:
        return None
    return value if isinstance(value, str) else None


def _resolve(node: ast.expr, func: ast.FunctionDef) -> str | None:
    """A literal, or a name the test function assigns a literal (``code = '''...'''``) or
    loops over literals (``for filename in [...]``: the first)."""
    if not isinstance(node, ast.Name):
        return _literal(node)
    for stmt in ast.walk(func):
        if isinstance(stmt, ast.Assign) and any(isinstance(t, ast.Name) and t.id == node.id
                                                for t in stmt.targets):
            return _literal(stmt.value)
        if isinstance(stmt, ast.For) and isinstance(stmt.target, ast.Name) and \
                stmt.target.id == node.id and isinstance(stmt.iter, (ast.List, ast.Tuple)) \
                and stmt.iter.elts:
            return _literal(stmt.iter.elts[0])
    return None


def _skipped(func: ast.FunctionDef) -> bool:
    """``@skip(...)``: a test pyflakes never runs.  (``@skipIf`` is version-dependent: kept,
    and parsed at test time.)"""
    for decorator in func.decorator_list:
        call = decorator.func if isinstance(decorator, ast.Call) else decorator
        if isinstance(call, ast.Name) and call.id == "skip":
            return True
    return False


def extract(path: Path) -> list[dict[str, object]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: list[dict[str, object]] = []
    for cls in tree.body:
        if not isinstance(cls, ast.ClassDef):
            continue
        for func in cls.body:
            if not isinstance(func, ast.FunctionDef) or not func.name.startswith("test"):
                continue
            index = 0
            for node in ast.walk(func):
                if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                        and node.func.attr == "flakes" and node.args):
                    continue
                source = _resolve(node.args[0], func)
                if source is None:
                    continue
                messages = sorted(arg.attr for arg in node.args[1:]
                                  if isinstance(arg, ast.Attribute))
                keywords = {k.arg: k.value for k in node.keywords}
                filename = _resolve(keywords["filename"], func) if "filename" in keywords \
                    else None
                index += 1
                out.append({
                    "id": f"{path.stem}::{cls.name}.{func.name}#{index}",
                    "line": node.lineno,
                    "source": source,
                    "messages": messages,
                    "undefined": sum(1 for name in messages if name in UNDEFINED),
                    "skipped": _skipped(func),
                    "segment": "is_segment" in keywords,
                    "filename": filename,
                })
    return out


def main(argv: Sequence[str] | None = None) -> int:
    import pyflakes
    import pyflakes.test

    here = Path(pyflakes.test.__file__).parent
    snippets = [s for name in FILES for s in extract(here / name)]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({"pyflakes": pyflakes.__version__, "files": list(FILES),
                               "snippets": snippets}, indent=1) + "\n", encoding="utf-8")
    print(f"{OUT}: {len(snippets)} snippets from pyflakes {pyflakes.__version__}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
