"""Attack 2: the repository's git configuration names programs; premerge's git runs none.

Each repository carries, in its own ``.git/config``, every kind of key that makes git run a
program (fsmonitor on an index refresh, hooks, an external diff, textconv and filter drivers
that ``.gitattributes`` selects for every file, ssh), each writing a marker when it runs.  Plain
git runs them (proved first, so the trap is armed); premerge's scope, files, smoke and
``check --changed``, and the Action's own base look-up, must leave the marker absent.
"""

from __future__ import annotations

import subprocess
import textwrap
from pathlib import Path

import pytest

from tests.conftest import GIT_ENV, Repo, run_premerge
from tests.security.helpers import action_script, linux_only, marker_command

pytestmark = linux_only


def _arm(repo: Repo, marker: Path) -> None:
    """Plant the commands in .git/config and leave a.py stat-dirty (git must hash it)."""
    config = repo.path / ".git" / "config"
    hooks = repo.path / "evil-hooks"
    hooks.mkdir()
    for hook in ("post-index-change", "reference-transaction", "pre-auto-gc"):
        script = hooks / hook
        script.write_text(f"#!/bin/sh\n{marker_command(marker, hook)} </dev/null\n")
        script.chmod(0o755)
    quoted = {label: marker_command(marker, label).replace('"', '\\"')
              for label in ("fsmonitor", "external", "textconv", "diffcmd", "clean", "smudge",
                            "process", "ssh")}
    with config.open("a", encoding="utf-8") as handle:
        handle.write(textwrap.dedent(f"""\
            [core]
            \tfsmonitor = "{quoted['fsmonitor']}"
            \thooksPath = {hooks}
            \tsshCommand = "{quoted['ssh']}"
            [diff]
            \texternal = "{quoted['external']}"
            [diff "evil"]
            \ttextconv = "{quoted['textconv']}"
            \tcommand = "{quoted['diffcmd']}"
            [filter "evil"]
            \tclean = "{quoted['clean']}"
            \tsmudge = "{quoted['smudge']}"
            \trequired = true
            """))
    (repo.path / "a.py").write_text("import os\nx = 1\ny = 2\n", encoding="utf-8")
    subprocess.run(["touch", "-d", "2001-01-01", str(repo.path / "a.py")], check=True)


@pytest.fixture
def trapped(make_repo, tmp_path: Path) -> tuple[Repo, Path]:
    repo = make_repo({".gitattributes": "*.py filter=evil diff=evil\n",
                      "premerge.yaml": "version: 1\nrequired_files:\n  - a.py\n",
                      "a.py": "import os\n"})
    repo.git("checkout", "-q", "-b", "feature")
    repo.write("a.py", "import os\nx = 1\n")
    repo.commit("feature")
    marker = tmp_path / "marker"
    _arm(repo, marker)
    # the trap is armed: git itself runs the planted programs
    subprocess.run(["git", "status"], cwd=repo.path, capture_output=True, check=True,
                   env={**GIT_ENV, "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert marker.exists(), "plain git should have run the planted fsmonitor/filter"
    marker.unlink()
    return repo, marker


@pytest.mark.parametrize("command", [
    ("scope",), ("files",), ("smoke", "--no-cache"), ("check", "--changed", "--base", "main"),
    ("check", "--checks", "scope,files", "--changed", "--base", "main", "--no-cache"),
])
def test_premerge_runs_no_program_the_repository_configures(trapped, command) -> None:
    repo, marker = trapped
    proc = run_premerge(*command, cwd=repo.path)
    assert proc.returncode in (0, 1), proc.stderr
    assert not marker.exists(), f"git ran: {marker.read_text()}"


def test_a_module_that_plants_fsmonitor_during_smoke_runs_nothing(make_repo,
                                                                  tmp_path: Path) -> None:
    """The issue's attack: an import appends fsmonitor to .git/config; premerge's next git
    call (the untracked-files query after the imports, and any later `files`) must not run it."""
    marker = tmp_path / "marker"
    payload = marker_command(marker, "fsmonitor").replace('"', '\\"')
    # by absolute path: the smoke snapshot the import runs in has no .git to walk up to
    config_path = tmp_path / "planted" / ".git" / "config"
    repo = make_repo({"plant.py": f"""\
        from pathlib import Path
        config = Path({str(config_path)!r})
        with config.open("a") as handle:
            handle.write('[core]\\n\\tfsmonitor = "{payload}; true"\\n')
        """, "premerge.yaml": "version: 1\nrequired_files:\n  - plant.py\n"}, name="planted")
    proc = run_premerge("check", "--no-cache", cwd=repo.path)
    assert "fsmonitor" in (repo.path / ".git" / "config").read_text(), proc.stderr
    run_premerge("files", cwd=repo.path)
    assert not marker.exists(), f"git ran: {marker.read_text()}"


def test_the_action_base_lookup_runs_nothing_either(trapped, tmp_path: Path) -> None:
    repo, marker = trapped
    base = repo.git("rev-parse", "main").strip()
    proc = action_script(repo.path, tmp_path, "pull_request",
                         {"pull_request": {"base": {"sha": base, "ref": "main"}}},
                         {"checks": "scope,files"})
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr
    assert f"--base={base}" in proc.stderr
    assert not marker.exists(), f"git ran: {marker.read_text()}"
