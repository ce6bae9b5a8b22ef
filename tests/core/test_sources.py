"""Reading, decoding, discovery, globs and noqa: the shared plumbing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from premerge.findings import noqa_codes
from premerge.sources import SourceError, discover_python_files, matches_any, read_source
from tests.conftest import git


@pytest.mark.parametrize(("path", "patterns", "expected"), [
    ("tests/test_a.py", ["tests/**"], True),
    ("tests/test_a.py", ["tests"], True),
    ("src/tests/test_a.py", ["tests"], True),        # no slash: any depth, like .gitignore
    ("src/tests/test_a.py", ["/tests"], False),
    ("a/b/c.py", ["a/**/c.py"], True),
    ("a/c.py", ["a/**/c.py"], True),
    ("a/b/c.py", ["a/*.py"], False),
    ("scheduler_backups/x/y.py", ["scheduler_backups/**"], True),
    ("x.pyc", ["*.py"], False),
])
def test_globs(path: str, patterns: list[str], expected: bool) -> None:
    assert matches_any(path, patterns) is expected


def test_decoding_honours_cookie_and_bom(tmp_path: Path) -> None:
    latin = tmp_path / "latin.py"
    latin.write_bytes(b"# -*- coding: latin-1 -*-\nname = '\xe9'\n")
    assert "é" in read_source(str(latin)).text
    bom = tmp_path / "bom.py"
    bom.write_bytes(b"\xef\xbb\xbfx = 1\r\n")
    source = read_source(str(bom))
    assert source.bom and source.text == "x = 1\r\n" and source.newline == "\r\n"


@pytest.mark.parametrize(("content", "code"), [
    (b"x = 1\x00\n", "PM003"),
    (b"x = '\xff'\n", "PM003"),
    (b"# coding: nonsense-codec\nx = 1\n", "PM003"),
])
def test_bad_bytes_become_findings(tmp_path: Path, content: bytes, code: str) -> None:
    target = tmp_path / "bad.py"
    target.write_bytes(content)
    with pytest.raises(SourceError) as info:
        read_source(str(target))
    assert info.value.finding.code == code


def test_dangling_and_looping_symlinks(tmp_path: Path) -> None:
    (tmp_path / "dangling.py").symlink_to(tmp_path / "nowhere.py")
    (tmp_path / "loop_a.py").symlink_to(tmp_path / "loop_b.py")
    (tmp_path / "loop_b.py").symlink_to(tmp_path / "loop_a.py")
    for name in ("dangling.py", "loop_a.py"):
        with pytest.raises(SourceError) as info:
            read_source(str(tmp_path / name))
        assert info.value.finding.code == "PM001"


def _touch(root: Path, *relpaths: str) -> None:
    for rel in relpaths:
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("x = 1\n")


def test_discovery_outside_git_skips_vcs_venvs_caches_build_and_excludes(tmp_path: Path
                                                                        ) -> None:
    _touch(tmp_path, "pkg/a.py", "pkg/sub/b.py", ".hidden/c.py", "env/lib/d.py",
           "build_out/e.py", "__pycache__/f.py", "notes.txt", ".git/hooks/g.py",
           ".hg/h.py", ".tox/py/i.py", ".mypy_cache/j.py", "node_modules/k/l.py",
           "build/lib/pkg/a.py", "dist/m.py", "pkg.egg-info/n.py", ".claude/hooks/o.py")
    (tmp_path / "env" / "pyvenv.cfg").write_text("home = /usr\n")
    os.symlink(tmp_path / "pkg", tmp_path / "pkg_link")
    files, problems = discover_python_files([], tmp_path.as_posix(), ["build_out"])
    rel = [Path(f).relative_to(tmp_path).as_posix() for f in files]
    assert rel == [".claude/hooks/o.py", ".hidden/c.py", "pkg/a.py", "pkg/sub/b.py"]
    assert problems == []


def test_discovery_in_git_skips_what_git_ignores(tmp_path: Path) -> None:
    """A ``build/`` copy of the package in .gitignore is not the project's; a tracked ``build``
    package and dot-directories with code are."""
    git(tmp_path, "init", "-q")
    _touch(tmp_path, "pkg/a.py", "build/lib/pkg/a.py", "src/build/__init__.py", "logs/x.py",
           ".claude/hooks/guard.py", "notes/ignored_one.py", ".venv/lib/v.py")
    (tmp_path / ".gitignore").write_text("/build/\nlogs/\nignored_one.py\n")
    files, _ = discover_python_files([], tmp_path.as_posix())
    rel = [Path(f).relative_to(tmp_path).as_posix() for f in files]
    assert rel == [".claude/hooks/guard.py", "pkg/a.py", "src/build/__init__.py"]
    # a directory PATH asks git about that directory; an explicit file is kept (the user
    # named it)
    files, _ = discover_python_files([tmp_path / "build"], tmp_path.as_posix())
    assert files == []
    files, _ = discover_python_files([tmp_path / "build/lib/pkg/a.py"], tmp_path.as_posix())
    assert len(files) == 1


def test_discovery_reports_missing_path(tmp_path: Path) -> None:
    files, problems = discover_python_files([tmp_path / "nope.py"], tmp_path.as_posix())
    assert files == [] and [p.code for p in problems] == ["PM001"]


@pytest.mark.parametrize(("line", "expected"), [
    ("x = y  # noqa", {"*"}),
    ("x = y  # noqa: PM101", {"PM101"}),
    ("x = y  # NOQA:PM101,PM102", {"PM101", "PM102"}),
    ("x = y  # noqa: E501 PM105", {"E501", "PM105"}),
    ("x = y", None),
])
def test_noqa_parsing(line: str, expected: set[str] | None) -> None:
    assert noqa_codes(line) == expected


def _decoded_as_tokenize_does(raw: bytes) -> tuple[str, str] | str:
    """The reference: tokenize.detect_encoding, then the body decoded with that codec."""
    import io
    import tokenize

    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(raw).readline)
        body = raw[3:] if raw.startswith(b"\xef\xbb\xbf") else raw
        return encoding, body.decode("utf-8" if encoding == "utf-8-sig" else encoding)
    except (SyntaxError, LookupError, UnicodeDecodeError):
        return "error"


@pytest.mark.parametrize("raw", [
    b"x = 1\n", b"", b"\n\n", b"x = '\xc3\xa9'\n", b"\xef\xbb\xbfx = 1\n",
    b"# -*- coding: latin-1 -*-\nx = '\xe9'\n", b"#!/usr/bin/env python\n# coding=cp1252\n\x80\n",
    b"\n\n# coding: latin-1\nx = '\xc3\xa9'\n",  # a cookie on line 3 is no cookie
    b"x = '\xe9'\n", b"\xe9 = 1\n", b"# coding: nonsense\n", b"x = 1\r# coding: latin-1\r\xe9\r",
    b"\xef\xbb\xbf# coding: latin-1\n", b"s = 'decoding'\nx = '\xc3\xa9'\n",
])
def test_decoding_matches_tokenize(tmp_path: Path, raw: bytes) -> None:
    # the fast path (no BOM, no "coding" in the first two lines, valid UTF-8) must answer what
    # tokenize.detect_encoding answers; everything else goes through tokenize itself
    path = tmp_path / "m.py"
    path.write_bytes(raw)
    expected = _decoded_as_tokenize_does(raw)
    try:
        source = read_source(str(path))
    except SourceError as exc:
        assert expected == "error", exc.finding.message
        assert exc.finding.code == "PM003"
        return
    assert (source.encoding, source.text) == expected
