"""PM201-PM205, PM209: required_files against the disk and git's index, in real repositories."""

from __future__ import annotations

import json

from tests.files.helpers import codes, files_json, only

MANIFEST = "version: 1\nrequired_files:\n  - CLAUDE.md\n"


def test_committed_file_passes(make_repo, run_cli) -> None:
    repo = make_repo({"premerge.yaml": MANIFEST, "CLAUDE.md": "# brief\n"})
    result = run_cli("files", cwd=repo.path)
    assert result.code == 0, result.out + result.err
    assert result.out == ""
    assert "no findings" in result.err


def test_missing_file_is_pm201_at_the_manifest_line(make_repo, run_cli) -> None:
    repo = make_repo({"premerge.yaml": MANIFEST})
    result = run_cli("files", cwd=repo.path)
    assert result.code == 1
    assert result.out.splitlines() == [
        "premerge.yaml:3:5: PM201 required file 'CLAUDE.md' is missing"]
    code, findings = files_json(run_cli, repo.path)
    finding = only(findings, "PM201")
    assert (code, finding["path"], finding["line"], finding["col"], finding["name"]) == (
        1, "premerge.yaml", 3, 5, "CLAUDE.md")
    assert finding["severity"] == "error"


def test_missing_file_lists_the_code_that_reads_it(make_repo, run_cli) -> None:
    repo = make_repo({
        "premerge.yaml": MANIFEST,
        "orch/__init__.py": "",
        "orch/session.py": "from pathlib import Path\n"
                           "BRIEF = Path(__file__).resolve().parents[1] / 'CLAUDE.md'\n"
                           "def brief():\n    return BRIEF.read_text()\n",
    })
    code, findings = files_json(run_cli, repo.path)
    assert codes(findings) == ["PM201"]  # not also PM208: the manifest entry covers it
    related = findings[0]["related"]
    assert [(r["path"], r["line"]) for r in related] == [("orch/session.py", 2)]


def test_deleted_in_working_tree_says_the_index_still_has_it(make_repo, run_cli) -> None:
    repo = make_repo({"premerge.yaml": MANIFEST, "CLAUDE.md": "# brief\n"})
    (repo.path / "CLAUDE.md").unlink()
    code, findings = files_json(run_cli, repo.path)
    assert code == 1
    assert "deleted in the working tree" in only(findings, "PM201")["message"]


def test_untracked_file_is_pm203_and_says_why_it_matters(make_repo, run_cli) -> None:
    repo = make_repo({"premerge.yaml": MANIFEST})
    repo.write("CLAUDE.md", "# brief\n")
    code, findings = files_json(run_cli, repo.path)
    finding = only(findings, "PM203")
    assert code == 1 and codes(findings) == ["PM203"]
    assert finding["message"] == (
        "'CLAUDE.md' exists here but is not committed (untracked): it would be missing from "
        "every clean clone, CI run and new worktree")


def test_staged_file_counts_as_tracked(make_repo, run_cli) -> None:
    repo = make_repo({"premerge.yaml": MANIFEST})
    repo.write("CLAUDE.md", "# brief\n")
    repo.git("add", "CLAUDE.md")
    assert run_cli("files", cwd=repo.path).code == 0


def test_ignored_file_is_pm204_naming_the_rule(make_repo, run_cli) -> None:
    repo = make_repo({"premerge.yaml": MANIFEST, ".gitignore": "*.log\n/CLAUDE.md\n"})
    repo.write("CLAUDE.md", "# brief\n")
    code, findings = files_json(run_cli, repo.path)
    finding = only(findings, "PM204")
    assert code == 1 and codes(findings) == ["PM204"]
    assert "git ignores it (.gitignore:2: /CLAUDE.md)" in finding["message"]
    assert finding["related"][0]["path"] == ".gitignore"
    assert finding["related"][0]["line"] == 2


def test_negated_ignore_rule_is_not_an_ignore(make_repo, run_cli) -> None:
    repo = make_repo({"premerge.yaml": MANIFEST, ".gitignore": "*.md\n!CLAUDE.md\n"})
    repo.write("CLAUDE.md", "# brief\n")
    code, findings = files_json(run_cli, repo.path)
    assert codes(findings) == ["PM203"]  # untracked, but git would add it


def test_tracked_false_allows_untracked(make_repo, run_cli) -> None:
    repo = make_repo({"premerge.yaml": "required_files:\n  - path: CLAUDE.md\n"
                                       "    tracked: false\n"})
    repo.write("CLAUDE.md", "# generated\n")
    assert run_cli("files", cwd=repo.path).code == 0


