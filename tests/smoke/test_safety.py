"""Safety rules: imported code gets no secrets, no stdin, no unlimited time, no argv scripts
run, and what it writes into the repository is reported."""

from __future__ import annotations

import json
import os
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests.conftest import run_premerge, run_python
from tests.smoke.helpers import eventually_none_alive, git_repo, python_in, smoke, write_tree


def test_secrets_stdin_home_and_cwd_of_imported_code(tmp_path: Path) -> None:
    report = tmp_path / "seen.json"
    repo = git_repo(tmp_path / "repo", {
        "premerge.yaml": 'smoke:\n  run_scripts: ["tools/spy.py"]\n  env: ["EXTRA_ALLOWED"]\n',
        "tools/spy.py": f"""\
            import json, os, sys
            seen = {{k: os.environ.get(k) for k in
                    ("GITHUB_TOKEN", "MY_API_KEY", "DB_PASSWORD", "AWS_SECRET_ACCESS_KEY",
                     "ACTIONS_RUNTIME_TOKEN", "EXTRA_ALLOWED", "PATH")}}
            seen["home"] = os.environ.get("HOME")
            seen["expanded"] = os.path.expanduser("~")
            seen["tmpdir"] = os.environ.get("TMPDIR")
            seen["cwd"] = os.getcwd()
            seen["stdin"] = sys.stdin.read()
            seen["path0"] = sys.path[0]
            seen["argv"] = sys.argv
            seen["name"] = __name__
            with open({str(report)!r}, "w") as handle:
                json.dump(seen, handle)
            """,
    })
    secrets = {"GITHUB_TOKEN": "ghp_secret", "MY_API_KEY": "k-secret", "DB_PASSWORD": "pw",
               "AWS_SECRET_ACCESS_KEY": "aws", "ACTIONS_RUNTIME_TOKEN": "rt",
               "EXTRA_ALLOWED": "yes"}
    run = smoke(repo, env=secrets)
    assert run.findings == [], run.findings
    seen = json.loads(report.read_text())
    for key in ("GITHUB_TOKEN", "MY_API_KEY", "DB_PASSWORD", "AWS_SECRET_ACCESS_KEY",
                "ACTIONS_RUNTIME_TOKEN"):
        assert seen[key] is None, key
    assert seen["EXTRA_ALLOWED"] == "yes"  # smoke.env extends the allowlist
    assert seen["PATH"]
    real_home = os.path.expanduser("~")
    assert seen["home"] != real_home and seen["expanded"] == seen["home"]
    assert "premerge-smoke-" in seen["home"] and "premerge-smoke-" in seen["tmpdir"]
    assert not os.path.exists(seen["home"])  # the temporary HOME is gone afterwards
    # like `python tools/spy.py`, in the pristine snapshot of the tree, never the tree itself
    assert seen["cwd"] == seen["path0"] and seen["cwd"].endswith("/repo/tools")
    assert seen["cwd"] != str(repo / "tools")
    assert seen["stdin"] == ""
    assert seen["argv"] == [seen["cwd"] + "/spy.py"]
    assert seen["name"] == "spy"  # imported, not run as __main__


def test_env_globs_pass_what_they_match_but_never_a_secret(tmp_path: Path) -> None:
    """README's promise for ``smoke.env`` globs, checked in the real child: ``MY_*`` lets
    MY_SETTING through but not the secret-looking MY_API_KEY; ``NPM_*`` not NPM_TOKEN; a
    secret reaches imported code only when named exactly."""
    report = tmp_path / "seen.json"
    names = ("MY_SETTING", "NPM_CONFIG_REGISTRY", "MY_NAMED_TOKEN", "MY_API_KEY", "NPM_TOKEN",
             "GITHUB_TOKEN", "OTHER_SETTING")
    repo = git_repo(tmp_path / "repo", {
        "premerge.yaml": 'smoke:\n  run_scripts: ["probe.py"]\n'
                         '  env: ["MY_*", "NPM_*", "MY_NAMED_TOKEN"]\n',
        "probe.py": f"""\
            import json, os
            with open({str(report)!r}, "w") as handle:
                json.dump({{name: os.environ.get(name) for name in {names!r}}}, handle)
            """,
    })
    environment = {"MY_SETTING": "on", "NPM_CONFIG_REGISTRY": "https://registry.invalid/",
                   "MY_NAMED_TOKEN": "named", "MY_API_KEY": "k-secret", "NPM_TOKEN": "npm-secret",
                   "GITHUB_TOKEN": "ghp_secret", "OTHER_SETTING": "not listed"}
    run = smoke(repo, env=environment)
    assert run.findings == [], run.findings
    assert json.loads(report.read_text()) == {
        "MY_SETTING": "on", "NPM_CONFIG_REGISTRY": "https://registry.invalid/",
        "MY_NAMED_TOKEN": "named",  # a secret-looking name passes when listed exactly
        "MY_API_KEY": None, "NPM_TOKEN": None, "GITHUB_TOKEN": None, "OTHER_SETTING": None}


