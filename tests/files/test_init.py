"""`premerge init`: a starter manifest that lists what the code reads and passes right away."""

from __future__ import annotations

from premerge.config import load_config
from tests.files.test_references import SESSION
from tests.files.helpers import codes, files_json

LAYOUT = {
    "orch/__init__.py": "",
    "orch/session.py": SESSION,
    "orch/roles.py": "from pathlib import Path\n"
                     "TEMPLATES = Path(__file__).resolve().parents[1] / 'templates'\n"
                     "def role(name):\n    return (TEMPLATES / f'{name}.md').read_text()\n",
    "orch/settings.py": "import json\n"
                        "def load():\n    return json.load(open('config/settings.json'))\n",
    "CLAUDE.md": "# brief\n",
    "AGENTS.md": "# agents: committed, read by nothing premerge can see\n",
    "templates/reviewer.md": "review\n",
    "templates/planner.md": "",
    "config/settings.json": "{}\n",
    "tests/test_session.py": "def test_x():\n    assert True\n",
    "tests/conftest.py": "",
    "setup.py": "from setuptools import setup\nsetup()\n",
    "build/lib/orch/__init__.py": "",
}


def test_init_writes_a_manifest_that_passes_at_once(make_repo, run_cli) -> None:
    repo = make_repo(LAYOUT)
    result = run_cli("init", cwd=repo.path)
    assert result.code == 0, result.err
    written = (repo.path / "premerge.yaml").read_text(encoding="utf-8")
    config = load_config(repo.path)
    entries = {e.path: e for e in config.required_files}
    # templates/reviewer.md is read by name and covered by templates/*.md: listed once, under
    # the glob, with its reference
    assert set(entries) == {"CLAUDE.md", "templates/*.md", "config/settings.json"}
    assert 'path: "templates/reviewer.md"' not in written
    glob_block = written.split('- path: "templates/*.md"')[0].rsplit("\n\n", 1)[-1]
    assert 'orch/session.py:10: return (ROOT / "templates" / "reviewer.md").read_text()' \
        in glob_block
    assert entries["templates/*.md"].allow_empty  # planner.md is empty today
    assert "# note: templates/planner.md is empty today" in written
    # the referencing lines are comments above each entry
    assert '# orch/session.py:5: BRIEFING = ROOT / "CLAUDE.md"' in written
    assert "# orch/settings.py:3: return json.load(open('config/settings.json'))" in written
    # committed briefing files nothing reads are offered, commented out
    assert '  # - path: "AGENTS.md"' in written
    # smoke excludes for the layout found, and nothing that is absent
    smoke_exclude = config.smoke.exclude
    assert smoke_exclude == ["tests/**", "**/conftest.py", "setup.py", "build/**"]
    # it says what it wrote
    assert result.out.startswith("wrote premerge.yaml:\n")
    assert "    - CLAUDE.md  (1 reference)" in result.out
    assert ("  smoke.exclude: tests/** (test modules); **/conftest.py (pytest configuration); "
            "setup.py (runs setup() when imported); build/** (build output)") in result.out
    # and `premerge files` right after passes (PM209 only warns: commit the manifest)
    code, findings = files_json(run_cli, repo.path)
    assert code == 0 and codes(findings) == ["PM209"]
    repo.commit("add the manifest")
    code, findings = files_json(run_cli, repo.path)
    assert (code, findings) == (0, [])


def test_init_refuses_to_overwrite_without_force(make_repo, run_cli) -> None:
    repo = make_repo({"premerge.yaml": "required_files: [a]\n", "a": "x\n"})
    result = run_cli("init", cwd=repo.path)
    assert result.code == 2
    assert result.err.strip() == ("premerge: error: premerge.yaml already exists; use --force "
                                  "to overwrite it")
    assert (repo.path / "premerge.yaml").read_text() == "required_files: [a]\n"


def test_init_force_replaces_even_an_invalid_manifest(make_repo, run_cli) -> None:
    repo = make_repo({"premerge.yaml": "required_files: [\n", "a.py": "x = 1\n"})
    assert run_cli("files", cwd=repo.path).code == 2
    result = run_cli("init", "--force", cwd=repo.path)
    assert result.code == 0, result.err
    assert "required_files: none" in result.out
    assert run_cli("files", cwd=repo.path).code == 0


def test_init_to_another_file(make_repo, run_cli) -> None:
    repo = make_repo({"a.py": "x = 1\n"})
    result = run_cli("init", "--config", "ci/premerge.yaml", cwd=repo.path)
    assert result.code == 2 and "does not exist" in result.err
    (repo.path / "ci").mkdir()
    result = run_cli("init", "--config", "ci/premerge.yaml", cwd=repo.path)
    assert result.code == 0, result.err
    assert result.out.startswith("wrote ci/premerge.yaml:")
    assert run_cli("files", "--config", "ci/premerge.yaml", cwd=repo.path).code == 0


def test_init_on_a_repository_without_references(make_repo, run_cli) -> None:
    repo = make_repo({"src/pkg/__init__.py": "", "src/pkg/core.py": "def f():\n    return 1\n"})
    result = run_cli("init", cwd=repo.path)
    assert result.code == 0
    config = load_config(repo.path)
    assert config.required_files == [] and config.smoke.exclude == []
    assert run_cli("files", cwd=repo.path).code == 0


def test_init_outside_git(tmp_path, run_cli) -> None:
    (tmp_path / "app.py").write_text("from pathlib import Path\n"
                                     "print((Path(__file__).parent / 'data.txt').read_text())\n")
    (tmp_path / "data.txt").write_text("data\n")
    result = run_cli("init", cwd=tmp_path)
    assert result.code == 0, result.err
    assert [e.path for e in load_config(tmp_path, in_git=False).required_files] == ["data.txt"]
    assert run_cli("files", cwd=tmp_path).code == 0