def test_empty_file_is_pm205_unless_allowed(make_repo, run_cli) -> None:
    repo = make_repo({"premerge.yaml": MANIFEST, "CLAUDE.md": ""})
    code, findings = files_json(run_cli, repo.path)
    assert (code, codes(findings)) == (1, ["PM205"])
    assert findings[0]["message"] == "required file 'CLAUDE.md' is empty"
    repo.write("premerge.yaml", "required_files:\n  - path: CLAUDE.md\n    allow_empty: true\n")
    repo.commit("allow empty")
    assert run_cli("files", cwd=repo.path).code == 0


def test_emptied_in_working_tree_is_seen(make_repo, run_cli) -> None:
    # the index says non-empty; the working tree is what the next run reads
    repo = make_repo({"premerge.yaml": MANIFEST, "CLAUDE.md": "# brief\n"})
    repo.write("CLAUDE.md", "")
    code, findings = files_json(run_cli, repo.path)
    assert codes(findings) == ["PM205"]


def test_glob_min_count(make_repo, run_cli) -> None:
    manifest = "required_files:\n  - path: templates/*.md\n    min_count: 2\n"
    repo = make_repo({"premerge.yaml": manifest, "templates/planner.md": "plan\n",
                      "templates/notes.txt": "not markdown\n",
                      "templates/deep/coder.md": "nested: * stays in one directory\n"})
    code, findings = files_json(run_cli, repo.path)
    finding = only(findings, "PM202")
    assert code == 1
    assert finding["message"] == "'templates/*.md' matches 1 file, fewer than min_count 2"
    assert (finding["line"], finding["name"]) == (2, "templates/*.md")
    repo.write("templates/reviewer.md", "review\n")
    repo.commit("second template")
    assert run_cli("files", cwd=repo.path).code == 0


def test_glob_with_no_directory_and_default_min_count(make_repo, run_cli) -> None:
    repo = make_repo({"premerge.yaml": "required_files:\n  - templates/*.md\n", "a.py": ""})
    code, findings = files_json(run_cli, repo.path)
    assert "matches 0 files, fewer than min_count 1" in only(findings, "PM202")["message"]


def test_glob_matches_are_checked_one_by_one(make_repo, run_cli) -> None:
    repo = make_repo({"premerge.yaml": "required_files:\n  - path: templates/*.md\n",
                      "templates/a.md": "a\n", "templates/empty.md": "",
                      ".gitignore": "templates/local.md\n"})
    repo.write("templates/draft.md", "draft\n")
    repo.write("templates/local.md", "ignored: does not count, not reported\n")
    code, findings = files_json(run_cli, repo.path)
    assert sorted((f["code"], f["name"]) for f in findings) == [
        ("PM203", "templates/draft.md"), ("PM205", "templates/empty.md")]


def test_directory_entry_needs_a_file_inside(make_repo, run_cli) -> None:
    repo = make_repo({"premerge.yaml": "required_files:\n  - templates\n",
                      "templates/a.md": "a\n"})
    assert run_cli("files", cwd=repo.path).code == 0
    (repo.path / "templates" / "a.md").unlink()
    (repo.path / "templates" / "keep").mkdir()
    code, findings = files_json(run_cli, repo.path)
    assert codes(findings) == ["PM202"]


def test_symlink_to_missing_target(make_repo, run_cli) -> None:
    repo = make_repo({"premerge.yaml": MANIFEST})
    (repo.path / "CLAUDE.md").symlink_to("docs/CLAUDE.md")
    code, findings = files_json(run_cli, repo.path)
    assert "a symlink to docs/CLAUDE.md, which does not exist" in only(findings, "PM201")[
        "message"]


def test_noqa_on_the_manifest_line_suppresses(make_repo, run_cli) -> None:
    """``# noqa: CODE`` silences that code on its entry's line only; a bare ``# noqa`` all."""
    entries = [("CLAUDE.md", "  # noqa: PM201"),  # missing: suppressed
               ("AGENTS.md", "  # noqa: PM205"),  # missing, but the comment names PM205
               ("NOTES.md", "  # noqa: PM205"),  # empty: suppressed
               ("EMPTY.md", "  # noqa")]  # empty: a bare noqa suppresses every code
    repo = make_repo({"NOTES.md": "", "EMPTY.md": ""})

    def manifest(with_comments: bool) -> str:
        return "required_files:\n" + "".join(
            f"  - {path}{comment if with_comments else ''}\n" for path, comment in entries)

    repo.write("premerge.yaml", manifest(with_comments=False))
    repo.commit("manifest")
    code, findings = files_json(run_cli, repo.path)
    assert code == 1
    assert [(f["code"], f["line"], f["name"]) for f in findings] == [
        ("PM201", 2, "CLAUDE.md"), ("PM201", 3, "AGENTS.md"), ("PM205", 4, "NOTES.md"),
        ("PM205", 5, "EMPTY.md")]

    repo.write("premerge.yaml", manifest(with_comments=True))
    repo.commit("noqa comments")
    code, findings = files_json(run_cli, repo.path)
    assert [(f["code"], f["line"], f["name"]) for f in findings] == [("PM201", 3, "AGENTS.md")]
    assert code == 1


