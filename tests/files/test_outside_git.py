"""Outside a git repository: the checks that need no git run; the note says which were skipped."""

from __future__ import annotations

from tests.files.helpers import codes, files_json


def test_outside_git_runs_what_needs_no_git(tmp_path, run_cli) -> None:
    (tmp_path / "premerge.yaml").write_text(
        "required_files:\n  - CLAUDE.md\n  - empty.md\n  - path: templates/*.md\n"
        "    min_count: 2\n    worktrees: true\n")
    (tmp_path / "empty.md").write_text("")
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "a.md").write_text("a\n")
    (tmp_path / "app.py").write_text(
        "from pathlib import Path\nHERE = Path(__file__).parent\n"
        "print((HERE / 'missing.txt').read_text())\n"
        "print((HERE / 'data.txt').read_text())\n")
    (tmp_path / "data.txt").write_text("undeclared\n")
    result = run_cli("files", cwd=tmp_path)
    assert result.code == 1
    assert ("premerge: not a git repository: skipped the checks that need git (PM203 not "
            "committed, PM204 ignored, PM206 worktrees, PM209 manifest committed)") in result.err
    code, findings = files_json(run_cli, tmp_path)
    assert sorted((f["code"], f["name"]) for f in findings) == [
        ("PM201", "CLAUDE.md"), ("PM202", "templates/*.md"), ("PM205", "empty.md"),
        ("PM207", "data.txt"), ("PM208", "missing.txt")]


def test_outside_git_clean_twin(tmp_path, run_cli) -> None:
    (tmp_path / "premerge.yaml").write_text("required_files:\n  - data.txt\n")
    (tmp_path / "data.txt").write_text("x\n")
    (tmp_path / "app.py").write_text("from pathlib import Path\n"
                                     "print((Path(__file__).parent / 'data.txt').read_text())\n")
    code, findings = files_json(run_cli, tmp_path)
    assert (code, codes(findings)) == (0, [])
