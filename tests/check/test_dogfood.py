"""The project passes its own checks, with its own manifest (issue 5, item 6)."""

from __future__ import annotations

import io
import json

from tests.conftest import ROOT, run_premerge


def test_premerge_check_on_this_repository_exits_0() -> None:
    proc = run_premerge("check", "--no-cache", "--format", "json", cwd=ROOT)
    report = json.loads(proc.stdout) if proc.stdout.strip() else {}
    failing = [f"{f['path']}:{f['line']}: {f['code']} {f['message']}"
               for f in report.get("findings", []) if f["severity"] == "error"]
    assert proc.returncode == 0, "\n".join(failing) or proc.stderr
    assert report["summary"]["files"] > 0


def test_this_repository_declares_what_it_needs() -> None:
    """premerge.yaml exists and its files check passes on its own entries."""
    assert (ROOT / "premerge.yaml").is_file()
    proc = run_premerge("files", "--no-cache", "--format", "json", cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert json.loads(proc.stdout)["findings"] == []


def test_pyflakes_finds_nothing_in_the_package_scripts_and_tests() -> None:
    """premerge's own code passes the peer it aims to replace: an unused import or an
    undefined name here is a defect (fixture trees that are broken on purpose are not code)."""
    from pyflakes.api import checkRecursive  # noqa: PLC0415  (test dependency)
    from pyflakes.reporter import Reporter  # noqa: PLC0415

    out, err = io.StringIO(), io.StringIO()
    paths = [str(p) for area in ("hooks", "scripts", "tests") for p in (ROOT / area).rglob("*.py")
             if "golden" not in p.parts and "fixtures" not in p.parts]
    assert paths
    count = checkRecursive(paths, Reporter(out, err))
    assert count == 0, out.getvalue() + err.getvalue()