def test_hang_is_killed_with_its_grandchildren(tmp_path: Path) -> None:
    marker = f"premerge-marker-{uuid.uuid4().hex}"
    repo = git_repo(tmp_path / "repo", {
        "premerge.yaml": 'smoke:\n  run_scripts: ["hang.py"]\n',
        "hang.py": f"""\
            import subprocess, sys, time
            subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)",
                              {marker!r}])
            time.sleep(300)
            """,
        "fine.py": "VALUE = 1\n",
    })
    started = time.monotonic()
    run = smoke(repo, "--timeout", "2")
    assert time.monotonic() - started < 60
    finding = run.one("hang.py", "PM309")
    assert finding["line"] == 4 and "within 2 s" in finding["message"]
    assert "(at hang.py:4)" in finding["message"]
    assert run.by_path("fine.py") == []
    assert eventually_none_alive(marker) == []


def test_third_party_import_that_blocks_the_preload_is_timed_and_the_run_goes_on_fresh(
        tmp_path: Path) -> None:
    # the warm parent imports third-party modules itself, before any child: one whose import
    # never returns gets the run's timeout, as a child's import does; then that parent and
    # everything the import started are killed, and each module runs in its own process
    marker = f"premerge-marker-{uuid.uuid4().hex}"
    site = tmp_path / "site"
    write_tree(site, {"blocker/__init__.py": f"""\
        import subprocess, sys, threading
        for session in (False, True):
            subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)",
                              {marker!r}], start_new_session=session)
        threading.Event().wait()
        """})
    repo = git_repo(tmp_path / "repo", {"app.py": "import blocker\n",
                                        "fine.py": "import json\nVALUE = 1\n"})
    proc = run_premerge("smoke", "--no-cache", "--timeout", "2", "--python", sys.executable,
                        cwd=repo, env={"PYTHONPATH": str(site)})
    assert ("smoke: preloading blocker did not finish within 2 s; the warm parent was killed "
            "and every module ran in its own process") in proc.stderr, proc.stderr
    assert "failed or hung" not in proc.stderr
    assert proc.stdout.splitlines()[0].startswith(
        "app.py:1:1: PM309 app did not finish importing within 2 s (at app.py:1)"), proc.stdout
    assert "fine.py" not in proc.stdout and proc.returncode == 1
    assert eventually_none_alive(marker) == []


def test_preload_blocked_while_premerge_still_reads_the_sources_is_timed(tmp_path: Path
                                                                          ) -> None:
    # the parent imports third-party modules while premerge still reads the sources; when one
    # blocks, the names premerge sends meanwhile (here far more than a pipe holds) must not
    # block premerge itself: it still times the import and goes on fresh
    site = tmp_path / "site"
    write_tree(site, {"blocker/__init__.py": "import threading\nthreading.Event().wait()\n"})
    many = "".join(f"import missing_dependency_{i:05d}_{'x' * 80}\n" for i in range(2000))
    repo = git_repo(tmp_path / "repo", {"a_app.py": "import blocker\n", "z_many.py": many})
    proc = run_premerge("smoke", "--no-cache", "--timeout", "2", "--python", sys.executable,
                        cwd=repo, env={"PYTHONPATH": str(site)}, timeout=120)
    assert ("smoke: preloading blocker did not finish within 2 s; the warm parent was killed "
            "and every module ran in its own process") in proc.stderr, proc.stderr
    assert proc.stdout.splitlines()[0].startswith(
        "a_app.py:1:1: PM309 a_app did not finish importing within 2 s"), proc.stdout
    assert "z_many.py:1:1: PM302" in proc.stdout, proc.stdout


