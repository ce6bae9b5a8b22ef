"""PM207/PM208 end to end: real repositories, and the fixture code really run."""

from __future__ import annotations

import textwrap

from tests.conftest import run_python
from tests.files.helpers import codes, files_json, only

SESSION = textwrap.dedent('''\
    import shutil
    from pathlib import Path

    ROOT = Path(__file__).resolve().parents[1]
    BRIEFING = ROOT / "CLAUDE.md"


    def provision(worktree):
        shutil.copy(BRIEFING, Path(worktree) / "CLAUDE.md")
        return (ROOT / "templates" / "reviewer.md").read_text()


    if __name__ == "__main__":
        import sys
        print(provision(sys.argv[1]))
''')


def _project(make_repo, manifest: str | None = "version: 1\nrequired_files: []\n", **extra):
    files = {"orch/__init__.py": "", "orch/session.py": SESSION, "CLAUDE.md": "# brief\n",
             "templates/reviewer.md": "review\n", **extra}
    if manifest is not None:
        files["premerge.yaml"] = manifest
    return make_repo(files)


def test_undeclared_references_are_pm207_at_the_code(make_repo, run_cli) -> None:
    repo = _project(make_repo)
    code, findings = files_json(run_cli, repo.path)
    assert code == 1
    assert [(f["code"], f["path"], f["line"], f["name"]) for f in findings] == [
        ("PM207", "orch/session.py", 5, "CLAUDE.md"),
        ("PM207", "orch/session.py", 10, "templates/reviewer.md"),
    ]
    assert findings[0]["message"] == ("'CLAUDE.md' is read by this code but not declared in "
                                      "premerge.yaml")


def test_declared_references_pass(make_repo, run_cli) -> None:
    repo = _project(make_repo, "required_files:\n  - CLAUDE.md\n  - path: templates/*.md\n")
    result = run_cli("files", cwd=repo.path)
    assert result.code == 0, result.out


def test_no_manifest_means_no_pm207(make_repo, run_cli) -> None:
    repo = _project(make_repo, manifest=None)
    result = run_cli("files", cwd=repo.path)
    assert result.code == 0 and result.out == ""


def test_broken_reference_pm208_really_fails_at_run_time(make_repo, run_cli, tmp_path) -> None:
    repo = _project(make_repo, "required_files:\n  - CLAUDE.md\n")
    repo.git("rm", "-q", "templates/reviewer.md")
    repo.commit("lose the template")
    code, findings = files_json(run_cli, repo.path)
    finding = only(findings, "PM208")
    assert (code, finding["path"], finding["line"], finding["col"]) == (
        1, "orch/session.py", 10, 13)
    assert finding["message"] == ("'templates/reviewer.md' does not exist in the repository: "
                                  "this code reads it relative to its own module (__file__)")
    # the code really fails that way
    proc = run_python(repo.path / "orch" / "session.py", repo.path, str(tmp_path))
    assert proc.returncode != 0 and "FileNotFoundError" in proc.stderr
    assert "reviewer.md" in proc.stderr


def test_clean_twin_really_runs(make_repo, run_cli, tmp_path) -> None:
    repo = _project(make_repo, "required_files:\n  - CLAUDE.md\n  - templates/reviewer.md\n")
    assert run_cli("files", cwd=repo.path).code == 0
    proc = run_python(repo.path / "orch" / "session.py", repo.path, str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "CLAUDE.md").read_text() == "# brief\n"


def test_uncommitted_resource_is_pm208_for_a_clean_clone(make_repo, run_cli) -> None:
    repo = _project(make_repo, "required_files:\n  - CLAUDE.md\n")
    repo.git("rm", "-q", "--cached", "templates/reviewer.md")
    repo.git("commit", "-q", "-m", "untrack it")  # the file stays on disk, uncommitted
    code, findings = files_json(run_cli, repo.path)
    assert "exists here but is not committed" in only(findings, "PM208")["message"]


def test_ignored_missing_path_is_runtime_data(make_repo, run_cli) -> None:
    repo = make_repo({"premerge.yaml": "required_files: []\n", ".gitignore": "cache/\n",
                      "app.py": "from pathlib import Path\n"
                                "print((Path(__file__).parent / 'cache' / 'state.json')"
                                ".read_text())\n"})
    result = run_cli("files", cwd=repo.path)
    assert result.code == 0, result.out


RUNTIME = textwrap.dedent('''\
    import json, os, sys, tempfile
    from pathlib import Path

    HERE = Path(__file__).parent
    OUT = HERE / "out"
    STATE = HERE / "state.json"
    HOME_CONFIG = Path.home() / ".config" / "tool" / "CLAUDE.md"


    def save(data):
        OUT.mkdir(exist_ok=True)
        (OUT / "result.json").write_text(json.dumps(data))
        STATE.write_text(json.dumps(data))


    def load():
        previous = json.loads(STATE.read_text())         # written by save()
        result = (OUT / "result.json").read_text()       # inside a directory save() creates
        optional = HERE / "local.yaml"
        if optional.exists():
            previous.update(json.loads(optional.read_text()))
        try:
            cached = (HERE / "cache.bin").read_bytes()
        except OSError:
            cached = b""
        home = HOME_CONFIG.read_text() if HOME_CONFIG.exists() else ""
        tmp = (Path(tempfile.gettempdir()) / "premerge-test.txt")
        env = Path(os.environ.get("DATA_DIR", "/nonexistent")) / "CLAUDE.md"
        user = Path(sys.argv[1]) / "CLAUDE.md" if len(sys.argv) > 1 else None
        return previous, result, cached, home, tmp, env, user


    if __name__ == "__main__":
        save({"a": 1})
        print(load()[0])
''')


