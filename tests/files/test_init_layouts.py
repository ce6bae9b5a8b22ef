"""`premerge init` on the layouts real repositories have: Jinja templates named ``*.py``, agent
instruction folders (``.claude/``), monorepo test directories, files a glob already covers.

Each test writes the manifest with the real command, loads it with the real loader, and runs
the real checks right after: the manifest must make the first run quiet and keep what matters.
"""

from __future__ import annotations

import json
import sys

from premerge.config import load_config
from tests.conftest import run_python

TEMPLATE = "import {{ package }}\n\n\ndef main():\n    {% if cli %}run(){% endif %}\n"


def test_template_py_files_are_excluded_with_the_reason(make_repo, run_cli) -> None:
    repo = make_repo({
        "app/__init__.py": "",
        "app/core.py": "def f():\n    return 1\n",
        "cookiecutter/{{cookiecutter.name}}/main.py": TEMPLATE,
        "scaffold/app.py": TEMPLATE,
        "broken.py": "def f(:\n    pass\n",  # a real syntax error, not a template
    })
    # the template really is not Python
    assert "SyntaxError" in run_python(repo.path / "scaffold/app.py", repo.path).stderr
    result = run_cli("init", cwd=repo.path)
    assert result.code == 0, result.err
    written = (repo.path / "premerge.yaml").read_text(encoding="utf-8")
    config = load_config(repo.path)
    templates = ["cookiecutter/{{cookiecutter.name}}/main.py", "scaffold/app.py"]
    assert config.scope.exclude == templates
    assert [p for p in config.smoke.exclude if p in templates] == templates
    assert ('    - "scaffold/app.py"   # a Jinja template ({{ }} / {% %}), not Python: it does '
            "not parse") in written
    assert "broken.py" not in written  # a syntax error that is not a template stays reported
    assert "  scope.exclude: cookiecutter/{{cookiecutter.name}}/main.py, scaffold/app.py " \
           "(a Jinja template ({{ }} / {% %}), not Python)" in result.out
    scope = run_cli("scope", "--format", "json", cwd=repo.path)
    found = json.loads(scope.out)["findings"]
    assert [(f["path"], f["code"]) for f in found] == [("broken.py", "PM002")]


def test_agent_instruction_files_are_offered_and_required_where_code_reads_them(
        make_repo, run_cli) -> None:
    repo = make_repo({
        "CLAUDE.md": "# project notes\n",
        "AGENTS.md": "# agents\n",
        "pkg/CLAUDE.md": "# package notes\n",
        ".claude/settings.json": "{}\n",
        ".claude/skills/review/SKILL.md": "review\n",
        ".claude/skills/ship/SKILL.md": "ship\n",
        ".claude/commands/plan.md": "plan\n",
        ".claude/agents/tester.md": "test\n",
        "tools/__init__.py": "",
        "tools/skills.py": "from pathlib import Path\n"
                           "ROOT = Path(__file__).resolve().parents[1]\n"
                           "def skill(name):\n"
                           "    return (ROOT / '.claude' / 'skills' / name / 'SKILL.md')"
                           ".read_text()\n"
                           "def review():\n"
                           "    return (ROOT / '.claude/skills/review/SKILL.md').read_text()\n",
    })
    result = run_cli("init", cwd=repo.path)
    assert result.code == 0, result.err
    written = (repo.path / "premerge.yaml").read_text(encoding="utf-8")
    config = load_config(repo.path)
    # the skills the code reads: one live glob entry that took over the named file's reference
    assert [e.path for e in config.required_files] == [".claude/skills/**/*.md"]
    assert written.count("SKILL.md") >= 1 and 'path: ".claude/skills/review/SKILL.md"' \
        not in written
    assert '  # tools/skills.py:6: return (ROOT / \'.claude/skills/review/SKILL.md\')' \
        '.read_text()' in written
    assert 'reason: "agent instructions (.claude/skills/), read by the code"' in written
    # the rest is offered, commented out, saying why
    for path in ("AGENTS.md", "CLAUDE.md", "pkg/CLAUDE.md", ".claude/settings.json",
                 ".claude/commands/*.md", ".claude/agents/*.md"):
        assert f'  # - path: "{path}"' in written, path
    assert "  # agent instruction files no code was seen reading (the agent loads them " \
           "itself," in written
    assert "offered, commented out: 6 agent instruction entries no code reads" in result.out
    # uncommented, the offers are valid entries that pass today
    live = written.replace("  # - path:", "  - path:").replace("  #   ", "    ")
    (repo.path / "premerge.yaml").write_text(live, encoding="utf-8")
    assert len(load_config(repo.path).required_files) == 7
    repo.commit("manifest")
    files = run_cli("files", "--format", "json", cwd=repo.path)
    assert files.code == 0 and json.loads(files.out)["findings"] == [], files.out


