"""Attack 8: ``scope --fix`` and ``init --force`` wrote through a symlink to a file outside
the repository.  Neither may write through any symlink: the outside file stays as it was (or
absent), the link stays a link, and the user gets one line saying why."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import Repo
from tests.security.helpers import linux_only

pytestmark = linux_only

FIXABLE = "def setup():\n    import json\n    return json\n\n\ndef dump(obj):\n    return json.dumps(obj)\n"


def premerge(repo: Repo, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-I", "-m", "premerge", *args], cwd=repo.path,
                          capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL)


def test_scope_fix_does_not_write_through_a_link_out_of_the_repository(
        make_repo, tmp_path: Path) -> None:
    victim = tmp_path / "victim.py"  # e.g. a file the user owns elsewhere
    victim.write_text(FIXABLE)
    repo = make_repo({"a.py": "X = 1\n"}, commit=False)
    os.symlink(victim, repo.path / "mod.py")
    repo.commit("link out")
    proc = premerge(repo, "scope", "--fix", "mod.py")
    assert victim.read_text() == FIXABLE
    assert (repo.path / "mod.py").is_symlink()
    assert "premerge: mod.py: not fixed: it is a symbolic link, and --fix never writes " \
           "through one" in proc.stderr, proc.stderr
    assert proc.returncode == 1  # the finding stands


def test_init_force_does_not_write_through_a_link(make_repo, tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    absent = tmp_path / "would-be-created.txt"
    for target in (victim, absent):
        repo = make_repo({"a.py": "X = 1\n"})
        os.symlink(target, repo.path / "premerge.yaml")
        for args in (("init", "--force"), ("init",)):
            proc = premerge(repo, *args)
            lines = proc.stderr.strip().splitlines()
            assert proc.returncode == 2 and lines == [
                "premerge: error: premerge.yaml is a symbolic link; premerge init never "
                "writes through one: remove it first"], proc.stderr
    assert victim.read_text() == "precious\n"
    assert not absent.exists()
