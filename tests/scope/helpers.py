"""Shared helpers for the scope tests: run the check on real files, execute them for real."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from premerge.config import Config
from premerge.findings import Finding
from premerge.scope import run
from tests.conftest import run_python


def scope_findings(root: Path, *paths: Path, use_cache: bool = False) -> list[Finding]:
    """The scope check's findings for files under ``root`` (the real ``run`` entry point)."""
    config = Config(root=root)
    config.run.use_cache = use_cache
    return run(config, [str(p) for p in paths] or [str(root)]).findings


def write_module(directory: Path, source: str, name: str = "mod.py") -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    return path


def execute(directory: Path, snippet: str, *flags: str) -> subprocess.CompletedProcess[str]:
    """Run ``snippet`` (dedented) in a fresh interpreter with ``directory`` as the working
    directory (``tests.conftest.run_python``)."""
    return run_python(textwrap.dedent(snippet), directory, flags=flags)


def last_error(proc: subprocess.CompletedProcess[str]) -> str | None:
    """The exception type that ended the run (from the traceback's last line), or None."""
    if proc.returncode == 0:
        return None
    lines = [line for line in proc.stderr.strip().splitlines() if line.strip()]
    if not lines:
        return f"exit {proc.returncode}"
    return lines[-1].split(":", 1)[0].strip()


def project_venv(directory: Path) -> tuple[Path, Path]:
    """A real virtualenv standing for the checked project's environment (premerge's own lacks
    what is installed there): its interpreter and its site-packages."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(directory)], check=True,
                   capture_output=True, timeout=120)
    python = directory / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()"
                           "['purelib'])"], capture_output=True, text=True, check=True)
    return python, Path(site.stdout.strip())
