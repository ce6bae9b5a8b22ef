"""Issue 12 item 1: smoke imports from a pristine snapshot, never from the user's tree.

Hostile modules delete a tracked file, rewrite one and restore its mtime, append to the
``.git/config`` they find by walking up from their own file, and create files: the user's
working tree and ``.git`` stay byte-identical, and PM311 names every write.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from tests.conftest import git
from tests.smoke.helpers import git_repo, smoke

HOSTILE = {
    # imported even while the classifier calls such writes "script effects" (PM312)
    "premerge.yaml": "smoke:\n  run_scripts: [deleter.py, rewriter.py, gitplant.py, "
                     "creator.py]\n",
    ".gitignore": "ignored.txt\n",
    "data.txt": "tracked data\n",
    "keep.txt": "original\n",
    "deleter.py": """\
        from pathlib import Path
        (Path(__file__).parent / "data.txt").unlink()
        """,
    "rewriter.py": """\
        import os
        from pathlib import Path
        target = Path(__file__).parent / "keep.txt"
        before = target.stat()
        target.write_text("tampered")  # the same size as "original\\n" minus one byte
        target.write_text("tampere\\n")  # now exactly as long as before
        os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))
        """,
    "gitplant.py": """\
        from pathlib import Path
        here = Path(__file__).resolve().parent
        for directory in (here, *here.parents):
            config = directory / ".git" / "config"
            if config.is_file():
                with config.open("a") as handle:
                    handle.write("[core]\\n\\tfsmonitor = true\\n")
                FOUND = str(config)
                break
        """,
    "creator.py": """\
        from pathlib import Path
        here = Path(__file__).parent
        (here / "new_dir").mkdir()
        (here / "new_dir" / "created.txt").write_text("x")
        (here / "created.log").write_text("y")
        """,
    "peek.py": """\
        import os
        raise RuntimeError("listing: " + " ".join(sorted(os.listdir(os.path.dirname(__file__)))))
        """,
    "broken.py": "VALUE = undefined_name\n",
}


def _fingerprint(root: Path) -> dict[str, str]:
    """Every file under ``root`` (``.git`` included) and its content hash and mode."""
    out = {}
    for directory, _dirs, files in os.walk(root):
        for name in files:
            path = Path(directory, name)
            if path.is_symlink():
                out[str(path.relative_to(root))] = "-> " + os.readlink(path)
                continue
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            out[str(path.relative_to(root))] = f"{digest} {oct(path.stat().st_mode)}"
    return out


def test_smoke_hostile_imports_leave_the_tree_and_git_byte_identical(tmp_path: Path) -> None:
    repo = git_repo(tmp_path / "repo", HOSTILE)
    (repo / "notes.txt").write_text("untracked, not ignored\n")
    (repo / "ignored.txt").write_text("ignored by git\n")
    git(repo, "update-index", "--refresh", check=False)  # git's own stat cache, settled first
    before = _fingerprint(repo)
    mtimes = {rel: (repo / rel).stat().st_mtime_ns for rel in ("data.txt", "keep.txt")}

    run = smoke(repo)

    assert _fingerprint(repo) == before
    assert {rel: (repo / rel).stat().st_mtime_ns for rel in mtimes} == mtimes
    writes = {f["path"]: f["message"] for f in run.findings if f["code"] == "PM311"}
    assert "data.txt (deleted)" in writes["deleter.py"]
    assert "keep.txt (modified)" in writes["rewriter.py"]
    assert "created.log (created)" in writes["creator.py"]
    assert "new_dir/created.txt (created)" in writes["creator.py"]
    assert "gitplant.py" not in writes  # no .git in the snapshot, nor above it
    # exactly what is checked: tracked and untracked-not-ignored files, no .git
    [peek] = run.by_path("peek.py")
    listing = peek["message"].split("listing: ")[1].split()
    assert {"keep.txt", "notes.txt", "peek.py", ".gitignore"} <= set(listing)
    assert "ignored.txt" not in listing and ".git" not in listing
    # findings name the user's files, never the snapshot's
    assert run.codes("broken.py") == ["PM306"]
    for finding in run.findings:
        text = repr(finding)
        assert "premerge-smoke-" not in text, finding
