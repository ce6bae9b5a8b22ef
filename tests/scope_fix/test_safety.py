"""What keeps a fix safe: the import-cycle check, verification by re-analysis, atomic writes
that never overwrite a file changed meanwhile, ``# noqa``, and bad input."""

from __future__ import annotations

import os
from pathlib import Path

from premerge.config import Config
from premerge.scope.fix import plan_file, write_atomic
from premerge.scope.fix_graph import CycleOracle
from tests.conftest import run_python
from tests.scope.helpers import last_error, write_module
from tests.scope_fix.helpers import codes, scope_run
from tests.scope_fix.test_golden import materialise

HOISTED_MODELS = '''\
"""Models; the registry imports this module while it is being imported."""
from .registry import lookup


class User:
    pass


def find(name):
    return lookup(name)
'''


def test_hoisting_would_really_close_the_cycle(tmp_path: Path) -> None:
    """The golden cycle case copies the import into the function; the naive hoist breaks
    ``import pkg.registry`` for real, and the oracle knows it."""
    materialise("import_cycle_copies", tmp_path)
    import ast

    models = tmp_path / "pkg" / "models.py"
    tree = ast.parse(models.read_text(encoding="utf-8"))
    lazy = next(n for n in ast.walk(tree) if isinstance(n, ast.ImportFrom))
    oracle = CycleOracle(Config(root=tmp_path))
    assert oracle.closes_cycle(models.as_posix(), lazy)

    models.write_text(HOISTED_MODELS, encoding="utf-8")
    proc = run_python("import pkg.registry", tmp_path)
    assert last_error(proc) == "ImportError" and "partially initialized" in proc.stderr


def test_no_cycle_for_an_acyclic_first_party_import_or_stdlib(tmp_path: Path) -> None:
    materialise("relative_import", tmp_path)
    import ast

    session = tmp_path / "pkg" / "session.py"
    tree = ast.parse(session.read_text(encoding="utf-8"))
    imports = [n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))]
    oracle = CycleOracle(Config(root=tmp_path))
    assert [oracle.closes_cycle(session.as_posix(), n) for n in imports] == [False] * 3


def test_file_changed_on_disk_after_analysis_is_not_overwritten(tmp_path: Path) -> None:
    path = write_module(tmp_path, """
        def setup():
            import json
            return json

        def dump(obj):
            return json.dumps(obj)
        """)
    raw = path.read_bytes()
    plan = plan_file(path.as_posix(), raw, None, lambda _p, _s: False)
    assert plan.changed
    edited = raw + b"\n# edited by someone else meanwhile\n"
    path.write_bytes(edited)
    assert write_atomic(path.as_posix(), plan.new_bytes(), plan.source.raw) is False
    assert path.read_bytes() == edited
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mod.py"]  # no temporary left
    path.write_bytes(raw)  # unchanged since analysis: written
    assert write_atomic(path.as_posix(), plan.new_bytes(), plan.source.raw) is True
    assert path.read_bytes() == plan.new_bytes()


def test_a_symlink_is_never_written_through(tmp_path: Path) -> None:
    """The link may lead out of the repository (issue 10): it is refused with a note; the file
    it names is fixed under its own name."""
    real = write_module(tmp_path, """
        def setup():
            import json
            return json

        def dump(obj):
            return json.dumps(obj)
        """, name="real_mod.py")
    before = real.read_bytes()
    link = tmp_path / "mod.py"
    os.symlink("real_mod.py", link)
    result = scope_run(tmp_path, link, fix=True)
    assert link.is_symlink() and os.readlink(link) == "real_mod.py"
    assert real.read_bytes() == before
    assert any(note.startswith("mod.py: not fixed: it is a symbolic link")
               for note in result.notes), result.notes
    scope_run(tmp_path, real, fix=True)
    assert "\nimport json\n\ndef setup():\n    return json" in real.read_text(encoding="utf-8")


def test_noqa_suppressed_finding_is_not_fixed(tmp_path: Path) -> None:
    path = write_module(tmp_path, """
        def setup():
            import json
            return json

        def dump(obj):
            return json.dumps(obj)  # noqa: PM101
        """)
    before = path.read_bytes()
    scope_run(tmp_path, path, fix=True)
    assert path.read_bytes() == before


DELETED_LATER = """\
print(json.dumps(1))


def setup():
    import json
    return json


def dump(obj):
    return json.dumps(obj)


def make():
    from collections import OrderedDict
    return OrderedDict()


def fresh():
    return OrderedDict()


del json
"""


def test_hoist_that_would_report_something_new_is_refused(tmp_path: Path) -> None:
    """``del json`` at the end: a module-level ``import json`` would leave ``dump()`` using a
    deleted name (a new PM103), so neither hoist placement is applied; the import is copied
    into ``dump()`` and the module-level uses stay reported.  The unrelated OrderedDict fix
    in the same file is applied."""
    path = tmp_path / "mod.py"
    path.write_text(DELETED_LATER, encoding="utf-8")
    result = scope_run(tmp_path, path, fix=True)
    fixed = path.read_text(encoding="utf-8")
    assert "def dump(obj):\n    import json\n    return json.dumps(obj)" in fixed
    assert fixed.startswith("from collections import OrderedDict\n\nprint(json.dumps(1))")
    assert fixed.count("import json") == 2  # setup()'s own and dump()'s copy: no hoist
    assert [(f.code, f.line) for f in result.findings] == [("PM101", 3), ("PM101", 24)]

    naive = tmp_path / "naive" / "mod.py"
    naive.parent.mkdir()
    naive.write_text("import json\n" + DELETED_LATER, encoding="utf-8")
    assert "PM103" in codes(scope_run(naive.parent, naive))  # why the hoist was refused


def test_bad_input_gets_no_fix_and_no_traceback(tmp_path: Path) -> None:
    broken = write_module(tmp_path, "def f(:\n    import json\n", name="broken.py")
    latin = tmp_path / "latin.py"
    latin.write_bytes(b"x = '\xe9'\ndef f():\n    import json\ndef g():\n    return json\n")
    good = write_module(tmp_path, """
        def setup():
            import json
            return json

        def dump(obj):
            return json.dumps(obj)
        """, name="good.py")
    before = {p: p.read_bytes() for p in (broken, latin)}
    result = scope_run(tmp_path, fix=True)
    assert {p: p.read_bytes() for p in (broken, latin)} == before
    assert {f.code for f in result.findings} == {"PM002", "PM003"}
    assert good.read_text(encoding="utf-8").startswith("\nimport json\n")


def test_non_ascii_names_merge_at_the_right_column_in_a_latin1_file(tmp_path: Path) -> None:
    """``ast`` columns are UTF-8 byte offsets; the merge lands after the last name anyway and
    the file stays latin-1."""
    path = tmp_path / "mod.py"
    source = ("# -*- coding: latin-1 -*-\nfrom os.path import join as j\u00f6in  # \u00e9\n\n"
              "def setup():\n    from os.path import basename as b\u00e2se\n"
              "    return b\u00e2se\n\ndef name(p):\n    return j\u00f6in(b\u00e2se(p))\n")
    path.write_bytes(source.encode("latin-1"))
    scope_run(tmp_path, path, fix=True)
    fixed = path.read_bytes().decode("latin-1")
    assert fixed.splitlines()[1] == ("from os.path import join as j\u00f6in, basename as "
                                     "b\u00e2se  # \u00e9")
    assert run_python("import mod; print(mod.name('/a/b'))", tmp_path).stdout == "b\n"