def test_uncommitted_manifest_is_a_warning_pm209(make_repo, run_cli) -> None:
    repo = make_repo({"CLAUDE.md": "# brief\n"})
    repo.write("premerge.yaml", MANIFEST)
    code, findings = files_json(run_cli, repo.path)
    finding = only(findings, "PM209")
    assert code == 0 and finding["severity"] == "warning"  # warnings do not fail by default
    assert finding["message"].startswith("premerge.yaml is not committed (untracked)")
    assert run_cli("files", "--fail-on", "warning", cwd=repo.path).code == 1


def test_no_manifest_is_valid_and_says_what_it_skipped(make_repo, run_cli) -> None:
    repo = make_repo({"a.py": "print('hi')\n"})
    result = run_cli("files", cwd=repo.path)
    assert result.code == 0
    assert "no premerge.yaml: nothing is declared" in result.err


def test_invalid_manifest_exits_2_with_one_line(make_repo, run_cli) -> None:
    repo = make_repo({"premerge.yaml": "required_files:\n  - path: a\n    min_cout: 2\n"})
    result = run_cli("files", cwd=repo.path)
    assert result.code == 2 and result.out == ""
    assert result.err.strip() == (
        "premerge: error: premerge.yaml:3: unknown key required_files[].'min_cout' (did you "
        "mean 'min_count'?); known keys: path, reason, min_count, allow_empty, tracked, "
        "worktrees")


def test_every_finding_kind_in_one_json_document(make_repo, run_cli) -> None:
    manifest = ("version: 1\nrequired_files:\n  - CLAUDE.md\n  - AGENTS.md\n  - empty.md\n"
                "  - path: templates/*.md\n    min_count: 3\n")
    repo = make_repo({"premerge.yaml": manifest, "empty.md": "", "templates/a.md": "a\n"})
    repo.write("AGENTS.md", "# agents\n")
    result = run_cli("files", "--format", "json", cwd=repo.path)
    document = json.loads(result.out)
    assert result.code == 1
    assert document["summary"]["by_code"] == {"PM201": 1, "PM202": 1, "PM203": 1, "PM205": 1}
    assert [(f["code"], f["line"]) for f in document["findings"]] == [
        ("PM201", 3), ("PM203", 4), ("PM205", 5), ("PM202", 6)]


def test_subprocess_run_matches_in_process(make_repo) -> None:
    from tests.conftest import run_premerge

    repo = make_repo({"premerge.yaml": MANIFEST})
    proc = run_premerge("files", cwd=repo.path)
    assert proc.returncode == 1
    assert proc.stdout == "premerge.yaml:3:5: PM201 required file 'CLAUDE.md' is missing\n"
    assert "Traceback" not in proc.stderr


def test_files_inside_a_submodule_are_the_submodules_to_track(make_repo, run_cli) -> None:
    library = make_repo({"CLAUDE.md": "# shared briefing\n", "data.json": "{}\n"},
                        name="library")
    repo = make_repo({"premerge.yaml": "required_files:\n  - vendor/lib/CLAUDE.md\n"
                                       "  - vendor/lib/*.json\n",
                      "app.py": "from pathlib import Path\n"
                                "print((Path(__file__).parent / 'vendor' / 'lib' / 'data.json')"
                                ".read_text())\n"})
    repo.git("-c", "protocol.file.allow=always", "submodule", "add", "-q",
             str(library.path), "vendor/lib")
    repo.commit("add the submodule")
    code, findings = files_json(run_cli, repo.path)
    assert (code, findings) == (0, [])  # not PM203 / PM208: the submodule tracks them
    (repo.path / "vendor" / "lib" / "CLAUDE.md").unlink()
    code, findings = files_json(run_cli, repo.path)
    assert codes(findings) == ["PM201"]  # missing is still missing