def test_leftover_background_process_is_killed_after_a_successful_import(tmp_path: Path
                                                                          ) -> None:
    marker = f"premerge-marker-{uuid.uuid4().hex}"
    repo = git_repo(tmp_path / "repo", {
        "premerge.yaml": 'smoke:\n  run_scripts: ["daemon.py"]\n',
        "daemon.py": f"""\
            import subprocess, sys
            subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)",
                              {marker!r}])
            """,
    })
    run = smoke(repo)
    assert run.findings == []
    assert eventually_none_alive(marker) == []


@pytest.mark.skipif(not os.path.exists(f"/proc/{os.getpid()}/task/{os.getpid()}/children"),
                    reason="needs Linux (a subreaper and /proc/PID/task/TID/children)")
@pytest.mark.parametrize("fresh", [False, True])
def test_daemon_that_left_its_process_group_is_killed(tmp_path: Path, fresh: bool) -> None:
    # a new session escapes the process-group kill; the warm parent, a subreaper, still
    # inherits the daemon when the import's process exits, and kills it
    marker = f"premerge-marker-{uuid.uuid4().hex}"
    repo = git_repo(tmp_path / "repo", {
        "premerge.yaml": 'smoke:\n  run_scripts: ["daemon.py"]\n',
        "daemon.py": f"""\
            import subprocess, sys, threading
            subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)",
                              {marker!r}], start_new_session=True)

            def start_from_a_thread():  # a child of that thread, not of the main one
                subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)",
                                  {marker!r} + "-thread"], start_new_session=True)

            worker = threading.Thread(target=start_from_a_thread)
            worker.start()
            worker.join()
            """,
        "other.py": "VALUE = 1\n",
    })
    run = smoke(repo, env={"PREMERGE_SMOKE_FRESH": "1"} if fresh else None)
    assert run.findings == []
    assert eventually_none_alive(marker) == []


@pytest.mark.skipif(not os.path.exists(f"/proc/{os.getpid()}/task/{os.getpid()}/children"),
                    reason="needs Linux (a subreaper and /proc/PID/task/TID/children)")
