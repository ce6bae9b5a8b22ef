"""Attack 1: the checked project's code imported into premerge's own process.

A pull request ships ``premerge/__init__.py``, ``yaml.py`` and ``json.py`` that print a planted
secret; a laptop has ``PYTHONPATH=.`` and the project a ``sitecustomize.py``/``json.py``.  The
Action's real run step, the real pre-commit hook and the ``premerge`` console script must not
import any of them (the secret never appears, the real report does).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import Repo, pre_commit_env
from tests.security.helpers import action_script

SECRET = "s3cr3t-token-value-4711"

#: every module prints the secret (as a leak into the job log would) and records its import
PLANTED = """\
import os, sys
print("LEAK", os.environ.get("PLANTED_SECRET"), file=sys.stderr)
with open(os.environ["PLANTED_MARKER"], "a") as handle:
    handle.write(__name__ + " " + " ".join(sys.orig_argv) + "\\n")
"""

BUG = "def report():\n    return helper()\n"


def _leaked(marker: Path, output: str) -> list[str]:
    lines = marker.read_text().splitlines() if marker.exists() else []
    return [line for line in lines if "-m premerge " in line or "bin/premerge " in line] + \
        (["secret printed"] if SECRET in output else [])


def test_pull_request_premerge_package_and_yaml_do_not_run_in_the_action(
        make_repo, tmp_path: Path) -> None:
    repo: Repo = make_repo({"app.py": "X = 1\n", "premerge.yaml": "version: 1\n"})
    base = repo.git("rev-parse", "HEAD").strip()
    repo.git("checkout", "-q", "-b", "feature")
    repo.files({"premerge/__init__.py": PLANTED, "premerge/__main__.py": PLANTED,
                "yaml.py": PLANTED, "json.py": PLANTED, "app.py": BUG})
    repo.commit("feature")
    marker = tmp_path / "marker"
    proc = action_script(repo.path, tmp_path, "pull_request_target",
                         {"pull_request": {"base": {"sha": base, "ref": "main"}}},
                         {"checks": "scope,files"},
                         extra_env={"PLANTED_SECRET": SECRET, "PLANTED_MARKER": str(marker)})
    output = proc.stdout + proc.stderr
    assert not _leaked(marker, output), output
    # premerge itself ran, and found the pull request's bug
    assert proc.returncode == 1, output
    sarif = json.loads((tmp_path / "runner-temp" / "premerge" / "premerge.sarif").read_text())
    assert [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            for r in sarif["runs"][0]["results"]] == ["app.py"]


def _laptop_repo(make_repo) -> Repo:
    return make_repo({"app.py": "import os\nprint(os.sep)\n", "json.py": PLANTED,
                      "yaml.py": PLANTED})


def _console_script() -> str:
    return str(Path(sys.executable).with_name("premerge"))


def test_pythonpath_dot_does_not_reach_premerge_scope(make_repo, tmp_path: Path) -> None:
    """json.py on PYTHONPATH: the scope cache reads and writes JSON; twice (write, then hit)."""
    repo = _laptop_repo(make_repo)
    marker = tmp_path / "marker"
    env = {**os.environ, "PYTHONPATH": ".", "PLANTED_SECRET": SECRET,
           "PLANTED_MARKER": str(marker)}
    for _ in range(2):
        proc = subprocess.run([_console_script(), "scope", "app.py"], cwd=repo.path, env=env,
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert "no findings in 1 file" in proc.stderr
        assert not _leaked(marker, proc.stdout + proc.stderr)


def test_a_sitecustomize_that_already_ran_stops_the_console_script(make_repo,
                                                                   tmp_path: Path) -> None:
    """The interpreter imports sitecustomize before premerge's first line: premerge cannot
    undo that, so it refuses to go on in a process that is no longer its own."""
    repo = _laptop_repo(make_repo)
    repo.write("sitecustomize.py", PLANTED)
    env = {**os.environ, "PYTHONPATH": ".", "PLANTED_SECRET": "",
           "PLANTED_MARKER": str(tmp_path / "marker")}
    proc = subprocess.run([_console_script(), "scope", "app.py"], cwd=repo.path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1].startswith(
        "premerge: error: module 'sitecustomize' was imported from the checked repository")
    assert "no findings" not in proc.stderr


def test_the_pre_commit_hook_ignores_pythonpath(make_repo, tmp_path: Path, pre_commit_home,
                                                hook_repo) -> None:
    repo = _laptop_repo(make_repo)
    repo.write("sitecustomize.py", PLANTED)
    repo.write("app.py", BUG)
    repo.git("add", "-A")
    marker = tmp_path / "marker"
    env = {**pre_commit_env(pre_commit_home), "PYTHONPATH": ".", "PLANTED_SECRET": SECRET,
           "PLANTED_MARKER": str(marker)}
    # pre-commit itself isolated (its yaml would be the project's): the hook inherits the
    # PYTHONPATH, as under a developer's shell
    proc = subprocess.run([sys.executable, "-I", "-m", "pre_commit", "try-repo",
                           str(hook_repo.path), "premerge-scope", "--ref", hook_repo.rev,
                           "--files", "app.py"], cwd=repo.path, capture_output=True,
                          text=True, env=env, timeout=600, stdin=subprocess.DEVNULL)
    output = proc.stdout + proc.stderr
    assert not _leaked(marker, output), output
    assert proc.returncode == 1 and "app.py:2" in output, output


#: PM109 needs the project interpreter's search path for `yaml` (third-party): asking it is
#: the one moment `premerge scope` starts a program
ASKS_THE_PROJECT = """\
import urllib.parse
import yaml


