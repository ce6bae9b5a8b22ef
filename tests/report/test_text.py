"""``--format text`` on real repositories: one line per cause, bounded related lines, a closing
summary that says what passed, ``--statistics``, ``--quiet`` and colour.

Every fixture is a real git repository checked by a real ``premerge`` process (smoke imports
its modules in fresh interpreters); JSON of the same run proves nothing was dropped.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Repo, run_premerge, run_python

#: ``path:line:col: CODE message`` -- the contract's parseable finding line
FINDING_LINE = re.compile(r"^(?P<path>[^\s:][^:]*):(?P<line>\d+):(?P<col>\d+): "
                          r"(?P<code>PM\d{3}) (?P<message>.+)$")
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def premerge(repo: Repo, command: str, *args: str, env: dict[str, str] | None = None):
    """``premerge COMMAND ARGS`` as a real process; smoke imports with this interpreter."""
    python = ("--python", sys.executable) if command in ("smoke", "check") else ()
    return run_premerge(command, *args, "--no-cache", *python, cwd=repo.path,
                        env={"NO_COLOR": "", "FORCE_COLOR": "", **(env or {})})


def finding_lines(text: str) -> list[re.Match[str]]:
    return [m for m in map(FINDING_LINE.match, text.splitlines()) if m]


def json_findings(repo: Repo, command: str) -> list[dict[str, object]]:
    proc = premerge(repo, command, "--format", "json")
    return json.loads(proc.stdout)["findings"]


#: one core module needs a package that is not installed; 40 modules import the core
HEAVY = {
    "app/__init__.py": "",
    "app/core.py": "import premerge_absent_numpy as np\n\n\ndef mean(xs):\n"
                   "    return np.mean(xs)\n",
    **{f"app/m{i:02}.py": f"from app.core import mean\n\nVALUE = {i}\n" for i in range(40)},
}


@pytest.fixture
def heavy(make_repo: Callable[..., Repo]) -> Repo:
    return make_repo(HEAVY)


def test_one_missing_dependency_is_one_bounded_finding(heavy: Repo) -> None:
    proc = premerge(heavy, "smoke")
    assert proc.returncode == 1, proc.stderr
    lines = proc.stdout.splitlines()
    heads = finding_lines(proc.stdout)
    assert [(m["path"], m["code"]) for m in heads] == [("app/core.py", "PM302")]
    assert heads[0]["message"].startswith(
        "41 modules cannot be imported: no module named 'premerge_absent_numpy'")
    assert len(lines) == 5, proc.stdout  # the finding, 3 related lines, "... and N more"
    assert lines[1:4] == [f"    app/m{i:02}.py:1:1: also stops app.m{i:02} from importing"
                          for i in range(3)]
    assert lines[4] == "    ... and 37 more modules (see --format json)"
    # JSON keeps every location: the one finding and each module it stops
    (finding,) = json_findings(heavy, "smoke")
    assert finding["code"] == "PM302"
    assert finding["message"].startswith("app.core cannot be imported: no module named")
    assert len(finding["related"]) == 40
    # the import really fails: the report is about a real ModuleNotFoundError
    run = run_python("import app.m00", heavy.path)
    assert "ModuleNotFoundError: No module named 'premerge_absent_numpy'" in run.stderr


def test_direct_importers_of_one_missing_package_are_one_text_finding(
        make_repo: Callable[..., Repo]) -> None:
    repo = make_repo({f"tool{i}.py": "import premerge_absent_torch\n" for i in range(6)})
    proc = premerge(repo, "smoke")
    heads = finding_lines(proc.stdout)
    assert len(heads) == 1, proc.stdout
    assert heads[0]["path"] == "tool0.py" and heads[0]["code"] == "PM302"
    assert heads[0]["message"].startswith("6 modules cannot be imported: no module named "
                                          "'premerge_absent_torch'")
    assert "    tool1.py:1:1: tool1 cannot be imported either" in proc.stdout.splitlines()
    assert "... and 2 more modules (see --format json)" in proc.stdout
    assert len(json_findings(repo, "smoke")) == 6


OPTIONAL = """\
try:
    import premerge_absent_yaml
    import premerge_absent_toml
    import premerge_absent_ujson
except ImportError:
    pass


def load(text):
    return premerge_absent_yaml.safe_load(text), premerge_absent_toml.loads(text)