def test_test_directories_at_any_depth_are_excluded_from_smoke(make_repo, run_cli) -> None:
    repo = make_repo({
        "lib/alpha/__init__.py": "",
        "lib/alpha/tests/test_alpha.py": "import pytest\n\n\n@pytest.fixture\ndef x():\n"
                                         "    return 1\n",
        "lib/beta/__init__.py": "",
        "lib/beta/tests/unit/test_beta.py": "def test_b():\n    assert True\n",
        "services/api/test/test_api.py": "def test_api():\n    assert True\n",
        "tests/test_top.py": "def test_top():\n    assert True\n",
        "pkg/testing_utils.py": "X = 1\n",  # not a test directory
    })
    result = run_cli("init", cwd=repo.path)
    assert result.code == 0, result.err
    assert load_config(repo.path).smoke.exclude == [
        "tests/**", "lib/*/tests/**", "services/api/test/**"]
    assert "smoke.exclude: tests/**, lib/*/tests/**, services/api/test/** (test modules)" \
        in result.out
    smoke = run_cli("smoke", "--format", "json", "--no-cache", "--python", sys.executable,
                    cwd=repo.path)
    summary = json.loads(smoke.out)["summary"]
    assert smoke.code == 0 and summary["findings"] == 0
    assert summary["files"] == 3  # lib/alpha, lib/beta, pkg/testing_utils: no test module


def test_init_summary_and_manifest_for_a_whole_agent_project(make_repo, run_cli) -> None:
    """The four kinds of input together: the first `premerge check` after init reports only
    the real problems, briefly."""
    repo = make_repo({
        "CLAUDE.md": "# notes\n",
        ".claude/commands/ship.md": "ship\n",
        "agent/__init__.py": "",
        "agent/model.py": "import premerge_absent_torch\n",
        **{f"agent/step{i}.py": "from agent.model import premerge_absent_torch\n"
           for i in range(12)},
        "agent/opt.py": "try:\n    import premerge_absent_a\n    import premerge_absent_b\n"
                        "except ImportError:\n    pass\n\n\ndef f():\n"
                        "    return premerge_absent_a, premerge_absent_b\n",
        "agent/templates/prompt.py": TEMPLATE,
        "agent/tests/test_model.py": "def test_m():\n    assert True\n",
    })
    init = run_cli("init", cwd=repo.path)
    assert init.code == 0, init.err
    assert init.out.splitlines() == [
        "wrote premerge.yaml:",
        "  required_files: none (the code references no repository file premerge can see)",
        "  offered, commented out: 2 agent instruction entries no code reads (CLAUDE.md, "
        ".claude/commands/*.md)",
        "  smoke.exclude: agent/tests/** (test modules); agent/templates/prompt.py (a Jinja "
        "template ({{ }} / {% %}), not Python)",
        "  scope.exclude: agent/templates/prompt.py (a Jinja template ({{ }} / {% %}), not "
        "Python)",
        "next: review it, then `premerge files` and commit it",
    ]
    repo.commit("manifest")
    check = run_cli("check", "--no-cache", "--python", sys.executable, cwd=repo.path)
    assert check.code == 1
    lines = check.out.splitlines()
    assert [line.split(" ")[1] for line in lines if not line.startswith(" ")] == \
        ["PM302", "PM105"], check.out
    assert len(lines) <= 10, check.out
    assert lines[0].startswith("agent/model.py:1:1: PM302 13 modules cannot be imported: no "
                               "module named 'premerge_absent_torch'")
    assert "  smoke: 2 of 15 modules imported OK" in check.err


def test_offers_without_live_entries_uncomment_into_valid_yaml(make_repo, run_cli) -> None:
    repo = make_repo({"AGENTS.md": "# agents\n", ".claude/commands/ship.md": "ship\n",
                      "app.py": "X = 1\n"})
    assert run_cli("init", cwd=repo.path).code == 0
    written = (repo.path / "premerge.yaml").read_text(encoding="utf-8")
    assert load_config(repo.path).required_files == []
    assert "# required_files:\n#   - path: \"AGENTS.md\"\n" in written
    # what the comment says to do: uncomment the block, delete the empty list
    edited = "\n".join(line[2:] if line.startswith(("# required_files:", "#   ")) else line
                       for line in written.splitlines()
                       if not line.startswith("required_files: []"))
    (repo.path / "premerge.yaml").write_text(edited, encoding="utf-8")
    assert [e.path for e in load_config(repo.path).required_files] == \
        ["AGENTS.md", ".claude/commands/*.md"]
    repo.commit("manifest")
    files = run_cli("files", "--format", "json", cwd=repo.path)
    assert files.code == 0 and json.loads(files.out)["findings"] == [], files.out
