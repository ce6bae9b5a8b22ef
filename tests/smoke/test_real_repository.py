"""An orchestrator-shaped repository, as issue 12 met it: the central module that sets up its
log file at import is imported and its failures reported, agent hooks in a dot-directory are
checked, a git-ignored ``build/`` copy is not, and a file run with script semantics from inside
the package gets the PM301 that says what is really wrong.  Verdicts are proved by running the
fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.smoke.helpers import SmokeRun, git_repo, python_in, smoke

SCHEDULER = """\
    import logging
    import os

    LOG_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "logs")
    os.makedirs(LOG_DIR, exist_ok=True)
    logging.basicConfig(filename=os.path.join(LOG_DIR, "scheduler.log"), level=logging.INFO)
    EVENTS = open(os.path.join(LOG_DIR, "events.log"), "a")
    EVENTS.write("scheduler imported\\n")
    EVENTS.flush()


    class Scheduler:
        def setup(self):
            from orchestrator.briefing import Briefing
            self.briefing = Briefing()

        def run(self):
            return Briefing()
    """

FILES = {
    ".gitignore": "build/\nlogs/\n",
    "orchestrator/__init__.py": "",
    "orchestrator/briefing.py": "class Briefing:\n    pass\n",
    "orchestrator/scheduler.py": SCHEDULER,
    "orchestrator/worker.py": "from orchestrator.scheduler import Scheduler\n",
    # no __init__.py in tools/: run as `python orchestrator/tools/migrate.py`
    "orchestrator/tools/migrate.py": """\
        from orchestrator import briefing

        def main():
            return briefing.Briefing()
        """,
    # agent hooks: real code in a dot-directory; this copy lacks its sibling module
    ".claude/hooks/guard.py": "import hook_utils\n\nhook_utils.check()\n",
    ".claude/hooks/notify.py": "import json\n\n\ndef notify(event):\n    return dumps(event)\n",
    # after `pip install .`: an ignored copy, with a bug that would be reported if checked
    "build/lib/orchestrator/__init__.py": "",
    "build/lib/orchestrator/scheduler.py": "import not_installed_anywhere\n",
    # deletes a tracked file at import: imported in the snapshot, the user's file survives
    "orchestrator/cleanup.py": """\
        import os

        os.remove(os.path.join(os.path.dirname(__file__), "briefing.py"))


        def stale():
            return shutil.rmtree("cache")
        """,
    # still skipped: it starts a process at import; its functions are checked statically
    "tools/deploy.py": """\
        import subprocess
        import sys

        subprocess.run([sys.executable, "-c", "pass"], check=True)


        def target():
            return os.environ["DEPLOY_TARGET"]
        """,
}


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return git_repo(tmp_path_factory.mktemp("orchestrator") / "repo", FILES)


@pytest.fixture(scope="module")
def run(repo: Path) -> SmokeRun:
    return smoke(repo)


def test_central_module_that_writes_its_log_at_import_is_imported(run: SmokeRun,
                                                                   repo: Path) -> None:
    codes = run.codes("orchestrator/scheduler.py")
    assert "PM312" not in codes, run.by_path("orchestrator/scheduler.py")
    missing = run.one("orchestrator/scheduler.py", "PM313")
    assert missing["line"] == 18 and "'Briefing'" in missing["message"]
    assert "Scheduler.run" in missing["message"]
    wrote = run.one("orchestrator/scheduler.py", "PM311")
    assert "logs/" in wrote["message"], wrote
    # the verdict is real: calling run() raises NameError, setup() (the clean twin) works
    proc = python_in(repo, "from orchestrator.scheduler import Scheduler\nScheduler().run()")
    assert "NameError: name 'Briefing' is not defined" in proc.stderr, proc.stderr
    proc = python_in(repo, "from orchestrator.scheduler import Scheduler\nScheduler().setup()")
    assert proc.returncode == 0, proc.stderr


def test_hooks_in_a_dot_directory_are_checked(run: SmokeRun, repo: Path) -> None:
    guard = run.by_path(".claude/hooks/guard.py")
    assert [f["code"] for f in guard] == ["PM302"], guard
    assert "'hook_utils'" in guard[0]["message"]
    notify = run.one(".claude/hooks/notify.py", "PM313")
    assert "'dumps'" in notify["message"]
    hooks = repo / ".claude/hooks"
    assert "ModuleNotFoundError" in python_in(repo, "import guard", path=hooks).stderr
    proc = python_in(repo, "import notify\nnotify.notify({})", path=hooks)
    assert "NameError" in proc.stderr


def test_a_git_ignored_build_copy_is_not_checked(run: SmokeRun) -> None:
    assert not [f for f in run.findings if f["path"].startswith("build/")], run.findings


def test_script_semantics_inside_the_package_says_what_is_wrong(run: SmokeRun,
                                                                 repo: Path) -> None:
    finding = run.one("orchestrator/tools/migrate.py", "PM301")
    message = finding["message"]
    assert "'orchestrator' is in the repository" in message, message
    assert "script semantics" in message and "not installed" in message
    assert "pip install -e ." in message and "smoke.source_roots" in message
    assert "not in the repository" not in message
    # really: `python orchestrator/tools/migrate.py` cannot find its own package
    tools = repo / "orchestrator/tools"
    proc = python_in(repo, f"import runpy; runpy.run_path({str(tools / 'migrate.py')!r})",
                     cwd=tools, path=tools)
    assert "No module named 'orchestrator'" in proc.stderr, proc.stderr


def test_listing_the_source_root_fixes_it(tmp_path: Path) -> None:
    files = {k: v for k, v in FILES.items() if k.startswith(("orchestrator/", ".gitignore"))}
    files["premerge.yaml"] = "version: 1\nsmoke:\n  source_roots: [\".\"]\n"
    repo = git_repo(tmp_path / "repo", files)
    fixed = smoke(repo)
    assert fixed.by_path("orchestrator/tools/migrate.py") == []
    assert fixed.codes("orchestrator/scheduler.py").count("PM313") == 1


def test_a_module_that_starts_a_process_stays_unimported_and_says_why(run: SmokeRun,
                                                                      repo: Path) -> None:
    skipped = run.one("tools/deploy.py", "PM312")
    assert skipped["line"] == 4
    assert "starts processes outside the smoke child's control" in skipped["message"]
    assert "runs a subprocess (subprocess.run)" in skipped["message"]
    static = run.one("tools/deploy.py", "PM313")  # checked without importing it
    assert static["line"] == 8 and "'os'" in static["message"]
    proc = python_in(repo, "import deploy\ndeploy.target()", path=repo / "tools")
    assert "NameError: name 'os' is not defined" in proc.stderr, proc.stderr


def test_a_module_that_deletes_a_file_at_import_is_imported_in_the_snapshot(
        run: SmokeRun, repo: Path) -> None:
    assert "PM312" not in run.codes("orchestrator/cleanup.py")
    wrote = run.one("orchestrator/cleanup.py", "PM311")
    assert "orchestrator/briefing.py (deleted)" in wrote["message"], wrote
    missing = run.one("orchestrator/cleanup.py", "PM313")  # imported: the runtime check ran
    assert "'shutil'" in missing["message"]
    assert (repo / "orchestrator/briefing.py").is_file()  # the user's tree is untouched
