"""``premerge check --changed``: scope on changed files, smoke on changed modules and their
importers, files always in full (issue 5, item 1), with the real checks in a real repository."""

from __future__ import annotations

import json

from tests.conftest import run_python

BASE = {
    "premerge.yaml": "version: 1\nrequired_files:\n  - NOTES.md\n",
    "NOTES.md": "",  # empty since the base: files must still report it under --changed
    "pkg/__init__.py": "",
    "pkg/core.py": "def helper():\n    return 1\n\n\ndef other():\n    return 2\n",
    "pkg/user.py": "from pkg.core import helper\n\n\ndef use():\n    return helper()\n",
    "pkg/legacy.py": "def setup():\n    import json\n    return json\n\n\n"
                     "def dump(value):\n    return json.dumps(value)\n",
}


def _codes(out: str) -> set[tuple[str, str, int | None]]:
    return {(f["code"], f["path"], f["line"]) for f in json.loads(out)["findings"]}


def test_changed_reaches_importers_and_files_runs_in_full(make_repo, run_cli) -> None:
    repo = make_repo(BASE)
    repo.git("checkout", "-q", "-b", "feature")
    # The pull request renames helper in core.py only; user.py (unchanged) still imports it.
    repo.write("pkg/core.py", "def assist():\n    return 1\n\n\ndef other():\n    return 2\n")
    repo.commit("rename helper")
    broken = run_python("import pkg.user", cwd=repo.path)
    assert "ImportError: cannot import name 'helper'" in broken.stderr
    assert run_python("import pkg.core", cwd=repo.path).returncode == 0  # the changed twin

    result = run_cli("check", "--changed", "--base", "main", "--format", "json", "--no-cache",
                     cwd=repo.path)
    assert result.code == 1, result.err
    codes = _codes(result.out)
    assert ("PM303", "pkg/user.py", 1) in codes  # an importer of the changed module
    assert ("PM205", "premerge.yaml", 3) in codes  # files: unchanged entry, still checked
    assert not any(path == "pkg/legacy.py" for _, path, _ in codes)  # unchanged: not checked

    everything = _codes(run_cli("check", "--format", "json", "--no-cache",
                                cwd=repo.path).out)
    assert ("PM101", "pkg/legacy.py", 7) in everything  # the twin: found when not --changed
