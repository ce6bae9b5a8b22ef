"""Progress and insight: a progress line on a terminal for runs over a second (never off a
terminal or under CI), and ``--verbose`` per-module times with the slowest modules."""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.smoke.helpers import git_repo

FILES = {
    "app/__init__.py": "",
    "app/slow.py": "import time\ntime.sleep(1.5)\n",
    "app/quick.py": "X = 1\n",
    "app/broken.py": "import not_installed_anywhere_xyz\n",
}


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return git_repo(tmp_path_factory.mktemp("progress") / "repo", FILES)


def _on_a_terminal(repo: Path, *args: str, env: dict[str, str]) -> tuple[int, str, str]:
    """premerge smoke with stderr on a pseudo-terminal: (exit code, stdout, terminal text)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "premerge", "smoke", "--no-cache",
                             "--python", sys.executable, "--jobs", "2", *args], cwd=repo,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave,
                            env={**os.environ, **env})
    os.close(slave)
    chunks = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                data = os.read(master, 65536)
            except OSError:  # the other end closed
                break
            if not data:
                break
            chunks.append(data)
        elif proc.poll() is not None:
            break
    os.close(master)
    out = proc.stdout.read().decode() if proc.stdout else ""
    return proc.wait(timeout=60), out, b"".join(chunks).decode(errors="replace")


def _clean_env() -> dict[str, str]:
    return {"CI": "", "GITHUB_ACTIONS": "", "PREMERGE_DEBUG": ""}


def test_a_run_over_a_second_shows_progress_on_a_terminal(repo: Path) -> None:
    code, _out, terminal = _on_a_terminal(repo, env=_clean_env())
    assert code == 1  # app/broken.py
    assert "/4]" in terminal, terminal  # modules done / total
    assert "1 failed" in terminal, terminal


def test_no_progress_under_ci_even_on_a_terminal(repo: Path) -> None:
    code, _out, terminal = _on_a_terminal(repo, env={**_clean_env(), "CI": "true"})
    assert code == 1
    assert "/4]" not in terminal, terminal


def test_verbose_prints_per_module_times_and_the_slowest(repo: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "premerge", "smoke", "--no-cache", "-v",
                           "--python", sys.executable, "--format", "json"], cwd=repo,
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
                          env={**os.environ, **_clean_env()})
    lines = proc.stderr.splitlines()
    row = re.compile(r"^\s+(\d+\.\d+)\s+(\d+\.\d+|-)\s+(\S+)\s+(\S+\.py)")
    timed = {match.group(3): float(match.group(1)) for match in map(row.match, lines) if match}
    assert set(timed) == {"app", "app.slow", "app.quick", "app.broken"}, proc.stderr
    assert timed["app.slow"] >= 1.5, proc.stderr
    slowest = next(line for line in lines if line.startswith("smoke: slowest: "))
    assert slowest.startswith("smoke: slowest: app.slow "), slowest
    assert any("import slots idle" in line for line in lines), proc.stderr
    assert proc.stdout.lstrip().startswith("{")  # the report itself is untouched