def test_runtime_data_paths_stay_silent_and_the_code_runs(make_repo, run_cli) -> None:
    repo = make_repo({"premerge.yaml": "required_files: []\n", "tool.py": RUNTIME,
                      "CLAUDE.md": "# a tracked file with the same name as runtime paths\n"})
    result = run_cli("files", cwd=repo.path)
    assert result.code == 0, result.out
    assert result.out == ""
    proc = run_python(repo.path / "tool.py", repo.path)
    assert proc.returncode == 0, proc.stderr  # nothing premerge stayed silent about is broken


def test_literal_names_count_only_when_tracked(make_repo, run_cli) -> None:
    repo = make_repo({
        "premerge.yaml": "required_files: []\n",
        "settings.json": "{}\n",
        "tool.py": "import json\n"
                   "def load():\n"
                   "    return json.load(open('settings.json'))\n"
                   "def other():\n"
                   "    return open('not-in-repo.json').read()\n"   # cwd-relative: unknown
                   "def out():\n"
                   "    open('settings.json', 'w').write('{}')\n",
    })
    code, findings = files_json(run_cli, repo.path)
    assert [(f["code"], f["line"], f["name"]) for f in findings] == [
        ("PM207", 3, "settings.json")]


def test_literal_names_without_a_read_may_be_about_the_users_cwd(make_repo, run_cli) -> None:
    repo = make_repo({
        "premerge.yaml": "required_files: []\n",
        "pyproject.toml": "[project]\n",
        "tool.py": "import os\nfrom pathlib import Path\n"
                   "def detect():\n    return os.path.exists('pyproject.toml')\n"
                   "DEFAULT = Path('pyproject.toml')\n",
    })
    assert run_cli("files", cwd=repo.path).code == 0
    repo.write("tool.py", "def load():\n    return open('pyproject.toml').read()\n")
    repo.commit("now it reads it")
    code, findings = files_json(run_cli, repo.path)
    assert [f["name"] for f in findings] == ["pyproject.toml"]


def test_directory_read_by_computed_name(make_repo, run_cli) -> None:
    source = ("from pathlib import Path\nTEMPLATES = Path(__file__).parent / 'templates'\n"
              "def role(name):\n    return (TEMPLATES / f'{name}.md').read_text()\n")
    repo = make_repo({"premerge.yaml": "required_files: []\n", "app.py": source,
                      "templates/a.md": "a\n"})
    code, findings = files_json(run_cli, repo.path)
    finding = only(findings, "PM207")
    assert (finding["name"], finding["line"]) == ("templates/", 4)
    assert "'templates/**' covers the directory" in finding["message"]
    repo.write("premerge.yaml", "required_files:\n  - path: templates/*.md\n")
    repo.commit("declare")
    assert run_cli("files", cwd=repo.path).code == 0
    repo.git("rm", "-q", "-r", "templates")
    repo.write("premerge.yaml", "required_files: []\n")
    repo.commit("templates gone")
    code, findings = files_json(run_cli, repo.path)
    assert only(findings, "PM208")["name"] == "templates/"


def test_python_modules_and_test_code_are_not_resources(make_repo, run_cli) -> None:
    repo = make_repo({
        "premerge.yaml": "required_files: []\n",
        "plugins/extra.py": "X = 1\n",
        "runner.py": "import runpy\nfrom pathlib import Path\n"
                     "runpy.run_path(str(Path(__file__).parent / 'plugins' / 'extra.py'))\n",
        "tests/test_data.py": "from pathlib import Path\n"
                              "DATA = (Path(__file__).parent / 'data' / 'case.json').read_text()\n",
        "tests/data/case.json": "{}\n",
        "pkg/conftest.py": "open('pkg/fixture.txt').read()\n",
        "pkg/fixture.txt": "x\n",
    })
    result = run_cli("files", cwd=repo.path)
    assert result.code == 0, result.out


def test_files_exclude_silences_a_source_or_a_target(make_repo, run_cli) -> None:
    repo = _project(make_repo, "required_files: []\nfiles:\n  exclude: ['CLAUDE.md']\n")
    code, findings = files_json(run_cli, repo.path)
    assert [f["name"] for f in findings] == ["templates/reviewer.md"]
    repo.write("premerge.yaml", "required_files: []\nfiles:\n  exclude: ['orch/**']\n")
    repo.commit("exclude the package")
    assert run_cli("files", cwd=repo.path).code == 0