def f():
    return urllib.request.urlopen, yaml.nodes
"""


def test_scope_never_starts_an_interpreter_the_repository_ships(make_repo,
                                                                 tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    repo = make_repo({"a.py": ASKS_THE_PROJECT,
                      "premerge.yaml": "version: 1\nsmoke:\n  python: .venv/bin/python\n",
                      ".venv/pyvenv.cfg": "home = /usr/bin\n",
                      ".venv/bin/python": f"#!/bin/sh\necho ran >> {marker}\necho '[]'\n"},
                     commit=False)
    (repo.path / ".venv" / "bin" / "python").chmod(0o755)
    repo.commit("ships an interpreter")
    proc = subprocess.run([_console_script(), "scope", "a.py", "--no-cache"], cwd=repo.path,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode in (0, 1), proc.stderr
    assert not marker.exists()


def test_scope_asks_the_project_interpreter_isolated(make_repo, tmp_path: Path) -> None:
    """The project's interpreter (a virtualenv outside the repository, with a hostile .pth)
    is asked for its search path from the repository's directory, where json.py, site.py and
    sitecustomize.py wait: none of them, nor the .pth, may run; the answer still arrives."""
    marker = tmp_path / "marker"
    venv = tmp_path / "project-venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True,
                   timeout=120)
    python = venv / "bin" / "python"
    site_packages = Path(subprocess.run(
        [str(python), "-c", "import site; print(site.getsitepackages()[0])"],
        capture_output=True, text=True, check=True).stdout.strip())
    (site_packages / "evil.pth").write_text(
        f"import os; open({str(marker)!r}, 'a').write('pth ' + ' '.join(os.sys.argv) + '\\n')\n")
    (site_packages / "yaml.py").write_text("nodes = None\n")
    planted = f"open({str(marker)!r}, 'a').write(__name__ + '\\n')\n"
    repo = make_repo({"a.py": ASKS_THE_PROJECT, "json.py": planted, "site.py": planted,
                      "sitecustomize.py": planted,
                      "premerge.yaml": f"version: 1\nsmoke:\n  python: {python}\n"})
    proc = subprocess.run([_console_script(), "scope", "a.py", "--no-cache",
                           "--format", "json"], cwd=repo.path, capture_output=True,
                          text=True, timeout=120)
    assert not marker.exists(), marker.read_text()
    codes = {f["code"] for f in json.loads(proc.stdout)["findings"]}
    assert codes == {"PM109"}, proc.stdout  # the project's path was learnt: yaml resolves