def dump(obj):
    return premerge_absent_ujson.dumps(obj), premerge_absent_yaml.dump(obj)
"""


def test_one_try_block_of_optional_imports_is_one_finding(
        make_repo: Callable[..., Repo]) -> None:
    repo = make_repo({"opt.py": OPTIONAL})
    proc = premerge(repo, "scope")
    heads = finding_lines(proc.stdout)
    assert len(heads) == 1, proc.stdout
    assert heads[0]["code"] == "PM105" and (heads[0]["line"], heads[0]["col"]) == ("10", "12")
    assert heads[0]["message"] == (
        "'premerge_absent_yaml', 'premerge_absent_toml' and 'premerge_absent_ujson' may be "
        "unbound: imported in one optional `try` block (the handler at line 5 lets the failure "
        "pass) and used unguarded 4 times")
    assert "    opt.py:10:50: 'premerge_absent_toml' used here" in proc.stdout.splitlines()
    found = json_findings(repo, "scope")
    assert [(f["code"], f["line"]) for f in found] == [("PM105", 10), ("PM105", 10),
                                                       ("PM105", 14), ("PM105", 14)]
    assert "premerge: 1 problem (4 findings: 4 warnings)" in proc.stderr
    run = run_python("import opt; opt.load('x')", repo.path)
    assert "NameError: name 'premerge_absent_yaml' is not defined" in run.stderr


def test_two_try_blocks_stay_two_findings(make_repo: Callable[..., Repo]) -> None:
    repo = make_repo({"opt.py": """\
        try:
            import premerge_absent_a
        except ImportError:
            pass
        try:
            import premerge_absent_b
        except ImportError:
            pass


        def f():
            return premerge_absent_a, premerge_absent_b
        """})
    heads = finding_lines(premerge(repo, "scope").stdout)
    assert [(m["code"], m["col"]) for m in heads] == [("PM105", "12"), ("PM105", "31")]


def test_static_finding_and_the_import_failure_it_causes_are_one(
        make_repo: Callable[..., Repo]) -> None:
    repo = make_repo({"deft.py": "def f(x: Path) -> None:\n    return None\n\n\n"
                                 "from pathlib import Path\n"})
    proc = premerge(repo, "check")
    heads = finding_lines(proc.stdout)
    assert [(m["line"], m["col"], m["code"]) for m in heads] == [("1", "10", "PM108")], \
        proc.stdout
    assert ("    deft.py:1:1: confirmed at runtime (PM306): deft cannot be imported: NameError: "
            "name 'Path' is not defined") in proc.stdout.splitlines()
    (finding,) = json_findings(repo, "check")
    assert finding["code"] == "PM108"
    assert [r["line"] for r in finding["related"]] == [5, 1]
    assert "NameError: name 'Path' is not defined" in run_python("import deft", repo.path).stderr


def test_closing_summary_counts_what_passed_per_check(make_repo: Callable[..., Repo]) -> None:
    repo = make_repo({
        "premerge.yaml": "version: 1\nrequired_files:\n  - CLAUDE.md\n  - AGENTS.md\n",
        "CLAUDE.md": "# notes\n",
        "good.py": "import os\n\n\ndef cwd():\n    return os.getcwd()\n",
        "also_good.py": "X = 1\n",
        "bad.py": "def f():\n    return json.dumps({})\n",
    })
    proc = premerge(repo, "check")
    assert proc.returncode == 1
    summary = proc.stderr.splitlines()
    assert summary[-4].startswith("premerge: 2 findings (2 errors) in 3 files")
    assert summary[-3:] == [
        "  scope: 3 files analysed, 2 without findings",
        "  files: 1 of 2 required file entries satisfied, 0 file references in 3 source files "
        "checked",
        "  smoke: 3 of 3 modules imported OK",
    ]


def test_statistics_and_quiet(heavy: Repo, make_repo: Callable[..., Repo]) -> None:
    repo = make_repo({**HEAVY, "opt.py": OPTIONAL})
    proc = premerge(repo, "check", "--statistics")
    assert proc.returncode == 1
    assert proc.stdout.splitlines() == [
        "4  PM105  optional import used unguarded",
        "1  PM302  missing third-party dependency",
    ]
    quiet = premerge(repo, "check", "--quiet")
    assert quiet.returncode == 1 and quiet.stderr == ""
    assert len(finding_lines(quiet.stdout)) == 2
    usage = premerge(repo, "scope", "--statistics", "--format", "json")
    assert usage.returncode == 2 and "--statistics goes with --format text" in usage.stderr


def test_colour_only_on_a_terminal_or_when_forced(heavy: Repo) -> None:
    plain = premerge(heavy, "smoke")
    assert not ANSI.search(plain.stdout + plain.stderr)
    forced = premerge(heavy, "smoke", env={"FORCE_COLOR": "1"})
    assert "\x1b[1;31mPM302\x1b[0m" in forced.stdout or "\x1b[1m\x1b[31mPM302" in forced.stdout
    assert "\x1b[1mapp/core.py:1:1\x1b[0m" in forced.stdout
    assert ANSI.search(forced.stderr)
    # without the escapes the lines are exactly the plain ones
    assert ANSI.sub("", forced.stdout) == plain.stdout
    vetoed = premerge(heavy, "smoke", env={"FORCE_COLOR": "1", "NO_COLOR": "1"})
    assert not ANSI.search(vetoed.stdout + vetoed.stderr)


def test_colour_is_never_written_to_an_output_file(heavy: Repo, tmp_path: Path) -> None:
    target = tmp_path / "report.txt"
    premerge(heavy, "smoke", "--output", str(target), env={"FORCE_COLOR": "1"})
    assert finding_lines(target.read_text(encoding="utf-8"))
    assert not ANSI.search(target.read_text(encoding="utf-8"))


def test_colour_on_a_real_terminal(heavy: Repo) -> None:
    pty = pytest.importorskip("pty")
    import os
    import subprocess

    controller, terminal = pty.openpty()
    env = {**os.environ, "NO_COLOR": "", "FORCE_COLOR": "", "TERM": "xterm"}
    proc = subprocess.run([sys.executable, "-m", "premerge", "smoke", "--no-cache",
                           "--python", sys.executable], cwd=heavy.path, stdout=terminal,
                          stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=env,
                          timeout=300, check=False)
    os.close(terminal)
    chunks = []
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # EIO: the terminal side is closed and drained
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(controller)
    shown = b"".join(chunks).decode()
    assert proc.returncode == 1
    assert "\x1b[" in shown and "PM302" in shown
    assert not ANSI.search(proc.stderr.decode())  # stderr was a pipe here


def test_different_missing_modules_stay_different_findings(
        make_repo: Callable[..., Repo]) -> None:
    repo = make_repo({"pkg/__init__.py": "",
                      **{f"x{i}.py": "import pkg.gone_a\n" for i in range(2)},
                      **{f"y{i}.py": "import pkg.gone_b\n" for i in range(3)}})
    heads = finding_lines(premerge(repo, "smoke").stdout)
    assert [(m["path"], m["code"]) for m in heads] == [("x0.py", "PM301"), ("y0.py", "PM301")]
    assert heads[0]["message"].startswith("2 modules cannot be imported: 'pkg.gone_a' ")
    assert heads[1]["message"].startswith("3 modules cannot be imported: 'pkg.gone_b' ")
    assert len(json_findings(repo, "smoke")) == 5


def test_job_summary_is_grouped_and_bounded_too(heavy: Repo, tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    premerge(heavy, "smoke", "--summary", str(summary))
    text = summary.read_text(encoding="utf-8")
    rows = [line for line in text.splitlines() if line.startswith("| ❌")]
    assert len(rows) == 1, text
    assert "41 modules cannot be imported" in rows[0]
    assert rows[0].count("↳") == 3
    assert "... and 37 more modules (see the SARIF report)" in rows[0]
    assert text.splitlines()[0] == "### ❌ premerge: 1 finding (1 error) in 42 files"  # app/__init__ too


def test_summary_lines_for_runs_with_nothing_to_import(tmp_path: Path) -> None:
    from premerge.report import ReportContext
    from premerge.report.text import summary_line

    context = ReportContext(root=tmp_path.as_posix(), cwd=tmp_path.as_posix(), files=2,
                            checks=["scope", "smoke"], seconds=0.1,
                            counts={"scope": {"files": 2},
                                    "smoke": {"files": 2, "modules": 0, "imported": 0}})
    assert summary_line([], context).splitlines() == [
        "premerge: no findings in 2 files, 0.10s",
        "  scope: 2 files analysed, 2 without findings",
        "  smoke: no module imported, 2 not imported (scripts)",
    ]


def test_a_runtime_confirmation_is_never_hidden_by_the_cap(tmp_path: Path) -> None:
    """PM101 with five bindings and the PM313 that confirms it: the second code stays shown."""
    from premerge.findings import CONFIRMED_AT_RUNTIME, Finding, Location
    from premerge.report import ReportContext, render

    path = (tmp_path / "a.py").as_posix()
    related = tuple(Location(path, line, 9, "imported here") for line in range(2, 7))
    confirm = Location(path, 9, 16, CONFIRMED_AT_RUNTIME.format(
        code="PM313", message="calling f raises NameError: 'X' does not exist in module a"))
    finding = Finding("PM101", "'X' is not defined here", path, 9, 16, name="X",
                      related=(*related, confirm))
    text = render("text", [finding], ReportContext(root=tmp_path.as_posix(),
                                                   cwd=tmp_path.as_posix()))
    assert text.splitlines() == [
        "a.py:9:16: PM101 'X' is not defined here",
        "    a.py:2:9: imported here",
        "    a.py:3:9: imported here",
        "    a.py:4:9: imported here",
        "    a.py:9:16: confirmed at runtime (PM313): calling f raises NameError: 'X' does not "
        "exist in module a",
        "    ... and 2 more locations (see --format json)",
    ]


def test_one_log_file_written_at_import_is_one_text_finding(
        make_repo: Callable[..., Repo]) -> None:
    """Every module that imports the module configuring a log file writes it again: one cause,
    one line counting the modules; JSON keeps a PM311 per module."""
    repo = make_repo({
        "app/__init__.py": "",
        "app/log.py": "import os\nos.makedirs('logs', exist_ok=True)\n"
                      "open(os.path.join('logs', 'app.log'), 'a').close()\n",
        **{f"app/m{i}.py": "import app.log\n" for i in range(5)},
    })
    proc = premerge(repo, "smoke")
    assert proc.returncode == 0, proc.stdout + proc.stderr  # PM311 is a warning
    heads = [line for line in proc.stdout.splitlines() if " PM311 " in line
             and not line.startswith(" ")]
    assert len(heads) == 1, proc.stdout
    assert "PM311 importing 6 modules wrote inside the repository: logs/app.log (created)" \
        in heads[0]
    assert "    ... and 2 more modules (see --format json)" in proc.stdout.splitlines()
    assert [f["code"] for f in json_findings(repo, "smoke")] == ["PM311"] * 6
    # the write is real: importing any of them creates the log
    assert run_python("import app.m3", repo.path).returncode == 0
    assert (repo.path / "logs" / "app.log").is_file()


def test_the_module_whose_body_writes_heads_the_text_finding(
        make_repo: Callable[..., Repo]) -> None:
    """The writer sorts last by path: text heads the group with it, at the statement of its
    body that wrote (a function it calls, logging's handler below that), not with the first
    module by path, which only imports it.  JSON gives the line to the writer alone."""
    repo = make_repo({
        "app/__init__.py": "",
        "app/zlog.py": "import logging\n\n\ndef setup():\n"
                       "    logging.basicConfig(filename='app.log')\n\n\nsetup()\n",
        **{f"app/m{i}.py": "import app.zlog\n" for i in range(3)},
    })
    proc = premerge(repo, "smoke")
    heads = [line for line in proc.stdout.splitlines() if " PM311 " in line
             and not line.startswith(" ")]
    assert heads == ["app/zlog.py:8:1: PM311 importing 4 modules wrote inside the repository: "
                     "app.log (created)"], proc.stdout
    assert "    app/m0.py: importing app.m0 wrote the same" in proc.stdout.splitlines()
    lines = {f["path"]: f["line"] for f in json_findings(repo, "smoke")}
    assert lines == {"app/zlog.py": 8, "app/m0.py": None, "app/m1.py": None,
                     "app/m2.py": None}
    # the write is real, and line 8 is what makes it: importing the module creates the log
    assert run_python("import app.zlog", repo.path).returncode == 0
    assert (repo.path / "app.log").is_file()
