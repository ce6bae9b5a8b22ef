"""Helpers for the smoke tests: run premerge smoke as a real subprocess, read its JSON."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.conftest import init_repo, run_premerge, run_python


@dataclass
class SmokeRun:
    code: int
    findings: list[dict[str, Any]]
    stderr: str
    summary: dict[str, Any]

    def by_path(self, relpath: str) -> list[dict[str, Any]]:
        return [f for f in self.findings if f["path"] == relpath]

    def codes(self, relpath: str) -> list[str]:
        return [f["code"] for f in self.by_path(relpath)]

    def one(self, relpath: str, code: str) -> dict[str, Any]:
        found = [f for f in self.by_path(relpath) if f["code"] == code]
        assert len(found) == 1, (relpath, code, self.findings)
        return found[0]


def smoke(root: Path, *args: str, env: Mapping[str, str] | None = None,
          python: str | None = sys.executable, command: str = "smoke") -> SmokeRun:
    """``premerge smoke --format json`` in ``root`` with premerge's own interpreter by default
    (the ``python3`` on PATH here is a slow pyenv shim)."""
    cli = [command, "--format", "json", "--no-cache", *args]
    if python and "--python" not in args:
        cli += ["--python", python]
    proc = run_premerge(*cli, cwd=root, env=env)
    try:
        data = json.loads(proc.stdout)
    except ValueError:
        raise AssertionError(f"no JSON (exit {proc.returncode}): {proc.stdout!r} "
                             f"{proc.stderr!r}") from None
    return SmokeRun(proc.returncode, data["findings"], proc.stderr, data["summary"])


def write_tree(root: Path, files: Mapping[str, str]) -> None:
    for rel, content in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(content), encoding="utf-8")


def git_repo(root: Path, files: Mapping[str, str], commit: bool = True) -> Path:
    """``tests.conftest.init_repo`` for tests that want the path."""
    return init_repo(root, files, commit).path


def python_in(root: Path, code: str, *, cwd: Path | None = None,
              path: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter with ``path`` (default ``root``) first on sys.path
    (``tests.conftest.run_python``)."""
    return run_python(code, cwd or root, pythonpath=path or root)


def find_python(version: str) -> str | None:
    """A *working* ``python{version}`` (PATH first, then pyenv's versions), or None."""
    import glob
    import shutil

    candidates = [shutil.which(f"python{version}")]
    candidates += sorted(glob.glob(os.path.expanduser(f"~/.pyenv/versions/{version}*/bin/"
                                                      f"python{version}")))
    for candidate in candidates:
        if not candidate:
            continue
        try:
            proc = subprocess.run([candidate, "-c", "import sys; print(sys.version_info[:2])"],
                                  capture_output=True, text=True, timeout=30,
                                  stdin=subprocess.DEVNULL)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if proc.returncode == 0 and proc.stdout.strip() == str(tuple(map(int,
                                                                        version.split(".")))):
            return candidate
    return None


def alive_with(marker: str) -> list[int]:
    """PIDs of processes whose command line contains ``marker`` (a zombie's is empty)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                if marker.encode() in handle.read():
                    found.append(int(entry))
        except OSError:
            continue
    return found


def eventually_none_alive(marker: str, wait: float = 5.0) -> list[int]:
    """Wait up to ``wait`` seconds for every process naming ``marker`` to go; those left."""
    deadline = time.monotonic() + wait
    while alive_with(marker) and time.monotonic() < deadline:
        time.sleep(0.1)
    return alive_with(marker)
