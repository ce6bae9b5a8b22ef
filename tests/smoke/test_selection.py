"""Which modules run: discovery and import semantics, ``--changed`` with importers, ``--shard``."""

from __future__ import annotations

import subprocess
from pathlib import Path

from premerge.smoke import shard
from premerge.imports.discovery import ProjectModule, discover_modules
from tests.conftest import GIT_ENV
from tests.smoke.helpers import git_repo, smoke, write_tree


def _bug(name: str, imports: str = "") -> str:
    """A module that imports fine and carries one runtime-global finding (so it is visible)."""
    return f"{imports}\ndef use_{name}():\n    return missing_{name}\n"


def _imported(run_findings: list[dict[str, object]]) -> set[str]:
    return {str(f["module"]) for f in run_findings if f["code"] == "PM313"}


def test_discovery_and_import_semantics(tmp_path: Path) -> None:
    write_tree(tmp_path, {
        "pyproject.toml": '[tool.setuptools.packages.find]\nwhere = ["src"]\n',
        "src/ns/pkg/__init__.py": "",
        "src/ns/pkg/core.py": "",
        "src/single/__init__.py": "",
        "hooks/tool/__init__.py": "",
        "hooks/tool/cli.py": "",
        "scripts/run.py": "",
        "scripts/lib/__init__.py": "",
        "scripts/lib/util.py": "",
        "my-tools/do-it.py": "",
        "rel/mod.py": "from . import other\n",
        "rel/other.py": "",
        ".hidden/x.py": "",
        ".venv/lib/y.py": "",
        "venv2/pyvenv.cfg": "",
        "venv2/z.py": "",
        "tests/test_a.py": "",
    })
    modules = {m.relpath: m for m in discover_modules(tmp_path, ["**/*.py"], ["tests/**"])}
    root = tmp_path.as_posix()

    def expect(rel: str, name: str, kind: str, import_root: str) -> None:
        got = modules[rel]
        assert (got.name, got.kind, got.import_root) == (name, kind, f"{root}/{import_root}"
                                                         .rstrip("/")), rel

    expect("src/ns/pkg/core.py", "ns.pkg.core", "package", "src")  # declared root: namespace
    expect("src/single/__init__.py", "single", "package", "src")
    expect("hooks/tool/cli.py", "tool.cli", "package", "hooks")  # source root by __init__
    expect("scripts/run.py", "run", "script", "scripts")
    expect("scripts/lib/util.py", "lib.util", "package", "scripts")
    expect("my-tools/do-it.py", "do-it", "script", "my-tools")
    expect("rel/mod.py", "rel.mod", "package", "")  # relative imports: a namespace package
    expect(".hidden/x.py", "x", "script", ".hidden")  # dot-directories hold code too
    assert not any(rel.startswith((".venv", "venv2", "tests")) for rel in modules)


def test_changed_selects_importers_transitively(tmp_path: Path) -> None:
    repo = git_repo(tmp_path / "repo", {
        "app/__init__.py": "",
        "app/base.py": _bug("base"),
        "app/middle.py": _bug("middle", "from app import base"),
        "app/top.py": _bug("top", "import app.middle"),
        "app/lazy.py": _bug("lazy", "def later():\n    import app.base"),
        "app/other.py": _bug("other"),
        "tools/script.py": _bug("script", "import sibling"),
        "tools/sibling.py": _bug("sibling"),
    })
    env = {**GIT_ENV}
    subprocess.run(["git", "checkout", "-qb", "feature"], cwd=repo, check=True)
    (repo / "app/base.py").write_text(_bug("base") + "\nCHANGED = True\n")
    (repo / "tools/sibling.py").write_text(_bug("sibling") + "\nCHANGED = True\n")
    subprocess.run(["git", "commit", "-qam", "change"], cwd=repo, check=True,
                   env={**__import__("os").environ, **env})
    run = smoke(repo, "--changed", "--base", "main")
    assert _imported(run.findings) == {"app.base", "app.middle", "app.top", "sibling",
                                       "script"}
    everything = smoke(repo)
    assert _imported(everything.findings) == {"app.base", "app.middle", "app.top", "app.lazy",
                                              "app.other", "sibling", "script"}


def test_shard_partitions_deterministically(tmp_path: Path) -> None:
    modules = [ProjectModule(f"m{i}", f"/r/m{i}.py", f"m{i}.py", "script", "/r")
               for i in range(23)]
    for count in (1, 2, 3, 5):
        parts = [shard(modules, index, count) for index in range(1, count + 1)]
        names = [m.name for part in parts for m in part]
        assert sorted(names) == sorted(m.name for m in modules)  # union = all, disjoint
        assert len(set(names)) == len(names)
        assert max(map(len, parts)) - min(map(len, parts)) <= 1
        assert parts == [shard(list(reversed(modules)), i, count) for i in range(1, count + 1)]
    repo = git_repo(tmp_path / "repo", {f"mods/m{i}.py": _bug(f"m{i}") for i in range(7)})
    first = _imported(smoke(repo, "--shard", "1/2").findings)
    second = _imported(smoke(repo, "--shard", "2/2").findings)
    assert first and second and not first & second
    assert first | second == {f"m{i}" for i in range(7)}


def test_paths_limit_the_modules(tmp_path: Path) -> None:
    repo = git_repo(tmp_path / "repo", {"a/x.py": _bug("x"), "b/y.py": _bug("y")})
    assert _imported(smoke(repo, "a").findings) == {"x"}
    run = smoke(repo, "a/x.py", "nope.py")
    assert _imported(run.findings) == {"x"}
    assert [f["code"] for f in run.findings if f["path"] == "nope.py"] == ["PM001"]


def test_manifest_include_exclude(tmp_path: Path) -> None:
    repo = git_repo(tmp_path / "repo", {
        "premerge.yaml": 'smoke:\n  exclude: ["legacy/**"]\n',
        "legacy/old.py": _bug("old"),
        "new/fresh.py": _bug("fresh"),
    })
    assert _imported(smoke(repo).findings) == {"fresh"}
