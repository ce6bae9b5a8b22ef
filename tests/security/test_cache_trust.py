"""Attack 4: the cache trusted whatever it found.

Another user who can write the cache directory replaced entries with "no findings" and the
next run printed no findings and exited 0; a planted link at the temporary file's name made
premerge overwrite a file of the user's; an entry of 100,000 nested brackets ended the run with
exit 2.  Each replay runs the real CLI on a real repository with a real bug: the bug must still
be reported, with at most one note about the cache on stderr.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from premerge.cache import Cache
from tests.conftest import Repo, run_premerge
from tests.security.helpers import linux_only

pytestmark = linux_only

BUGGY = "def setup():\n    import json\n    return json\n\n\ndef dump(obj):\n    return json.dumps(obj)\n"
NOBODY = 65534


def _entries(cache: Path) -> list[Path]:
    return [p for p in cache.rglob("*.json") if p.is_file()]


def _clean(value: object) -> object:
    """The entry as a forger writes it: every list of findings emptied."""
    if isinstance(value, dict):
        return {k: [] if k == "findings" else _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


@pytest.fixture
def warmed(make_repo) -> tuple[Repo, Path]:
    """A repository with one scope bug, its verdict cached by a first run."""
    repo = make_repo({"mod.py": BUGGY})
    cache = Path(os.environ["PREMERGE_CACHE_DIR"])
    first = run_premerge("scope", "mod.py", cwd=repo.path)
    assert first.returncode == 1 and "PM101" in first.stdout, first.stdout + first.stderr
    assert _entries(cache)
    return repo, cache


def _forge(cache: Path, text: str | None = None) -> None:
    for entry in _entries(cache):
        forged = text if text is not None else json.dumps(_clean(json.loads(entry.read_text())))
        entry.write_text(forged)


def _still_reported(repo: Repo, note: str | None) -> None:
    proc = run_premerge("scope", "mod.py", cwd=repo.path)
    assert proc.returncode == 1 and "PM101" in proc.stdout, proc.stdout + proc.stderr
    notes = [line for line in proc.stderr.splitlines() if "cache" in line]
    if note is None:
        assert notes == [], proc.stderr
    else:
        assert len(notes) == 1 and note in notes[0], proc.stderr
        assert notes[0].startswith("premerge: note: not using the cache at ")


def test_a_cache_owned_by_someone_else_is_not_trusted(warmed) -> None:
    repo, cache = warmed
    _forge(cache)
    for path in (cache, *cache.rglob("*")):
        os.chown(path, NOBODY, NOBODY)
    _still_reported(repo, f"it is owned by uid {NOBODY}, not by this user")


def test_a_cache_others_can_write_is_not_trusted(warmed) -> None:
    repo, cache = warmed
    _forge(cache)
    cache.chmod(0o777)
    _still_reported(repo, "other users can write to it")


def test_an_entry_owned_by_someone_else_is_not_trusted(warmed) -> None:
    repo, cache = warmed
    _forge(cache)
    for entry in _entries(cache):
        os.chown(entry, NOBODY, NOBODY)
    _still_reported(repo, f"it is owned by uid {NOBODY}, not by this user")


@pytest.mark.parametrize("damage", ["[" * 100_000, '{"findings": 5, "deps": {}}',
                                    '{"findings": [{"code": 1}], "deps": {"x": "y"}}',
                                    '{"path": 3, "findings": [[]]}'])
def test_an_entry_that_does_not_parse_within_bounds_is_a_miss(warmed, damage: str) -> None:
    repo, cache = warmed
    _forge(cache, damage)
    _still_reported(repo, None)


def test_the_cache_is_created_private(make_repo, tmp_path: Path, monkeypatch) -> None:
    cache = tmp_path / "fresh" / "premerge"
    monkeypatch.setenv("PREMERGE_CACHE_DIR", str(cache))
    repo = make_repo({"mod.py": BUGGY})
    assert run_premerge("scope", "mod.py", cwd=repo.path).returncode == 1
    directories = [cache, *(p for p in cache.rglob("*") if p.is_dir())]
    assert len(directories) >= 3
    assert {stat.S_IMODE(d.stat().st_mode) for d in directories} == {0o700}
    assert {stat.S_IMODE(p.stat().st_mode) for p in _entries(cache)} == {0o600}


def test_a_planted_link_at_the_temporary_name_is_never_written_through(
        tmp_path: Path, monkeypatch) -> None:
    """The temporary's name is made predictable here (pid and random part pinned) to plant
    a link at it: the O_EXCL|O_NOFOLLOW create fails, and the user's file is untouched."""
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    cache = Cache("scope")
    key = cache.key(b"x")
    entry = cache._path(key)
    entry.parent.mkdir(parents=True, mode=0o700)
    monkeypatch.setattr(os, "getpid", lambda: 4242)
    monkeypatch.setattr(os, "urandom", lambda n: b"\0" * n)
    for name in (f".tmp-4242-{entry.name}", f".tmp-4242-{'00' * 6}-{entry.name}"):
        os.symlink(victim, entry.parent / name)
    cache.put(key, {"findings": []})
    assert victim.read_text() == "precious\n"
    assert cache.get(key) is None
