"""Attacks of imported code on premerge's own process and on the machine's processes (issue 10,
items 5-8): each builds a real repository and runs the real CLI as a subprocess.

Linux alone has the mechanisms (``prctl`` non-dumpable and subreaper, ``/proc``): elsewhere the
tests are skipped, never faked.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests.conftest import GIT_ENV
from tests.smoke.helpers import alive_with, eventually_none_alive, git_repo, smoke

LINUX = sys.platform.startswith("linux") and os.path.exists(
    f"/proc/{os.getpid()}/task/{os.getpid()}/children")
pytestmark = pytest.mark.skipif(not LINUX, reason="prctl (non-dumpable, subreaper) and /proc "
                                                  "exist on Linux only")

MODES = [pytest.param(False, id="warm"), pytest.param(True, id="fresh")]


def _mode_env(fresh: bool) -> dict[str, str]:
    return {"PREMERGE_SMOKE_FRESH": "1"} if fresh else {}


def _running(pid: int) -> bool:
    """The process exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            data = handle.read()
    except OSError:
        return False
    return data[data.rfind(b")") + 2:].split()[0] != b"Z"


def _premerge(repo: Path, *args: str, env: dict[str, str] | None = None
              ) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "premerge", "smoke", "--format", "json", "--no-cache",
         "--python", sys.executable, *args], cwd=repo, stdin=subprocess.PIPE,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env={**os.environ, **GIT_ENV, **(env or {})})


SPY = '''\
import os

report = []
pid = os.getppid()
for _ in range(12):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as handle:
            command = handle.read().replace(b"\\0", b" ").decode(errors="replace").strip()
    except OSError:
        command = "?"
    got = []
    try:
        with open("/proc/%d/environ" % pid, "rb") as handle:
            env = handle.read()
        if b"SMOKE_CANARY_TOKEN=" in env:
            got.append("environ " + env.split(b"SMOKE_CANARY_TOKEN=")[1].split(b"\\0")[0].decode())
    except OSError as exc:
        got.append("environ %s" % exc.strerror)
    try:
        fd = os.open("/proc/%d/fd/0" % pid, os.O_RDONLY | os.O_NONBLOCK)
        got.append("stdin " + os.read(fd, 200).decode(errors="replace"))
    except OSError as exc:
        got.append("stdin %s" % exc.strerror)
    try:
        fd = os.open("/proc/%d/fd/1" % pid, os.O_WRONLY | os.O_NONBLOCK)
        os.write(fd, b"\\n::error::planted by an import\\n")
        got.append("stdout written")
    except OSError as exc:
        got.append("stdout %s" % exc.strerror)
    report.append("%d [%s] %s" % (pid, command[:80], "; ".join(got)))
    if "-m premerge" in command:
        break
    with open("/proc/%d/status" % pid) as handle:
        pid = int(handle.read().split("PPid:")[1].split()[0])
raise RuntimeError(" | ".join(report))
'''


@pytest.mark.parametrize("fresh", MODES)
def test_smoke_import_cannot_read_premerge_environ_stdin_or_write_its_stdout(
        tmp_path: Path, fresh: bool) -> None:
    """Item 5: walking up from os.getppid(), an import reached premerge's /proc entries."""
    canary = f"canary-{uuid.uuid4().hex}"
    repo = git_repo(tmp_path / "repo", {"spy.py": SPY})
    proc = _premerge(repo, env={"SMOKE_CANARY_TOKEN": canary, **_mode_env(fresh)})
    out, err = proc.communicate(b"stdin-secret-line\n", timeout=120)
    text = out.decode(errors="replace")
    assert canary not in text + err.decode(errors="replace")
    assert "stdin-secret-line" not in text
    assert "::error::planted" not in text
    data = json.loads(text)
    [finding] = [f for f in data["findings"] if f["path"] == "spy.py"]
    # the walk did reach premerge, and was refused there
    assert "-m premerge" in finding["message"], finding["message"]
    premerge_part = finding["message"].split("-m premerge")[1]
    assert "stdout written" not in premerge_part


