"""PM206: the orchestrator's failure -- a required file missing from an agent's git worktree."""

from __future__ import annotations

from pathlib import Path

from tests.files.helpers import codes, files_json, only

MANIFEST = ("version: 1\nrequired_files:\n  - path: CLAUDE.md\n"
            "    reason: the agents' briefing\n    worktrees: true\n")


def _orchestrator(make_repo):
    repo = make_repo({"premerge.yaml": MANIFEST, "CLAUDE.md": "# briefing\n",
                      "orch/__init__.py": ""})
    # an agent branch created before CLAUDE.md was committed there
    repo.git("checkout", "-q", "-b", "agent-1")
    repo.git("rm", "-q", "CLAUDE.md")
    repo.commit("agent branch without the briefing")
    repo.git("checkout", "-q", "main")
    return repo


def test_missing_in_agent_worktree_names_path_and_branch(make_repo, run_cli, tmp_path) -> None:
    repo = _orchestrator(make_repo)
    agent = tmp_path / "agents" / "agent-1"
    repo.git("worktree", "add", "-q", str(agent), "agent-1")
    code, findings = files_json(run_cli, repo.path)
    finding = only(findings, "PM206")
    assert code == 1 and codes(findings) == ["PM206"]
    assert finding["message"] == (f"'CLAUDE.md' is missing from the git worktree "
                                  f"{agent.as_posix()} (branch agent-1)")
    assert (finding["path"], finding["line"]) == ("premerge.yaml", 3)
    related = finding["related"][0]
    assert Path(repo.path, related["path"]).resolve() == (agent / "CLAUDE.md").resolve()
    assert related["message"] == "missing in this worktree (branch agent-1)"
    # and it really is missing there: what an agent starting in that worktree would see
    assert not (agent / "CLAUDE.md").exists()


def test_text_output_of_the_orchestrator_case(make_repo, run_cli, tmp_path) -> None:
    repo = _orchestrator(make_repo)
    agent = tmp_path / "wt"
    repo.git("worktree", "add", "-q", str(agent), "agent-1")
    result = run_cli("files", cwd=repo.path)
    lines = result.out.splitlines()
    assert result.code == 1
    assert lines[0] == (f"premerge.yaml:3:5: PM206 'CLAUDE.md' is missing from the git worktree "
                        f"{agent.as_posix()} (branch agent-1)")
    assert lines[1].endswith("/wt/CLAUDE.md: missing in this worktree (branch agent-1)")


def test_worktree_that_has_the_file_passes(make_repo, run_cli, tmp_path) -> None:
    repo = _orchestrator(make_repo)
    repo.git("worktree", "add", "-q", str(tmp_path / "ok"), "-b", "agent-2")  # from main
    assert run_cli("files", cwd=repo.path).code == 0


def test_copy_provisioned_into_worktree_passes(make_repo, run_cli, tmp_path) -> None:
    # the orchestrator's intended step: copy the briefing into the worktree
    repo = _orchestrator(make_repo)
    agent = tmp_path / "agent"
    repo.git("worktree", "add", "-q", str(agent), "agent-1")
    (agent / "CLAUDE.md").write_text("# briefing\n", encoding="utf-8")
    assert run_cli("files", cwd=repo.path).code == 0


def test_without_worktrees_flag_other_worktrees_are_not_checked(make_repo, run_cli,
                                                                 tmp_path) -> None:
    repo = _orchestrator(make_repo)
    repo.write("premerge.yaml", "required_files:\n  - CLAUDE.md\n")
    repo.commit("no worktree requirement")
    repo.git("worktree", "add", "-q", str(tmp_path / "agent"), "agent-1")
    assert run_cli("files", cwd=repo.path).code == 0


def test_run_from_inside_the_agent_worktree(make_repo, run_cli, tmp_path) -> None:
    repo = _orchestrator(make_repo)
    agent = tmp_path / "agent"
    repo.git("worktree", "add", "-q", str(agent), "agent-1")
    (agent / "premerge.yaml").write_text(MANIFEST, encoding="utf-8")
    code, findings = files_json(run_cli, agent)
    # here, the file is missing at this worktree's root; the main worktree has it
    assert "PM201" in codes(findings) and "PM206" not in codes(findings)


def test_detached_worktree_and_glob_entries(make_repo, run_cli, tmp_path) -> None:
    repo = make_repo({"premerge.yaml": "required_files:\n  - path: templates/*.md\n"
                                       "    min_count: 2\n    worktrees: true\n",
                      "templates/a.md": "a\n", "templates/b.md": "b\n"})
    first = repo.git("rev-parse", "HEAD").strip()
    repo.git("rm", "-q", "templates/b.md")
    repo.write("templates/c.md", "c\n")
    repo.commit("swap")
    repo.git("rm", "-q", "templates/c.md")
    repo.commit("only one left")
    agent = tmp_path / "detached"
    repo.git("worktree", "add", "-q", "--detach", str(agent), first)
    code, findings = files_json(run_cli, repo.path)
    # the main worktree has 1 template (PM202); the detached one has 2 (fine)
    assert codes(findings) == ["PM202"]
    repo.git("worktree", "remove", "--force", str(agent))
    second = tmp_path / "second"
    repo.git("worktree", "add", "-q", "--detach", str(second), "HEAD")
    (repo.path / "templates" / "x.md").write_text("x\n")
    repo.commit("two again")
    code, findings = files_json(run_cli, repo.path)
    finding = only(findings, "PM206")
    assert "detached HEAD at" in finding["message"]
    assert finding["message"].endswith(": 1 matching file, min_count 2")


def test_vanished_worktree_is_a_note_not_a_crash(make_repo, run_cli, tmp_path) -> None:
    import shutil

    repo = _orchestrator(make_repo)
    agent = tmp_path / "gone"
    repo.git("worktree", "add", "-q", str(agent), "agent-1")
    shutil.rmtree(agent)
    result = run_cli("files", cwd=repo.path)
    assert result.code == 0, result.out
    assert "no longer exists" in result.err and "git worktree prune" in result.err
