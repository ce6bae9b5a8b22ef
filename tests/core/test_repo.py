"""premerge.repo on its own, against real git repositories and worktrees: what is tracked,
changed, ignored and where the worktrees are, and one-line errors for what git refuses."""

from __future__ import annotations

from pathlib import Path

import pytest

from premerge.repo import GitError, Repository, find_root
from tests.conftest import Repo


def test_find_root_from_a_file_a_subdirectory_and_outside_a_repository(
        make_repo, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    repo: Repo = make_repo({"pkg/mod.py": "x = 1\n"})
    assert find_root(repo.path / "pkg" / "mod.py") == repo.path
    assert find_root(repo.path / "pkg") == repo.path
    outside = tmp_path / "plain"
    outside.mkdir()
    assert find_root(outside) is None
    assert Repository.discover(outside) is None


def test_tracked_untracked_ignored_and_changed_in_the_work_tree(make_repo) -> None:  # type: ignore[no-untyped-def]
    repo: Repo = make_repo({"a.py": "a = 1\n", "pkg/b.py": "b = 1\n", ".gitignore": "*.log\nbuild/\n",
                            "gone.py": "g = 1\n"})
    repo.write("new.py", "n = 1\n")
    repo.write("debug.log", "x\n")
    repo.write("build/out.txt", "x\n")
    repo.write("a.py", "a = 2  # edited\n")
    (repo.path / "gone.py").unlink()
    tree = Repository(repo.path)
    assert tree.tracked_files == {"a.py", "pkg/b.py", ".gitignore", "gone.py"}
    assert tree.is_tracked("pkg/b.py") and not tree.is_tracked("new.py")
    assert tree.tracked_dirs == {"pkg"}
    assert tree.untracked_files() == ["new.py"]
    assert tree.ignored(["debug.log", "new.py", "build/out.txt"]) == {"debug.log",
                                                                        "build/out.txt"}
    assert sorted(tree.ignored_paths()) == ["build/", "debug.log"]
    source, line, pattern = tree.ignore_sources(["debug.log"])["debug.log"]
    assert (Path(source).name, line, pattern) == (".gitignore", 1, "*.log")
    modified, deleted = tree.worktree_changes
    assert (modified, deleted) == ({"a.py"}, {"gone.py"})
    assert len(tree.index["a.py"]) in (40, 64)  # the staged blob's id


def test_changed_files_since_the_merge_base(make_repo) -> None:  # type: ignore[no-untyped-def]
    repo: Repo = make_repo({"a.py": "a = 1\n", "b.py": "b = 1\n", "c.py": "c = 1\n"})
    repo.git("checkout", "-q", "-b", "feature")
    repo.write("a.py", "a = 2\n")
    repo.commit("edit a")
    repo.git("checkout", "-q", "main")
    repo.write("c.py", "c = 2\n")  # main moves on: not the feature's change
    repo.commit("edit c on main")
    repo.git("checkout", "-q", "feature")
    repo.write("b.py", "b = 2\n")  # unstaged
    repo.write("new.py", "n = 1\n")  # untracked
    (repo.path / "c.py").unlink()  # deleted: nothing to check
    tree = Repository(repo.path)
    assert tree.changed_files("main") == ["a.py", "b.py", "new.py"]
    assert tree.default_base() == "main"


def test_git_refusals_are_one_line_errors(make_repo, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    repo: Repo = make_repo({"a.py": "a = 1\n"})
    with pytest.raises(GitError) as caught:
        Repository(repo.path).merge_base("no-such-branch")
    assert "no-such-branch" in str(caught.value) and "\n" not in str(caught.value)
    orphan = make_repo({"b.py": "b = 1\n"})
    repo.git("fetch", "-q", str(orphan.path), "main:other")
    with pytest.raises(GitError, match="no common ancestor"):
        Repository(repo.path).merge_base("other")


def test_worktrees_main_first_with_their_branches(make_repo, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    repo: Repo = make_repo({"a.py": "a = 1\n"})
    linked = tmp_path / "linked"
    repo.git("worktree", "add", "-q", "-b", "side", str(linked))
    repo.git("worktree", "add", "-q", "--detach", str(tmp_path / "detached"))
    trees = Repository(linked).worktrees()
    seen = [(Path(t.path).name, t.branch, t.is_main) for t in trees]
    assert seen[0] == (repo.path.name, "main", True)  # the main worktree comes first
    assert sorted(seen[1:], key=str) == [("detached", None, False), ("linked", "side", False)]
    assert all(t.head and len(t.head) in (40, 64) for t in trees)
    assert find_root(linked / "a.py") == linked  # a linked worktree's .git is a file