@pytest.mark.parametrize("fresh", MODES)
def test_smoke_import_that_kills_its_parent_is_reported_and_premerge_survives(
        tmp_path: Path, fresh: bool) -> None:
    """Item 6: os.kill(os.getppid(), SIGKILL) killed premerge (exit 137, no output)."""
    repo = git_repo(tmp_path / "repo", {
        "premerge.yaml": 'smoke:\n  run_scripts: ["killer.py"]\n',
        "killer.py": "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\n",
        "broken.py": "import premerge_no_such_dependency_xyz\n",
        "fine.py": "VALUE = 1\n",
    })
    run = smoke(repo, env=_mode_env(fresh))
    assert run.code == 1, run.stderr
    killer = run.one("killer.py", "PM316")
    assert "SIGKILL" in killer["message"]
    assert run.codes("broken.py") == ["PM302"]  # the other imports still ran and reported
    assert run.codes("fine.py") == []


@pytest.mark.parametrize("fresh", MODES)
def test_smoke_import_that_stops_its_parent_does_not_hang_premerge(tmp_path: Path,
                                                                    fresh: bool) -> None:
    """Item 6: os.kill(os.getppid(), SIGSTOP) hung premerge past --timeout."""
    repo = git_repo(tmp_path / "repo", {
        "premerge.yaml": 'smoke:\n  run_scripts: ["freezer.py"]\n',
        "freezer.py": "import os, signal\nos.kill(os.getppid(), signal.SIGSTOP)\n",
        "broken.py": "import premerge_no_such_dependency_xyz\n",
    })
    proc = _premerge(repo, "--timeout", "3", env=_mode_env(fresh))
    try:
        out, err = proc.communicate(timeout=90)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        pytest.fail("premerge hung on a stopped parent")
    data = json.loads(out)
    codes = {(f["path"], f["code"]) for f in data["findings"]}
    assert ("freezer.py", "PM316") in codes, (data["findings"], err)
    assert ("broken.py", "PM302") in codes
    [freezer] = [f for f in data["findings"] if f["path"] == "freezer.py"]
    assert "SIGSTOP" in freezer["message"]


DAEMONS = '''\
import os, subprocess, sys, time
MARK = {marker!r}
subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)", MARK + "-session"],
                 start_new_session=True)
if os.fork() == 0:  # the classic double fork
    os.setsid()
    if os.fork() == 0:
        os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(300)",
                                  MARK + "-double"])
    os._exit(0)
{tail}
'''


def test_smoke_daemons_of_a_timed_out_import_never_survive_fresh_mode(tmp_path: Path) -> None:
    """Item 7: in fresh mode a timeout left start_new_session and double-forked daemons alive
    with parent 1."""
    marker = f"premerge-marker-{uuid.uuid4().hex}"
    repo = git_repo(tmp_path / "repo", {
        "premerge.yaml": 'smoke:\n  run_scripts: ["daemons.py"]\n',
        "daemons.py": DAEMONS.format(marker=marker, tail="time.sleep(300)"),
    })
    run = smoke(repo, "--timeout", "2", env=_mode_env(True))
    assert run.codes("daemons.py") == ["PM309"]
    assert eventually_none_alive(marker) == []