def test_the_one_stray_kill_loop_spares_kept_and_unselected_children(tmp_path: Path) -> None:
    # child.kill_orphans is the loop the warm parent, the supervisor, the import's child and
    # premerge (runner.kill_strays, which spares its own session) all use: a stray's daemon
    # is handed over only when the stray dies, so it takes a second round
    marker = f"premerge-marker-{uuid.uuid4().hex}"
    sleep = "import time; time.sleep(300)"
    chain = ("import subprocess, sys; "
             f"subprocess.Popen([sys.executable, '-c', {sleep!r}, {marker + '-daemon'!r}], "
             "start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); "
             "print('ready', flush=True); "
             "import time; time.sleep(300)")
    script = f"""\
import subprocess, sys
from premerge.smoke.child import become_subreaper, kill_orphans
assert become_subreaper()
start = lambda code, tag, stdout=subprocess.DEVNULL: subprocess.Popen(
    [sys.executable, "-c", code, {marker!r} + tag], start_new_session=True, stdout=stdout,
    stderr=subprocess.DEVNULL)
kept = start({sleep!r}, "-kept")
spared = start({sleep!r}, "-spared")
stray = start({chain!r}, "-stray", stdout=subprocess.PIPE)
assert stray.stdout.readline().strip() == b"ready"
reaped = kill_orphans(keep=[kept.pid], stray=lambda pid: pid != spared.pid)
print(reaped, kept.poll() is None, spared.poll() is None)
for proc in (kept, spared):
    proc.kill()
    proc.wait()
"""
    proc = run_python(script, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["2", "True", "True"]  # the stray, then its daemon
    assert eventually_none_alive(marker) == []


def test_script_with_top_level_argv_is_never_executed(tmp_path: Path) -> None:
    repo = git_repo(tmp_path / "repo", {
        "tools/convert.py": """\
            import sys
            from pathlib import Path
            target = Path(__file__).with_name("MARKER")
            source = sys.argv[1] if len(sys.argv) > 1 else "default"
            target.write_text(source)
            """,
        "tools/guarded.py": """\
            import sys
            from pathlib import Path

            def main():
                Path(__file__).with_name("GUARDED").write_text(sys.argv[0])

            if __name__ == "__main__":
                main()
            """,
    })
    run = smoke(repo)
    finding = run.one("tools/convert.py", "PM312")
    assert finding["severity"] == "note" and finding["line"] == 4
    assert "reads sys.argv" in finding["message"] and "smoke.run_scripts" in finding["message"]
    assert not (repo / "tools/MARKER").exists()
    assert run.by_path("tools/guarded.py") == []  # imported: the guard keeps main() off
    assert not (repo / "tools/GUARDED").exists()
    assert run.code == 0  # a note does not fail the run
    # the script really has that effect when run
    assert python_in(repo, "", cwd=repo).returncode == 0
    proc = python_in(repo, "import runpy; runpy.run_path('tools/convert.py', "
                           "run_name='__main__')")
    assert proc.returncode == 0 and (repo / "tools/MARKER").exists()


def test_unguarded_main_call_is_a_script(tmp_path: Path) -> None:
    repo = git_repo(tmp_path / "repo", {
        "job.py": """\
            import argparse

            def main():
                parser = argparse.ArgumentParser()
                parser.parse_args()

            main()
            """,
        "pkg/__init__.py": "",
        "pkg/__main__.py": "print('running')\n",
    })
    run = smoke(repo)
    job = run.one("job.py", "PM312")
    assert "calls main(), which parses command-line arguments (line 5)" in job["message"]
    assert job["line"] == 7
    assert "__main__.py" in run.one("pkg/__main__.py", "PM312")["message"]


def test_write_into_the_repository_is_reported(tmp_path: Path) -> None:
    repo = git_repo(tmp_path / "repo", {
        "app/__init__.py": "",
        "app/logs.py": """\
            import logging
            logging.basicConfig(filename="import.log")
            """,
        "app/quiet.py": "import logging\nLOG = logging.getLogger(__name__)\n",
    })
    run = smoke(repo)
    finding = run.one("app/logs.py", "PM311")
    assert finding["severity"] == "warning"
    assert "import.log (created)" in finding["message"]
    assert run.by_path("app/quiet.py") == []
    assert not (repo / "import.log").exists()  # written in the snapshot, never the tree
    assert run.code == 0  # a warning: fails only with --fail-on warning


def test_byte_code_is_not_a_repository_write(tmp_path: Path) -> None:
    repo = git_repo(tmp_path / "repo", {"lib/__init__.py": "", "lib/a.py": "import lib.b\n",
                                        "lib/b.py": "X = 1\n"})
    run = smoke(repo)
    assert run.findings == []
    assert not list(repo.rglob("__pycache__"))


def test_script_directory_with_sibling_imports_passes(tmp_path: Path) -> None:
    repo = git_repo(tmp_path / "repo", {
        "scripts/report.py": """\
            import helpers
            import json
            import yaml
            TOTAL = helpers.total([1, 2]) + json.SIBLING + yaml.SIBLING
            """,
        "scripts/helpers.py": "def total(values):\n    return sum(values)\n",
        # siblings that shadow a stdlib module premerge's child loads itself (json) and a
        # third-party module another module makes the warm parent preload (yaml)
        "scripts/json.py": "SIBLING = 1\n",
        "scripts/yaml.py": "SIBLING = 2\n",
        "other/uses_yaml.py": "import yaml\nassert not hasattr(yaml, 'SIBLING')\n",
    })
    proc = python_in(repo, "", cwd=repo)
    assert proc.returncode == 0
    run = smoke(repo)
    assert run.findings == [], run.findings
    # and the same script in a fresh `python scripts/report.py` really works
    proc = python_in(repo, "import runpy; runpy.run_path('scripts/report.py')",
                     path=repo / "scripts")
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("fresh", [False, True])
def test_missing_sibling_in_script_dir_is_reported(tmp_path: Path, fresh: bool) -> None:
    repo = git_repo(tmp_path / "repo", {"scripts/report.py": "import helpers_never_added\n"})
    run = smoke(repo, env={"PREMERGE_SMOKE_FRESH": "1"} if fresh else None)
    assert run.codes("scripts/report.py") == ["PM302"]


@pytest.mark.parametrize("fresh", [False, True])
def test_uncommitted_sibling_is_reported(tmp_path: Path, fresh: bool) -> None:
    repo = git_repo(tmp_path / "repo", {"scripts/report.py": "import helpers\n",
                                        ".gitignore": "generated.py\n",
                                        "scripts/uses_generated.py": "import generated\n"})
    (repo / "scripts/helpers.py").write_text("X = 1\n")  # exists here, never committed
    (repo / "scripts/generated.py").write_text("X = 1\n")  # ignored on purpose: silent
    run = smoke(repo, env={"PREMERGE_SMOKE_FRESH": "1"} if fresh else None)
    finding = run.one("scripts/report.py", "PM314")
    assert finding["line"] == 1 and "scripts/helpers.py" in finding["message"]
    assert run.by_path("scripts/uses_generated.py") == []
    assert run.by_path("scripts/helpers.py") == []  # the file itself is not the problem


def test_queued_imports_get_their_whole_timeout(tmp_path: Path) -> None:
    # One slot: the warm parent holds the next requests while the hanging import runs.  Their
    # timeouts start when they are forked, not when premerge queued them.
    repo = git_repo(tmp_path / "repo", {
        "premerge.yaml": 'smoke:\n  run_scripts: ["a_hang.py"]\n',
        "a_hang.py": "import time\ntime.sleep(300)\n",
        "b_slow.py": "import time\ntime.sleep(1.5)\n",
        "c_slow.py": "import time\ntime.sleep(1.5)\n",
    })
    run = smoke(repo, "--jobs", "1", "--timeout", "4")
    assert run.codes("a_hang.py") == ["PM309"]
    assert run.by_path("b_slow.py") == [] and run.by_path("c_slow.py") == [], run.findings


def test_at_most_jobs_imports_run_at_once(tmp_path: Path) -> None:
    log = tmp_path / "intervals"
    log.mkdir()
    module = f"""\
        import os, time
        start = time.time()
        time.sleep(0.4)
        with open(os.path.join({str(log)!r}, __name__), "w") as handle:
            handle.write(f"{{start}} {{time.time()}}")
        """
    repo = git_repo(tmp_path / "repo", {"premerge.yaml": 'smoke:\n  run_scripts: ["m*.py"]\n',
                                        **{f"m{i}.py": module for i in range(6)}})
    run = smoke(repo, "--jobs", "2")
    assert run.findings == [], [f["message"] for f in run.findings]
    intervals = [tuple(map(float, p.read_text().split())) for p in log.iterdir()]
    assert len(intervals) == 6
    events = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals])
    running = peak = 0
    for _, step in events:
        running += step
        peak = max(peak, running)
    assert peak <= 2


@pytest.mark.parametrize("fresh", [False, True])
def test_output_tail_and_last_line_survive_a_crash(tmp_path: Path, fresh: bool) -> None:
    # 100 kB of output, then the line that explains the crash: only the tail is kept, and
    # both modes (in-memory captures in the warm parent, files otherwise) report it the same
    repo = git_repo(tmp_path / "repo", {
        "premerge.yaml": 'smoke:\n  run_scripts: ["noisy.py"]\n',
        "noisy.py": """\
            import os, sys
            for i in range(2000):
                print("progress line", i, "." * 40)
                sys.stderr.write(f"warning {i}\\n")
            sys.stdout.flush()
            sys.stderr.write("fatal: config file missing\\n")
            sys.stderr.flush()
            os._exit(3)
            """,
    })
    run = smoke(repo, env={"PREMERGE_SMOKE_FRESH": "1"} if fresh else None)
    finding = run.one("noisy.py", "PM310")
    assert "status 3" in finding["message"]
    assert finding["message"].endswith("last output: fatal: config file missing")
    proc = python_in(repo, "import noisy")
    assert proc.returncode == 3 and proc.stderr.endswith("fatal: config file missing\n")
