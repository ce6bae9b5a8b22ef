"""The warm parent subclasses, once, each third-party class the project subclasses at import
(pydantic's first model loads its plugins from every installed distribution: each child did it
again), then drops the subclass; a class it cannot drop cleanly is not warmed.  Verdicts are
the same as one fresh process per module."""

from __future__ import annotations

import sys
from pathlib import Path

from tests.conftest import run_premerge
from tests.smoke.helpers import SmokeRun, git_repo, python_in, smoke, write_tree

SITE = {
    # a model library whose first subclass in a process loads plugins (pydantic's shape); it
    # records each process that paid for that
    "modelkit/__init__.py": """\
        import os

        MARKER = os.environ["MODELKIT_MARKER"]
        _plugins = None


        class Model:
            def __init_subclass__(cls, **kwargs):
                global _plugins
                super().__init_subclass__(**kwargs)
                if _plugins is None:
                    with open(MARKER, "a") as handle:
                        handle.write(f"{os.getpid()}\\n")
                    _plugins = []


        REGISTRY = []


        class Registered:
            # a registry keeps every subclass: a leftover would be visible to the project
            def __init_subclass__(cls, **kwargs):
                super().__init_subclass__(**kwargs)
                REGISTRY.append(cls)


        class Picky(type):
            def __new__(mcs, name, bases, namespace):
                if bases and not name.startswith("App"):
                    raise TypeError(f"{name}: names start with App")
                return super().__new__(mcs, name, bases, namespace)


        class Strict(metaclass=Picky):
            pass
        """,
}

FILES = {
    "app/__init__.py": "",
    "app/config.py": "from modelkit import Model\n\n\nclass Config(Model):\n    pass\n",
    "app/user.py": "from modelkit import Model\n\n\nclass User(Model):\n    pass\n",
    "app/broken.py": "from modelkit import Model\n\n\nclass Broken(Model):\n    x = y\n",
}
#: bases the warm parent must not keep a subclass of: a registry, a metaclass that refuses it
REFUSED = {
    "app/plugins.py": """\
        import modelkit
        from modelkit import Registered


        class Plugin(Registered):
            pass


        assert [c.__name__ for c in modelkit.REGISTRY] == ["Plugin"], modelkit.REGISTRY
        """,
    "app/strict.py": "from modelkit import Strict\n\n\nclass AppThing(Strict):\n    pass\n",
}


def _project(base: Path, files: dict[str, str]) -> tuple[Path, dict[str, str], Path]:
    write_tree(base / "site", SITE)
    marker = base / "marker.txt"
    env = {"PYTHONPATH": str(base / "site"), "MODELKIT_MARKER": str(marker)}
    (base / "repo").mkdir()
    (base / "repo" / "premerge.yaml").write_text(
        'version: 1\nsmoke:\n  env: ["MODELKIT_MARKER"]\n')
    return git_repo(base / "repo", files), env, marker


def _verdicts(run: SmokeRun) -> list[tuple[str, str, int | None]]:
    return sorted((f["path"], f["code"], f["line"]) for f in run.findings)


def _payers(marker: Path) -> int:
    """How many processes paid for the first subclass since the last call."""
    lines = marker.read_text().split() if marker.exists() else []
    marker.unlink(missing_ok=True)
    return len(lines)


def test_first_subclass_work_is_done_once_in_the_warm_parent(tmp_path: Path) -> None:
    repo, env, marker = _project(tmp_path, FILES)
    fresh = smoke(repo, env={**env, "PREMERGE_SMOKE_FRESH": "1"})
    # one process per module: each module that made a Model paid (broken's class body fails
    # before its class is made)
    assert _payers(marker) == 2
    warm = smoke(repo, env=env)
    assert _payers(marker) == 1, warm.stderr  # the warm parent, once; no child
    assert _verdicts(warm) == _verdicts(fresh) == [("app/broken.py", "PM306", 5)], \
        (warm.findings, fresh.findings)
    # the verdicts are real: broken raises NameError, its clean twins import
    setup = (f"import os, sys; sys.path.append({env['PYTHONPATH']!r}); "
             f"os.environ['MODELKIT_MARKER'] = {str(marker)!r}\n")
    proc = python_in(repo, setup + "import app.broken")
    assert "NameError: name 'y' is not defined" in proc.stderr, proc.stderr
    proc = python_in(repo, setup + "import app.config, app.user")
    assert proc.returncode == 0, proc.stderr


def test_a_subclass_the_parent_cannot_drop_is_not_made_there(tmp_path: Path) -> None:
    repo, env, marker = _project(tmp_path, {**FILES, **REFUSED})
    fresh = smoke(repo, env={**env, "PREMERGE_SMOKE_FRESH": "1"})
    warm = smoke(repo, env=env)
    # the registry holds exactly the project's own classes: no leftover from the warm parent
    assert _verdicts(warm) == _verdicts(fresh) == [("app/broken.py", "PM306", 5)], \
        (warm.findings, fresh.findings)
    # why a class was not warmed is for --verbose: the user cannot act on it
    quiet = run_premerge("smoke", "--no-cache", "--python", sys.executable, cwd=repo, env=env)
    assert "not subclassed" not in quiet.stderr, quiet.stderr
    text = run_premerge("smoke", "--no-cache", "-v", "--python", sys.executable, cwd=repo,
                        env=env)
    assert "modelkit.Registered not subclassed in the warm parent (something keeps the " \
           "subclass alive)" in text.stderr, text.stderr
    assert "modelkit.Strict not subclassed in the warm parent (subclassing it raised " \
           "TypeError)" in text.stderr, text.stderr
    # still warm for Model: the parent restarted without the refused ones warmed Model again
    _payers(marker)
    smoke(repo, env=env)
    assert _payers(marker) == 2  # the first parent and the restarted one; no child