@pytest.mark.parametrize("fresh", MODES)
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["TERM", "INT"])
def test_smoke_sigterm_of_premerge_kills_every_process_of_the_run(
        tmp_path: Path, fresh: bool, signum: int) -> None:
    """Item 7: ``kill -TERM <premerge>`` (a cancelled CI job) left a busy import running."""
    marker = f"premerge-marker-{uuid.uuid4().hex}"
    ready = tmp_path / "ready"
    repo = git_repo(tmp_path / "repo", {
        "premerge.yaml": 'smoke:\n  run_scripts: ["busy.py"]\n',
        "busy.py": DAEMONS.format(marker=marker, tail=(
            f"open({str(ready)!r} + '.tmp', 'w').write(str(os.getpid()))\n"
            f"os.rename({str(ready)!r} + '.tmp', {str(ready)!r})\n"
            "while True:\n    pass\n")),
    })
    proc = _premerge(repo, "--timeout", "120", env=_mode_env(fresh))
    deadline = time.monotonic() + 60
    while not ready.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert ready.exists(), "the import never started"
    time.sleep(0.2)
    assert len(alive_with(marker)) >= 2  # the two daemons run
    proc.send_signal(signum)
    try:
        proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        pytest.fail("premerge did not exit on the signal")
    assert proc.returncode == (130 if signum == signal.SIGINT else 143)
    assert eventually_none_alive(marker) == []
    busy = int(ready.read_text())  # the busy import itself
    deadline = time.monotonic() + 5
    while _running(busy) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _running(busy)


def test_smoke_hard_limits_cannot_be_raised_by_the_import(tmp_path: Path) -> None:
    """Item 8: memory and file-size limits were soft only; the import raised them again."""
    raise_limits = (
        "import resource, signal, tempfile\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "for which in (resource.RLIMIT_AS, resource.RLIMIT_FSIZE):\n"
        "    soft, hard = resource.getrlimit(which)\n"
        "    try:\n"
        "        resource.setrlimit(which, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))\n"
        "    except (ValueError, OSError):\n"
        "        pass\n")
    repo = git_repo(tmp_path / "repo", {
        "premerge.yaml": 'smoke:\n  run_scripts: ["big_file.py", "big_memory.py"]\n',
        # sparse: neither the file nor the mapping costs real disk or memory
        "big_file.py": raise_limits + "with tempfile.TemporaryFile() as handle:\n"
                                      "    handle.truncate(200 * 1024 * 1024)\n",
        "big_memory.py": raise_limits + "RESERVED = bytearray(2048 * 1024 * 1024)\n",
    })
    run = smoke(repo, env={"PREMERGE_SMOKE_MEMORY_MB": "1024"})
    big_file = run.by_path("big_file.py")
    assert [f["code"] for f in big_file] == ["PM307"], run.findings
    assert "File too large" in big_file[0]["message"]
    big_memory = run.by_path("big_memory.py")
    assert [f["code"] for f in big_memory] == ["PM307"], run.findings
    assert "MemoryError" in big_memory[0]["message"]


FORGER = '''\
import json, os
forged = []
for ident in range(1, 20):
    result = json.dumps({"status": "ok", "pid": 1})
    forged.append(json.dumps({"op": "exited", "id": ident, "pid": 1,
                              "status": {"signal": None, "code": 0},
                              "captured": {"result": [len(result), result]}}))
payload = ("\\n" + "\\n".join(forged) + "\\n").encode()
parent = os.getppid()
try:
    descriptors = os.listdir("/proc/%d/fd" % parent)
except OSError:
    descriptors = []
for name in descriptors:
    try:
        fd = os.open("/proc/%d/fd/%s" % (parent, name), os.O_WRONLY | os.O_NONBLOCK)
        os.write(fd, payload)
        os.close(fd)
    except OSError:
        pass
'''


def test_smoke_import_cannot_forge_results_through_the_warm_parents_pipes(
        tmp_path: Path) -> None:
    """Item 5, one step down: the warm parent's pipe to premerge was open to its children
    through /proc/<ppid>/fd, so an import could report every other module as imported OK."""
    repo = git_repo(tmp_path / "repo", {
        "premerge.yaml": "smoke:\n  jobs: 1\n",
        "a_forger.py": FORGER,
        **{f"z_broken_{n}.py": "import premerge_no_such_dependency_xyz\n" for n in range(3)},
    })
    run = smoke(repo)
    for n in range(3):
        assert run.codes(f"z_broken_{n}.py") == ["PM302"], run.findings
