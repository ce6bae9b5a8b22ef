"""premerge.cache on its own: keys that change with everything that decides an answer, JSON
entries only this user can read, and damage that is a miss, never an error."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

import premerge.cache as cache_module
from premerge.cache import Cache, cache_dir


def test_an_entry_round_trips_as_json_readable_only_by_its_owner() -> None:
    cache = Cache("scope")
    key = cache.key(b"x = 1\n", "a.py")
    assert cache.get(key) is None
    cache.put(key, {"findings": [], "path": "a.py"})
    assert cache.get(key) == {"findings": [], "path": "a.py"}
    [entry] = [p for p in cache.directory.rglob("*") if p.is_file()]
    assert json.loads(entry.read_text(encoding="utf-8")) == {"findings": [], "path": "a.py"}
    assert stat.S_IMODE(entry.stat().st_mode) == 0o600
    assert entry.is_relative_to(cache_dir() / "scope")


def test_the_key_changes_with_content_namespace_salt_extra_and_version(
        monkeypatch: pytest.MonkeyPatch) -> None:
    base = Cache("scope", salt="s").key(b"x", "a.py")
    others = {
        Cache("scope", salt="s").key(b"y", "a.py"),
        Cache("smoke", salt="s").key(b"x", "a.py"),
        Cache("scope", salt="t").key(b"x", "a.py"),
        Cache("scope", salt="s").key(b"x", "b.py"),
    }
    monkeypatch.setattr(cache_module, "__version__", "0.0.0-other")
    others.add(Cache("scope", salt="s").key(b"x", "a.py"))
    assert base not in others and len(others) == 5
    monkeypatch.undo()
    assert Cache("scope", salt="s").key(b"x", "a.py") == base  # deterministic


def test_a_disabled_cache_misses_and_writes_nothing() -> None:
    enabled = Cache("scope")
    key = enabled.key(b"x")
    enabled.put(key, [1])
    disabled = Cache("scope", enabled=False)
    assert disabled.get(key) is None
    disabled.put(disabled.key(b"other"), [2])
    assert len([p for p in enabled.directory.rglob("*") if p.is_file()]) == 1


@pytest.mark.parametrize("damage", ["not json {", "", "\udcff"])
def test_a_damaged_entry_is_a_miss(damage: str) -> None:
    cache = Cache("scope")
    key = cache.key(b"x")
    cache.put(key, {"ok": True})
    [entry] = [p for p in cache.directory.rglob("*") if p.is_file()]
    entry.write_bytes(damage.encode("utf-8", "surrogateescape"))
    assert cache.get(key) is None


def test_an_entry_that_is_a_directory_is_a_miss_and_a_failed_write_is_silent() -> None:
    cache = Cache("scope")
    key = cache.key(b"x")
    cache._path(key).mkdir(parents=True)  # where the entry's file would go
    assert cache.get(key) is None
    cache.put(key, {"ok": True})  # cannot replace a directory: a slower run, not an error
    assert cache.get(key) is None


def test_a_value_json_cannot_hold_is_not_written_and_leaves_no_temporary_file() -> None:
    cache = Cache("scope")
    key = cache.key(b"x")
    cache.put(key, {"bad": object()})
    assert cache.get(key) is None
    assert not [p for p in cache.directory.rglob("*") if p.is_file()]


def test_where_the_cache_lives(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PREMERGE_CACHE_DIR", str(tmp_path / "explicit"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "explicit"
    monkeypatch.delenv("PREMERGE_CACHE_DIR")
    assert cache_dir() == tmp_path / "xdg" / "premerge"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_dir() == tmp_path / "home" / ".cache" / "premerge"
    assert os.path.isabs(cache_dir())
