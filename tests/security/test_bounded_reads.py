"""Attack 3 (and the manifest half of 8): files that are not regular, or lead elsewhere.

A committed ``z.py -> /dev/zero`` grew premerge's memory without end (the size was checked by
path, then the file read unbounded); a FIFO hung ``open`` forever; a manifest linked to a
device, out of the repository, to nowhere or to itself.  Each run here is a real CLI process
under a 2 GiB address-space limit (so the old behaviour fails fast instead of taking the
machine down) and a timeout: one finding or one line on stderr, never a hang.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import Repo
from tests.security.helpers import linux_only

pytestmark = linux_only

MEMORY_LIMIT = 2 << 30


def _limited() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def premerge(repo: Repo, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-I", "-m", "premerge", *args], cwd=repo.path,
                          capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL, preexec_fn=_limited)


def _error_line(proc: subprocess.CompletedProcess[str]) -> str:
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1, proc.stderr
    assert lines[0].startswith("premerge: error: "), proc.stderr
    return lines[0]


@pytest.fixture
def devices(make_repo, tmp_path: Path) -> Repo:
    """z.py -> /dev/zero and f.py -> a FIFO, both committed, beside a clean module."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    repo = make_repo({"a.py": "X = 1\n"}, commit=False)
    os.symlink("/dev/zero", repo.path / "z.py")
    os.symlink(fifo, repo.path / "f.py")
    repo.commit("devices")
    return repo


@pytest.mark.parametrize("command", ["scope", "smoke", "check"])
def test_a_device_or_fifo_module_is_one_finding_each(devices: Repo, command: str) -> None:
    proc = premerge(devices, command, "--format", "json", "--no-cache")
    assert proc.returncode == 1, proc.stderr
    import json

    found = {(f["path"], f["code"], f["message"]) for f in json.loads(proc.stdout)["findings"]}
    assert found == {
        ("z.py", "PM006", "not read: is a character device, not a regular file"),
        ("f.py", "PM006", "not read: is a FIFO (named pipe), not a regular file"),
    }, proc.stdout


def test_files_reads_neither(devices: Repo) -> None:
    devices.write("premerge.yaml", "version: 1\nrequired_files:\n  - a.py\n")
    devices.commit("manifest")
    proc = premerge(devices, "files")
    assert proc.returncode == 0, proc.stderr
    assert "no findings" in proc.stderr


@pytest.mark.parametrize("target, message", [
    ("/dev/zero", "the manifest is a symlink to /dev/zero, outside the repository"),
    ("{outside}", "the manifest is a symlink to {outside}, outside the repository"),
    ("{missing}", "the manifest is a symlink to {missing}, outside the repository"),
    ("gone.yaml", "cannot read the manifest: dangling symlink"),
    ("premerge.yaml", "cannot read the manifest: looping symlink"),
    ("sub", "the manifest is a directory, not a regular file"),
])
def test_a_manifest_link_is_one_line(make_repo, tmp_path: Path, target: str,
                                     message: str) -> None:
    outside = tmp_path / "outside.yaml"
    outside.write_text("version: 1\n")
    missing = tmp_path / "missing.yaml"
    repo = make_repo({"a.py": "X = 1\n", "sub/b.py": ""}, commit=False)
    os.symlink(target.format(outside=outside, missing=missing), repo.path / "premerge.yaml")
    repo.commit("linked manifest")
    for command in ("files", "scope", "check"):
        line = _error_line(premerge(repo, command))
        assert line.endswith(message.format(outside=outside, missing=missing)) or \
            message.format(outside=outside, missing=missing) in line, line


def test_a_fifo_manifest_is_one_line(make_repo) -> None:
    repo = make_repo({"a.py": "X = 1\n"})
    os.mkfifo(repo.path / "premerge.yaml")
    assert _error_line(premerge(repo, "scope")).endswith(
        "the manifest is a FIFO (named pipe), not a regular file")


@pytest.mark.parametrize("value", [".nan", ".inf", "-.inf", "-1", "0"])
def test_a_timeout_that_is_not_a_positive_finite_number_is_a_usage_error(make_repo,
                                                                         value: str) -> None:
    repo = make_repo({"a.py": "X = 1\n",
                      "premerge.yaml": f"version: 1\nsmoke:\n  timeout: {value}\n"})
    line = _error_line(premerge(repo, "smoke"))
    assert line.endswith("premerge.yaml:3: 'smoke.timeout' must be more than 0 seconds, "
                         "and finite"), line


@pytest.mark.parametrize("value", ["nan", "inf", "-1"])
def test_the_timeout_option_too(make_repo, value: str) -> None:
    repo = make_repo({"a.py": "X = 1\n"})
    proc = premerge(repo, "smoke", f"--timeout={value}")
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1].endswith(
        "argument --timeout: must be more than 0, and finite") or value == "-1", proc.stderr
