"""The child's cached ``realpath``: per directory for speed, and still exactly ``realpath``.

Whether a loaded module is first-party (inside the repository) is decided with it, so a
symlink anywhere in the path -- a linked checkout, a file linked into site-packages as
``flit install --symlink`` does -- must resolve as ``os.path.realpath`` resolves it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from premerge.smoke import child


@pytest.fixture()
def tree(tmp_path: Path) -> Path:
    (tmp_path / "real" / "sub").mkdir(parents=True)
    (tmp_path / "real" / "sub" / "mod.py").write_text("")
    (tmp_path / "link").symlink_to(tmp_path / "real")  # a linked directory
    (tmp_path / "filelink.py").symlink_to(tmp_path / "real" / "sub" / "mod.py")  # a linked file
    (tmp_path / "rel").symlink_to("real/sub")  # a relative link
    (tmp_path / "real" / "sub" / "up").symlink_to("..")  # a link that climbs
    return tmp_path


@pytest.mark.parametrize("relative", [
    "link/sub/mod.py", "filelink.py", "rel/mod.py", "real/sub/../sub/mod.py", "link/sub/",
    "real/sub/up/sub/mod.py", "missing/dir/x.py", "real/./sub/mod.py", ".",
])
def test_real_is_realpath(tree: Path, relative: str) -> None:
    path = os.path.join(str(tree), relative)
    child._REAL.clear()
    assert child._real(path) == os.path.normcase(os.path.realpath(path))
    # and again from a warm cache, after its directories were cached by another lookup
    child._real(os.path.join(str(tree), "link", "sub", "mod.py"))
    assert child._real(path) == os.path.normcase(os.path.realpath(path))


def test_relative_paths_resolve_against_the_working_directory(tree: Path,
                                                              monkeypatch: pytest.MonkeyPatch
                                                              ) -> None:
    monkeypatch.chdir(tree / "link")
    child._REAL.clear()
    assert child._real("sub/mod.py") == os.path.realpath("sub/mod.py")
    assert child._real("sub/mod.py").startswith(os.path.realpath(tree / "real"))
