"""smoke's value classes are plain ``premerge.records`` classes: no ``dataclasses`` (and so no
``inspect``) on smoke's start-up path, with the behaviour the dataclasses had."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from premerge.findings import Finding, Severity
from premerge.imports.discovery import ProjectModule
from premerge.imports.graph import Edge, ImportGraph, build_graph
from premerge.imports.interpreter import Interpreter
from premerge.imports.references import ImportRef, file_imports, imports_from_source
from premerge.smoke.classify import Classified, Context
from premerge.smoke.runner import Outcome, Settings, _Job
from premerge.smoke.static import FileFacts, facts_from_source
from premerge.smoke.writes import Change, Snapshot
from tests.smoke.helpers import git_repo


def _imported(*args: str, cwd: Path) -> tuple[int, set[str]]:
    proc = subprocess.run([sys.executable, "-X", "importtime", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    return proc.returncode, {line.split("|")[-1].strip() for line in proc.stderr.splitlines()
                             if line.startswith("import time:")}


def test_a_smoke_run_imports_neither_dataclasses_nor_inspect(tmp_path: Path) -> None:
    """A run that discovers, imports, classifies a failure and skips a script loads every smoke
    module -- and still not ``dataclasses`` (~13 ms with the ``inspect`` it pulls in)."""
    root = git_repo(tmp_path / "repo", {
        "pkg/__init__.py": "",
        "pkg/bad.py": "import missing_dependency_for_smoke_test\n",
        "pkg/good.py": "from pkg import bad  # noqa\n",
        "writer.py": "with open('out.txt', 'w') as handle:\n    handle.write('x')\n",
    })
    _, baseline = _imported("-c", "pass", cwd=root)
    code, during = _imported("-m", "premerge", "smoke", "--no-cache", "--python",
                             sys.executable, cwd=root)
    assert code == 1  # pkg.bad's PM302 is real: the run went through classification
    assert {"premerge.smoke.runner", "premerge.smoke.classify", "premerge.imports.graph",
            "premerge.smoke.static", "premerge.smoke.writes"} <= during
    assert not (during - baseline) & {"dataclasses", "inspect"}


def test_frozen_values_hash_compare_and_refuse_assignment() -> None:
    one = ProjectModule("pkg.mod", "/r/pkg/mod.py", "pkg/mod.py", "package", "/r")
    twin = ProjectModule(name="pkg.mod", path="/r/pkg/mod.py", relpath="pkg/mod.py",
                       kind="package", import_root="/r")
    assert one == twin and hash(one) == hash(twin) and len({one, twin}) == 1
    assert (one.top, one.package, one.is_package_init) == ("pkg", "pkg", False)
    assert one != ProjectModule("pkg.mod", "/r/pkg/mod.py", "pkg/mod.py", "script", "/r")
    assert Edge("/a.py", "/b.py", 1, 0) in {Edge("/a.py", "/b.py", 1, 0)}
    assert Change("x.txt", "created", 5) == Change(relpath="x.txt", kind="created", when=5)
    for frozen in (one, Edge("/a.py", "/b.py", 1, 0), Change("x.txt", "created", 5)):
        with pytest.raises(AttributeError):
            frozen.kind = "other"  # type: ignore[misc]
    assert repr(Change("x", "deleted", 0)) == "Change(relpath='x', kind='deleted', when=0)"


def test_snapshot_changes_compare_content_not_mtimes(tmp_path: Path) -> None:
    source = tmp_path / "tree"
    source.mkdir()
    for name in ("a", "same", "gone"):
        (source / name).write_text(name)
    snapshot = Snapshot(str(source), str(tmp_path / "copy" / "tree"))
    snapshot.start(lambda: ["a", "same", "gone"])
    snapshot.wait()
    copy = Path(snapshot.path)
    stat = (copy / "a").stat()
    (copy / "a").write_text("b")  # same size, mtime restored: only the content tells
    os.utime(copy / "a", ns=(stat.st_atime_ns, stat.st_mtime_ns))
    (copy / "gone").unlink()
    (copy / "new").write_text("new")
    assert [(c.relpath, c.kind) for c in snapshot.changes()] == [
        ("a", "modified"), ("gone", "deleted"), ("new", "created")]
    assert (source / "a").read_text() == "a" and (source / "gone").exists()


def test_mutable_values_have_fresh_defaults_equality_and_no_hash() -> None:
    module = ProjectModule("m", "/r/m.py", "m.py", "script", "/r")
    assert FileFacts() == FileFacts() and FileFacts().imports is not FileFacts().imports
    assert ImportRef(1, 0, "os").names is not ImportRef(1, 0, "os").names
    assert Outcome(module).files is not Outcome(module).files
    assert ImportGraph({}).edges is not ImportGraph({}).edges
    for value in (FileFacts(), ImportRef(1, 0, "os"), Outcome(module), ImportGraph({}),
                  Interpreter("/py", "--python", True), _Job(1, module, {}, "warm"),
                  Classified(Finding("PM302", "m", "/r/m.py", 1, 1, Severity.ERROR))):
        with pytest.raises(TypeError):
            hash(value)
    settings = Settings(Interpreter("/py", "--python", True), "/r", 5.0, 2, {}, "/w", 0)
    assert settings.progress is None and settings.warm is True
    job = _Job(3, module, {}, "warm")
    job.pid, job.timed_out = 42, True
    assert (job.deadline, job.proc, job.kill_at, job.pid) == (0.0, None, 0.0, 42)
    assert Classified(Finding("PM302", "m", "/r/m.py", 1, 1, Severity.ERROR)).origin is None


def test_file_facts_round_trip_through_their_cached_form() -> None:
    facts = facts_from_source("import os\nfrom . import sibling\n"
                           "if TYPE_CHECKING:\n    import typing_only\n"
                           "def f():\n    import late\nimport sys\nsys.exit(1)\n")
    assert facts.script_effect == (8, "calls sys.exit()")
    assert [(r.module, r.level, r.names, r.import_time, r.runtime) for r in facts.imports] == [
        ("os", 0, [], True, True), ("", 1, ["sibling"], True, True),
        ("typing_only", 0, [], True, False), ("late", 0, [], False, True),
        ("sys", 0, [], True, True)]
    assert FileFacts.from_json(facts.to_json()) == facts
    broken = facts_from_source("def (:\n")
    assert broken.parse_error and FileFacts.from_json(broken.to_json()) == broken


def test_scope_and_smoke_read_the_same_import_references(tmp_path: Path) -> None:
    """scope's fix graph reads only the imports, smoke reads them with the script effects:
    one walk, the same references, and a file that does not parse has none."""
    source = ("import os\nfrom . import sibling\nif TYPE_CHECKING:\n    import typing_only\n"
              "def f():\n    import late\n")
    assert imports_from_source(source) == facts_from_source(source).imports
    assert len(imports_from_source(source)) == 4 and imports_from_source("def (:\n") == []
    (tmp_path / "m.py").write_text(source, encoding="utf-8")
    module = ProjectModule("m", (tmp_path / "m.py").as_posix(), "m.py", "script",
                         tmp_path.as_posix())
    assert file_imports([module], use_cache=False) == {module.path: imports_from_source(source)}


def test_graph_resolver_is_cached_and_no_part_of_equality() -> None:
    a = ProjectModule("a", "/r/a.py", "a.py", "script", "/r")
    b = ProjectModule("b", "/r/b.py", "b.py", "script", "/r")
    facts = {a.path: imports_from_source("import b\n"), b.path: imports_from_source("import a\n")}
    graph = build_graph([a, b], facts)
    assert graph.find("b", a) is b and graph._resolver is graph._resolver
    assert graph.cycle_through(a.path) == [Edge(a.path, b.path, 1, 1), Edge(b.path, a.path, 1, 1)]
    assert graph == build_graph([a, b], facts)  # the other one has no resolver yet
    assert graph.first_party_tops == {"a", "b"} and graph.importers_closure([a.path]) == {
        a.path, b.path}


def test_context_maps_real_paths_to_modules(tmp_path: Path) -> None:
    target = tmp_path / "m.py"
    target.write_text("")
    (tmp_path / "link.py").symlink_to(target)
    module = ProjectModule("m", target.as_posix(), "m.py", "script", tmp_path.as_posix())
    given: dict[str, str] = {}
    ctx = Context(tmp_path.as_posix(), ImportGraph({module.path: module}), {}, "py", 5.0, given)
    assert ctx.real_to_path is given and ctx.module_path(str(tmp_path / "link.py")) == module.path
    assert ctx.inside(str(tmp_path / "link.py")) and not ctx.inside("<frozen importlib>")
    fresh = Context(root=tmp_path.as_posix(), graph=ImportGraph({}), facts={}, python="py",
                    timeout=5.0)
    assert fresh.real_to_path == {}


def test_outcome_reads_each_capture_once(tmp_path: Path) -> None:
    """The tails of capture files are cached per outcome (a slot now, not ``__dict__``)."""
    module = ProjectModule("m", "/r/m.py", "m.py", "script", "/r")
    stdout = tmp_path / "out"
    stdout.write_text("first")
    outcome = Outcome(module, files={"stdout": str(stdout)},
                      captured={"stderr": [10_000, "x" * 5000]}, mode="fresh")
    assert outcome.stdout == "first"
    stdout.write_text("second")
    assert outcome.stdout == "first" and outcome.fault == ""
    assert outcome.stderr == "..." + "x" * 4000
    assert outcome.status == "crash" and Outcome(module, timed_out=True).status == "timeout"
    assert Outcome(module, {"status": "ok"}).status == "ok"
    assert outcome == Outcome(module, files={"stdout": str(stdout)},
                              captured={"stderr": [10_000, "x" * 5000]}, mode="fresh")
    assert repr(Outcome(module)).startswith("Outcome(module=ProjectModule(name='m', ")
