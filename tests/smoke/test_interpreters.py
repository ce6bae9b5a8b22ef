"""The project's interpreter: choice, errors, old versions, and isolation of the warm parent."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from premerge.config import Config, ConfigError, RunOptions, SmokeConfig
from premerge.smoke import child
from premerge.imports.interpreter import choose_interpreter
from tests.conftest import ROOT, run_premerge
from tests.smoke.helpers import find_python, git_repo, smoke


def test_named_interpreter_that_does_not_exist_is_exit_2(tmp_path: Path) -> None:
    repo = git_repo(tmp_path / "repo", {"a.py": "X = 1\n"})
    proc = run_premerge("smoke", "--python", "/no/such/python", cwd=repo)
    assert proc.returncode == 2
    assert proc.stderr.strip() == "premerge: error: --python /no/such/python: no such interpreter"
    (repo / "premerge.yaml").write_text("smoke:\n  python: .venv/bin/python\n")
    proc = run_premerge("smoke", cwd=repo)
    assert proc.returncode == 2
    assert "smoke.python '.venv/bin/python': no such interpreter" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_choice_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    venv = tmp_path / "env"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin/python").symlink_to(sys.executable)
    local = tmp_path / "repo/.venv"
    (local / "bin").mkdir(parents=True)
    (local / "pyvenv.cfg").write_text("home = /usr\n")
    (local / "bin/python").symlink_to(sys.executable)
    config = Config(root=tmp_path / "repo", smoke=SmokeConfig(), run=RunOptions())
    monkeypatch.setenv("VIRTUAL_ENV", str(venv))
    monkeypatch.delenv("PRE_COMMIT", raising=False)
    assert choose_interpreter(config).source == "$VIRTUAL_ENV"
    monkeypatch.delenv("VIRTUAL_ENV")
    chosen = choose_interpreter(config)
    assert (chosen.source, chosen.path) == (".venv", str(local / "bin/python"))
    config.smoke.python = "env/bin/python"
    with pytest.raises(ConfigError):
        choose_interpreter(config)  # relative to the repository root, which has no env/
    config.smoke.python = str(venv / "bin/python")
    assert choose_interpreter(config).source == "smoke.python"
    config.run.python = sys.executable
    assert choose_interpreter(config).source == "--python"


def test_too_old_interpreter_is_a_finding(tmp_path: Path) -> None:
    python = find_python("2.7")
    if python is None:
        pytest.skip("no working python2.7 here")
    repo = git_repo(tmp_path / "repo", {"a.py": "X = 1\n"})
    run = smoke(repo, python=python)
    assert [f["code"] for f in run.findings] == ["PM315"]
    assert "Python 2.7" in run.findings[0]["message"]


def test_pre_39_interpreter_falls_back_to_one_process_per_module(tmp_path: Path) -> None:
    python = find_python("3.8")
    if python is None:
        pytest.skip("no working python3.8 here")
    repo = git_repo(tmp_path / "repo", {"a.py": "def f():\n    return nope\n", "b.py": ""})
    run = smoke(repo, python=python)
    assert [(f["path"], f["code"]) for f in run.findings] == [("a.py", "PM313")]
    proc = run_premerge("smoke", "--python", python, "--no-cache", cwd=repo)
    assert "one process per module (Python 3.8" in proc.stderr


def test_child_sees_no_first_party_module_before_its_import() -> None:
    # in this test process premerge itself is first-party of the checkout ...
    found = child.first_party_modules(os.path.realpath(ROOT))
    assert any(name.startswith("premerge") for name, _ in found)
    # ... and nothing is first-party of an unrelated directory
    assert child.first_party_modules(os.path.realpath("/nonexistent-dir")) == []


def test_preloaded_plugin_that_imports_first_party_code_is_not_preloaded(
        tmp_path: Path) -> None:
    site = tmp_path / "site"
    (site / "plugin_x").mkdir(parents=True)
    repo = git_repo(tmp_path / "repo", {
        "mypkg/__init__.py": "",
        "mypkg/core.py": "STATE = []\n",
        "mypkg/user.py": """\
            import plugin_x
            import mypkg.core
            assert mypkg.core.STATE == ["plugin"], mypkg.core.STATE
            """,
        "mypkg/plain.py": "import sys\nassert 'mypkg.core' not in sys.modules\n",
    })
    (site / "plugin_x/__init__.py").write_text(
        "import mypkg.core\nmypkg.core.STATE.append('plugin')\n")
    env = {"PYTHONPATH": f"{site}{os.pathsep}{repo}"}
    run = smoke(repo, env=env)
    assert run.findings == [], run.findings
    proc = run_premerge("smoke", "--python", sys.executable, "--no-cache", cwd=repo, env=env)
    assert "not preloaded: plugin_x (imports first-party code: mypkg" in proc.stderr


def test_progress_line_only_goes_to_a_terminal() -> None:
    import io

    from premerge.smoke import progress_printer

    stream = io.StringIO()
    show = progress_printer(stream, delay=0.0)
    show(0, 3, "")
    time.sleep(0.2)  # the timer draws the line when no module finished within the delay
    assert stream.getvalue().startswith("\r[0/3]"), stream.getvalue()
    show(1, 3, "pkg.a")
    show(2, 3, "pkg.b", True)
    show(3, 3, "pkg.c")
    text = stream.getvalue()
    assert "\r[1/3]  pkg.a" in text and "\r[2/3] 1 failed  pkg.b" in text
    assert text.endswith("\r")  # cleared at the end
    quick = io.StringIO()  # a run shorter than the delay never shows a line
    show = progress_printer(quick, delay=60.0)
    show(0, 2, "")
    show(1, 2, "pkg.a")
    show(2, 2, "pkg.b")
    assert quick.getvalue() == ""
