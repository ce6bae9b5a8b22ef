"""Golden files: one directory per fix shape under ``golden/``.

``<path>.before`` is a file of the fixture repository (not named ``.py``, so neither pytest nor
premerge's own dogfooding run reads the deliberately broken code), ``<path>.after`` the exact
bytes ``premerge scope --fix`` must leave (absent: the file must not change).  ``run.txt``
holds the error the fixture raises before the fix (first line) and the code that raises it;
after the fix the same code must run.  Regenerate the ``.after`` files after an intended
change with ``PREMERGE_UPDATE_GOLDEN=1 pytest tests/scope_fix/test_golden.py`` and review the
diff.
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest

from tests.conftest import run_python
from tests.scope.helpers import last_error
from tests.scope_fix.helpers import codes, scope_run

GOLDEN = Path(__file__).parent / "golden"
CASES = sorted(p.name for p in GOLDEN.iterdir() if p.is_dir())
UPDATE = os.environ.get("PREMERGE_UPDATE_GOLDEN") == "1"


def materialise(case: str, target: Path) -> dict[str, Path]:
    """Copy the ``.before`` files to ``target`` as real files; rel path -> golden source."""
    sources = {}
    for before in sorted((GOLDEN / case).rglob("*.before")):
        rel = before.relative_to(GOLDEN / case).as_posix()[: -len(".before")]
        (target / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(before, target / rel)
        sources[rel] = before
    return sources


def expected_error_and_code(case: str) -> tuple[str, str]:
    first, _, code = (GOLDEN / case / "run.txt").read_text(encoding="utf-8").partition("\n")
    return first.removeprefix("error: ").strip(), code


def test_every_case_has_inputs_and_a_run() -> None:
    assert len(CASES) >= 12
    for case in CASES:
        assert list((GOLDEN / case).rglob("*.before")), case
        assert (GOLDEN / case / "run.txt").is_file(), case


@pytest.mark.parametrize("case", CASES)
def test_golden(case: str, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    sources = materialise(case, repo)
    error, code = expected_error_and_code(case)
    assert last_error(run_python(code, repo)) == error, "the fixture must really fail first"

    result = scope_run(repo, fix=True)

    for rel, before in sources.items():
        after = before.with_name(before.name[: -len(".before")] + ".after")
        actual = (repo / rel).read_bytes()
        if UPDATE:
            if actual != before.read_bytes():
                after.write_bytes(actual)
            elif after.exists():
                after.unlink()
            continue
        expected = after.read_bytes() if after.exists() else before.read_bytes()
        assert actual == expected, f"{rel}:\n{actual.decode('latin-1')}"
    assert any(note.startswith("fixed ") for note in result.notes), result.notes
    remaining = [f for f in result.findings if f.code.startswith("PM1")]
    assert codes(scope_run(repo)) == sorted(f.code for f in remaining)
    proc = run_python(code, repo)
    assert last_error(proc) in (None, "ModuleNotFoundError"), proc.stderr


@pytest.mark.parametrize("case", CASES)
def test_golden_fix_is_idempotent(case: str, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    sources = materialise(case, repo)
    scope_run(repo, fix=True)
    once = {rel: (repo / rel).read_bytes() for rel in sources}
    assert scope_run(repo, diff=True).facts["diff"] == ""
    scope_run(repo, fix=True)
    assert {rel: (repo / rel).read_bytes() for rel in sources} == once


@pytest.mark.parametrize("case", CASES)
def test_diff_shows_the_fix_and_writes_nothing(case: str, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    sources = materialise(case, repo)
    result = scope_run(repo, diff=True)
    for rel, before in sources.items():
        assert (repo / rel).read_bytes() == before.read_bytes()
    diff = str(result.facts["diff"])
    changed = [rel for rel, before in sources.items()
               if before.with_name(before.name[: -len(".before")] + ".after").exists()]
    for rel in changed:
        assert f"--- a/{rel}\n+++ b/{rel}\n" in diff
    assert diff.count("--- a/") == len(changed)
    assert any(f.fix is not None for f in result.findings)


def test_file_mode_is_kept(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    materialise("crlf", repo)
    (repo / "cli.py").chmod(0o751)
    scope_run(repo, fix=True)
    assert stat.S_IMODE((repo / "cli.py").stat().st_mode) == 0o751
    assert sorted(p.name for p in repo.iterdir()) == ["cli.py"]  # no temporary file left
