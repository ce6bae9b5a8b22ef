"""The second warm tier: third-party packages that start threads at import (litellm) are held
by a second warm parent instead of being imported again by every child; verdicts are the same
as one fresh process per module."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.conftest import run_premerge
from tests.smoke.helpers import SmokeRun, git_repo, python_in, smoke, write_tree

SITE = {
    # a heavy dependency that starts a worker thread when imported, as litellm does
    "threadpkg/__init__.py": """\
        import threading
        import time

        IMPORTED_AT = time.time()
        _worker = threading.Thread(target=time.sleep, args=(3600,), daemon=True,
                                   name="threadpkg-worker")
        _worker.start()


        def complete(prompt):
            return prompt.upper()
        """,
}

FILES = {
    "app/__init__.py": "",
    "app/llm.py": """\
        from threadpkg import complete


        def ask(prompt):
            return complete(prompt)


        def ask_twice(prompt):
            return json.dumps([ask(prompt), ask(prompt)])
        """,
    "app/agent.py": "from app.llm import ask\n\nANSWER = ask('hi')\n",
    "app/broken.py": "from threadpkg import no_such_name\n",
    "app/plain.py": "import json\n\n\ndef dump(x):\n    return json.dumps(x)\n",
}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    base = tmp_path_factory.mktemp("threads")
    write_tree(base / "site", SITE)
    return git_repo(base / "repo", FILES), {"PYTHONPATH": str(base / "site")}


def _verdicts(run: SmokeRun) -> list[tuple[str, str, int | None]]:
    return sorted((f["path"], f["code"], f["line"]) for f in run.findings)


def test_thread_starting_dependencies_run_in_a_second_warm_parent(
        project: tuple[Path, dict[str, str]]) -> None:
    repo, env = project
    warm = smoke(repo, env=env)
    fresh = smoke(repo, env={**env, "PREMERGE_SMOKE_FRESH": "1"})
    assert _verdicts(warm) == _verdicts(fresh), (warm.findings, fresh.findings)
    assert _verdicts(warm) == [("app/broken.py", "PM303", 1), ("app/llm.py", "PM313", 9)]
    text = run_premerge("smoke", "--no-cache", "-v", "--python", sys.executable, cwd=repo,
                        env=env)
    assert "3 modules that import threadpkg ran in a second warm parent" in text.stderr, \
        text.stderr
    assert "not preloaded: threadpkg (starts a thread when imported)" in text.stderr
    assert "(fresh process)" not in text.stderr  # all forked from a warm parent
    # the verdicts are real: ask_twice() raises NameError, the clean twins run
    site = env["PYTHONPATH"]
    proc = python_in(repo, f"import sys; sys.path.append({site!r})\n"
                           "import app.llm\napp.llm.ask_twice('x')")
    assert "NameError: name 'json' is not defined" in proc.stderr, proc.stderr
    proc = python_in(repo, f"import sys; sys.path.append({site!r})\n"
                           "import app.agent, app.plain\nassert app.agent.ANSWER == 'HI'")
    assert proc.returncode == 0, proc.stderr