def test_noqa_on_the_code_line(make_repo, run_cli) -> None:
    repo = make_repo({"premerge.yaml": "required_files: []\n", "CLAUDE.md": "x\n",
                      "a.py": "open('CLAUDE.md').read()  # noqa: PM207\n"})
    assert run_cli("files", cwd=repo.path).code == 0


def test_unparsable_module_does_not_stop_the_others(make_repo, run_cli) -> None:
    repo = _project(make_repo, **{"broken.py": "def f(:\n  open(__file__)\n",
                                  "binary.py": b"\x00\x01__file__"})
    code, findings = files_json(run_cli, repo.path)
    assert codes(findings) == ["PM207", "PM207"]


def test_cache_sees_working_tree_edits(make_repo, run_cli) -> None:
    repo = _project(make_repo, "required_files:\n  - CLAUDE.md\n  - templates/reviewer.md\n")
    assert run_cli("files", cwd=repo.path).code == 0  # fills the caches
    assert run_cli("files", cwd=repo.path).code == 0  # served from them
    edited = SESSION.replace('"reviewer.md"', '"planner.md"')
    repo.write("orch/session.py", edited)  # unstaged: the index still has the old blob
    code, findings = files_json(run_cli, repo.path)
    assert only(findings, "PM208")["name"] == "templates/planner.md"
    repo.git("add", "orch/session.py")  # staged: a new blob
    code, findings = files_json(run_cli, repo.path)
    assert only(findings, "PM208")["name"] == "templates/planner.md"
    repo.write("orch/session.py", SESSION)  # back to the cached content
    assert run_cli("files", cwd=repo.path).code == 0
    code_cold, cold = files_json(run_cli, repo.path, "--no-cache")
    assert code_cold == 0 and cold == []


def test_check_paths_limit_the_scan(make_repo, run_cli) -> None:
    repo = _project(make_repo, **{"other.py": "open('CLAUDE.md').read()\n"})
    result = run_cli("check", "--checks", "files", "--format", "json", "other.py",
                     cwd=repo.path)
    import json

    names = [(f["path"], f["name"]) for f in json.loads(result.out)["findings"]]
    assert names == [("other.py", "CLAUDE.md")]


def test_changed_limits_the_reference_scan_not_the_manifest(make_repo, run_cli) -> None:
    repo = make_repo({"premerge.yaml": "required_files:\n  - CLAUDE.md\n",
                      "CLAUDE.md": "x\n", "settings.json": "{}\n",
                      "old.py": "open('settings.json').read()\n"})  # on main already
    repo.git("checkout", "-q", "-b", "feature")
    repo.write("new.py", "open('settings.json').read()\n")
    repo.commit("feature")
    code, findings = files_json(run_cli, repo.path, "--changed", "--base", "main")
    assert [(f["path"], f["code"]) for f in findings] == [("new.py", "PM207")]
    (repo.path / "CLAUDE.md").unlink()  # manifest entries are always checked in full
    code, findings = files_json(run_cli, repo.path, "--changed", "--base", "main")
    assert sorted(f["code"] for f in findings) == ["PM201", "PM207"]


def test_path_handed_to_unknown_code_may_be_created_there(make_repo, run_cli) -> None:
    source = textwrap.dedent('''\
        import logging
        from pathlib import Path
        from urllib.request import urlretrieve

        MODEL = Path(__file__).parent / "model.bin"
        NOTES = Path(__file__).parent / "notes.md"


        def load():
            urlretrieve("https://example.invalid/model.bin", MODEL)   # creates it
            logging.info("reading %s", NOTES)                          # only shows it
            print(f"notes at {NOTES}")
            return MODEL.read_bytes(), NOTES.read_text()
    ''')
    repo = make_repo({"premerge.yaml": "required_files: []\n", "app.py": source})
    code, findings = files_json(run_cli, repo.path)
    # model.bin may be created by urlretrieve; notes.md is only printed, then read: broken
    assert [(f["code"], f["name"], f["line"]) for f in findings] == [
        ("PM208", "notes.md", 6)]


def test_a_file_too_deep_for_the_walk_is_pm004_and_the_others_are_still_checked(
        make_repo, run_cli) -> None:
    """Valid Python nested deeper than the reference walk can follow (sympy's generated
    polynomial tables): a PM004 warning naming the file, never silence, and the rest of the
    repository is still checked."""
    deep = ("from pathlib import Path\n\nHEADER = Path(__file__).with_name('header.txt').read_text()\n"
            "TOTAL = " + " + ".join(["1"] * 1500) + "\n")
    repo = _project(make_repo, **{"tables/deep.py": deep, "tables/header.txt": "h\n"})
    code, findings = files_json(run_cli, repo.path)
    skipped = only(findings, "PM004")
    assert skipped["path"] == "tables/deep.py" and skipped["severity"] == "warning"
    assert "file references were not checked: nested too deeply" in skipped["message"]
    # the other file's undeclared references are still reported
    assert [f["name"] for f in findings if f["code"] == "PM207"] == [
        "CLAUDE.md", "templates/reviewer.md"]
    assert code == 1
    # it is valid Python: the interpreter runs it
    assert run_python("import tables.deep as d; print(d.TOTAL)", repo.path).stdout.strip() \
        == "1500"
