"""``--format sarif``: schema-valid, rules from the registry, locations, stable fingerprints."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from premerge.findings import Finding, Fix, Location, Severity, all_rules
from premerge.input_rules import InternalError, NotChecked, SkippedFile, SyntaxErrorInFile
from premerge.report import ReportContext, render
from premerge.report.sarif import FINGERPRINT_KEY, document
from tests.report.schema import assert_valid_sarif


def _context(root: Path, **kwargs: object) -> ReportContext:
    return ReportContext(root=root.as_posix(), cwd=root.as_posix(), **kwargs)  # type: ignore[arg-type]


def _sarif(findings: list[Finding], root: Path, **kwargs: object) -> dict:
    text = render("sarif", findings, _context(root, **kwargs))
    data = json.loads(text)
    assert_valid_sarif(data)
    return data


def _write(root: Path, rel: str, text: str) -> str:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path.as_posix()


def test_empty_run_is_valid_and_lists_every_rule(tmp_path: Path) -> None:
    data = _sarif([], tmp_path, notes=["smoke skipped: no modules"])
    assert data["version"] == "2.1.0"
    (run,) = data["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "premerge"
    ids = [rule["id"] for rule in driver["rules"]]
    assert ids == sorted(all_rules())
    assert run["results"] == []
    invocation = run["invocations"][0]
    assert invocation["executionSuccessful"] is True
    assert invocation["toolExecutionNotifications"][0]["message"]["text"] == \
        "smoke skipped: no modules"
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == tmp_path.as_uri() + "/"


def test_rule_descriptor_carries_title_help_example_and_level(tmp_path: Path) -> None:
    rules = {r["id"]: r for r in _sarif([], tmp_path)["runs"][0]["tool"]["driver"]["rules"]}
    syntax = rules["PM002"]
    assert syntax["name"] == "SyntaxErrorInFile"
    assert syntax["shortDescription"]["text"] == SyntaxErrorInFile.title
    assert syntax["fullDescription"]["text"] == SyntaxErrorInFile.help
    assert SyntaxErrorInFile.example in syntax["help"]["text"]
    assert syntax["defaultConfiguration"]["level"] == "error"
    assert rules["PM004"]["defaultConfiguration"]["level"] == "warning"
    assert rules["PM005"]["defaultConfiguration"]["level"] == "note"


def test_result_locations_regions_and_related(tmp_path: Path) -> None:
    path = _write(tmp_path, "pkg/mod.py", "import os\n\ndef f(:\n    pass\n")
    other = _write(tmp_path, "pkg/other.py", "x = 1\n")
    finding = SyntaxErrorInFile.at(
        path, 3, 7, end_line=3, end_col=8, reason="invalid syntax",
        related=[Location(other, 1, 1, "defined here"), Location(other, None, None, "")])
    (result,) = _sarif([finding], tmp_path)["runs"][0]["results"]
    rules = _sarif([finding], tmp_path)["runs"][0]["tool"]["driver"]["rules"]
    assert result["ruleId"] == "PM002"
    assert rules[result["ruleIndex"]]["id"] == "PM002"
    assert result["level"] == "error"
    assert result["message"]["text"] == "syntax error: invalid syntax"
    physical = result["locations"][0]["physicalLocation"]
    assert physical["artifactLocation"] == {"uri": "pkg/mod.py", "uriBaseId": "%SRCROOT%"}
    assert physical["region"] == {"startLine": 3, "startColumn": 7, "endLine": 3, "endColumn": 8}
    first, second = result["relatedLocations"]
    assert first["id"] == 1 and second["id"] == 2
    assert first["message"]["text"] == "defined here"
    assert first["physicalLocation"]["artifactLocation"]["uri"] == "pkg/other.py"
    assert "region" not in second["physicalLocation"]
    assert "message" not in second


def test_region_omitted_without_line_and_levels_follow_severity(tmp_path: Path) -> None:
    path = _write(tmp_path, "big.py", "x = 1\n")
    findings = [SkippedFile.at(path, reason="too large"),
                NotChecked.at(path, 1, 1, reason="star import")]
    results = _sarif(findings, tmp_path)["runs"][0]["results"]
    assert "region" not in results[0]["locations"][0]["physicalLocation"]
    assert [r["level"] for r in results] == ["warning", "note"]


def test_paths_with_spaces_outside_root_and_unregistered_codes(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    inside = _write(root, "dir with space/a#b.py", "x = 1\n")
    outside = _write(tmp_path, "elsewhere/wt.py", "y = 2\n")
    unknown = Finding(code="PM999", message="from a newer check", path=inside, line=1,
                      severity=Severity.WARNING)
    finding = SyntaxErrorInFile.at(inside, 1, 1, reason="x",
                                   related=[Location(outside, 1, 1, "the other worktree")])
    data = _sarif([finding, unknown], root)
    run = data["runs"][0]
    uri = run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "dir%20with%20space/a%23b.py"
    related = run["results"][0]["relatedLocations"][0]["physicalLocation"]["artifactLocation"]
    assert related == {"uri": Path(outside).as_uri()}
    rules = run["tool"]["driver"]["rules"]
    assert rules[run["results"][1]["ruleIndex"]]["id"] == "PM999"


def test_fix_becomes_a_sarif_fix(tmp_path: Path) -> None:
    path = _write(tmp_path, "m.py", "def f():\n    return os.sep\n")
    fix = Fix("import os at the top", ((1, 1, 1, 1, "import os\n"),))
    finding = Finding(code="PM002", message="m", path=path, line=2, col=12, fix=fix)
    (result,) = _sarif([finding], tmp_path)["runs"][0]["results"]
    (change,) = result["fixes"][0]["artifactChanges"]
    assert change["artifactLocation"]["uri"] == "m.py"
    assert change["replacements"][0]["insertedContent"]["text"] == "import os\n"


def test_internal_error_marks_the_invocation_unsuccessful(tmp_path: Path) -> None:
    finding = InternalError.at(tmp_path.as_posix(), reason="the scope check crashed")
    run = _sarif([finding], tmp_path)["runs"][0]
    assert run["invocations"][0]["executionSuccessful"] is False
    assert "region" not in run["results"][0]["locations"][0]["physicalLocation"]


def _fingerprint(root: Path, findings: list[Finding]) -> list[str]:
    data = document(findings, _context(root))
    return [r["partialFingerprints"][FINGERPRINT_KEY] for r in data["runs"][0]["results"]]


def test_fingerprint_survives_lines_inserted_above(tmp_path: Path) -> None:
    body = "def run():\n    return Briefing()\n"
    path = _write(tmp_path, "session.py", body)
    before = _fingerprint(tmp_path, [SyntaxErrorInFile.at(path, 2, 12, name="Briefing",
                                                          reason="r")])
    _write(tmp_path, "session.py", "import sys\n\n\n# a comment\n" + body.replace("    ", "\t"))
    after = _fingerprint(tmp_path, [SyntaxErrorInFile.at(path, 6, 12, name="Briefing",
                                                         reason="r")])
    assert before == after


def test_fingerprint_differs_for_a_different_finding(tmp_path: Path) -> None:
    path = _write(tmp_path, "s.py", "a = Briefing\nb = Session\n")
    elsewhere = _write(tmp_path, "t.py", "a = Briefing\nb = Session\n")
    base = SyntaxErrorInFile.at(path, 1, 5, name="Briefing", reason="r")
    prints = _fingerprint(tmp_path, [
        base,
        SyntaxErrorInFile.at(path, 2, 5, name="Session", reason="r"),  # other name, other line
        SyntaxErrorInFile.at(path, 1, 5, name="Other", reason="r"),  # same line, other name
        NotChecked.at(path, 1, 5, name="Briefing", reason="r"),  # same place, other code
        SyntaxErrorInFile.at(elsewhere, 1, 5, name="Briefing", reason="r"),  # other file
    ])
    hashes = [_hash_part(p) for p in prints]
    # the hash part itself, not the per-run :N counter, tells the findings apart
    assert len(set(hashes)) == len(hashes), prints
    assert all(p.endswith(":1") for p in prints)


def _hash_part(fingerprint: str) -> str:
    digest, occurrence = fingerprint.rsplit(":", 1)
    assert len(digest) >= 16 and occurrence.isdigit(), fingerprint
    return digest


def test_identical_lines_get_distinct_occurrences(tmp_path: Path) -> None:
    path = _write(tmp_path, "dup.py", "x = missing\nx = missing\n")
    first, second = _fingerprint(tmp_path, [
        SyntaxErrorInFile.at(path, 1, 5, name="missing", reason="r"),
        SyntaxErrorInFile.at(path, 2, 5, name="missing", reason="r")])
    assert first != second
    assert first.split(":")[0] == second.split(":")[0]
    assert (first.split(":")[1], second.split(":")[1]) == ("1", "2")


def test_fingerprint_without_a_line_ignores_numbers_in_the_message(tmp_path: Path) -> None:
    manifest = (tmp_path / "premerge.yaml").as_posix()
    one = Finding(code="PM002", message="entry at line 3 matches nothing", path=manifest)
    two = Finding(code="PM002", message="entry at line 9 matches nothing", path=manifest)
    assert _fingerprint(tmp_path, [one]) == _fingerprint(tmp_path, [two])


@pytest.mark.parametrize("line, col", [(0, 0), (None, 5)])
def test_nonsense_positions_still_validate(tmp_path: Path, line: int | None, col: int) -> None:
    finding = Finding(code="PM001", message="m", path=(tmp_path / "x.py").as_posix(), line=line,
                      col=col, end_line=0, end_col=0)
    _sarif([finding], tmp_path)


def _cli_sarif(run_cli, root: Path, expected_code: int) -> dict:
    out = root.parent / f"{root.name}.sarif"
    result = run_cli("check", "--format", "sarif", "--output", str(out), "--checks",
                     "scope,files", cwd=root)
    assert result.code == expected_code, (result.out, result.err)
    data = json.loads(out.read_text(encoding="utf-8"))
    assert_valid_sarif(data)
    return data


def test_cli_writes_valid_sarif(make_repo, run_cli) -> None:
    repo = make_repo({"pkg/__init__.py": "", "pkg/mod.py": "VALUE = 1\n"})
    data = _cli_sarif(run_cli, repo.path, 0)  # a clean repository passes
    (run,) = data["runs"]
    assert run["results"] == []
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == repo.path.resolve().as_uri() + "/"
    assert [rule["id"] for rule in run["tool"]["driver"]["rules"]] == sorted(all_rules())

    repo.write("pkg/mod.py", "def f(:\n    pass\n")
    (result,) = _cli_sarif(run_cli, repo.path, 1)["runs"][0]["results"]
    assert result["ruleId"] == "PM002" and result["level"] == "error"
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "pkg/mod.py"


#: PM101 in two files: ``helper`` is imported only in run() and used in report()
ORCHESTRATOR = """\
class Orchestrator:
    def run(self):
        from pkg.core import helper, other
        return helper(), other()

    def report(self):
        return helper()

    def summary(self):
        return other()
"""


def _results_by_place(data: dict) -> dict[tuple[str, str, str], dict]:
    """(code, file, name) -> its result, for every result."""
    out = {}
    for result in data["runs"][0]["results"]:
        key = (result["ruleId"],
               result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
               result.get("properties", {}).get("name", ""))
        assert key not in out, key
        out[key] = result
    return out


def _prints_by_place(data: dict) -> dict[tuple[str, str, str], str]:
    """(code, file, name) -> fingerprint of every result."""
    return {place: result["partialFingerprints"][FINGERPRINT_KEY]
            for place, result in _results_by_place(data).items()}


def test_fingerprints_across_runs_follow_the_finding_not_its_place(make_repo, run_cli) -> None:
    """Code scanning matches alerts between runs by fingerprint: an unrelated edit between two
    runs (lines inserted above, a new finding in a file listed earlier) keeps each finding's
    fingerprint; a different name, path or code gives a different hash part."""
    repo = make_repo({"pkg/__init__.py": "", "pkg/core.py": "def helper():\n    return 1\n\n\n"
                      "def other():\n    return 2\n", "pkg/session.py": ORCHESTRATOR,
                      "pkg/twin.py": ORCHESTRATOR})
    first = _prints_by_place(_cli_sarif(run_cli, repo.path, 1))
    assert set(first) == {("PM101", f"pkg/{stem}.py", name) for stem in ("session", "twin")
                          for name in ("helper", "other")}

    # the unrelated edit: a docstring and imports above the findings, and a new bug in a file
    # that sorts before the others (its results come first in the log)
    repo.write("pkg/session.py", '"""The orchestrator."""\n\nimport os\n\n\n' + ORCHESTRATOR)
    repo.write("pkg/aaa.py", "def f():\n    import json\n\n\ndef g():\n    return json\n")
    repo.commit("unrelated edit")
    results = _results_by_place(_cli_sarif(run_cli, repo.path, 1))
    second = {place: r["partialFingerprints"][FINGERPRINT_KEY] for place, r in results.items()}
    assert set(second) == set(first) | {("PM101", "pkg/aaa.py", "json")}
    for place, fingerprint in first.items():
        assert second[place] == fingerprint, place  # the same finding keeps its fingerprint

    hashes = {place: _hash_part(fp) for place, fp in second.items()}
    # another name in the same file, and the same name and line text in another file
    assert len(set(hashes.values())) == len(hashes), second
    # another code for the same name at the same place (so on the same line text)
    place = ("PM101", "pkg/session.py", "helper")
    region = results[place]["locations"][0]["physicalLocation"]["region"]
    assert region["startLine"] == 12
    twin = Finding(code="PM102", message=results[place]["message"]["text"],
                   path=(repo.path / "pkg/session.py").as_posix(), line=region["startLine"],
                   col=region["startColumn"], name="helper", key="Orchestrator.report:helper")
    same = twin.with_changes(code="PM101")
    other_code, same_code = _fingerprint(repo.path, [twin]), _fingerprint(repo.path, [same])
    assert same_code == [second[place]]  # the recipe above, rebuilt from the finding's parts
    assert _hash_part(other_code[0]) != hashes[place]


_positions = st.one_of(st.none(), st.integers(min_value=-2, max_value=10_000))
_texts = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)


@settings(max_examples=60, deadline=None)
@given(findings=st.lists(st.builds(
    Finding,
    code=st.sampled_from(["PM001", "PM002", "PM004", "PM005", "PM999"]),
    message=_texts,
    path=_texts.map(lambda name: f"/work/repo/{name or 'x'}"),
    line=_positions, col=_positions, end_line=_positions, end_col=_positions,
    severity=st.sampled_from(list(Severity)),
    name=st.one_of(st.none(), _texts),
    related=st.lists(st.builds(Location, path=_texts.map(lambda n: f"/elsewhere/{n}"),
                               line=_positions, col=_positions, message=_texts), max_size=2)
        .map(tuple),
), max_size=5))
def test_any_findings_give_schema_valid_sarif(findings: list[Finding]) -> None:
    context = ReportContext(root="/work/repo", cwd="/work/repo")
    data = json.loads(render("sarif", findings, context))
    assert_valid_sarif(data)
    results = data["runs"][0]["results"]
    assert len(results) == len(findings)
    prints = [r["partialFingerprints"][FINGERPRINT_KEY] for r in results]
    assert len(set(prints)) == len(prints)  # occurrence numbers keep even twins apart
    hashes = [_hash_part(p) for p in prints]
    for index, (finding, digest) in enumerate(zip(findings, hashes)):
        # N counts the earlier results with the same hash part
        assert prints[index].endswith(f":{hashes[:index].count(digest) + 1}")
        identity = (finding.code, context.root_path(finding.path), finding.name or "")
        for other, other_digest in zip(findings[:index], hashes):
            # another code, root-relative path or name: another hash part
            if (other.code, context.root_path(other.path), other.name or "") != identity:
                assert digest != other_digest, (finding, other)


def test_the_schema_gate_rejects_broken_sarif(tmp_path: Path) -> None:
    data = document([], _context(tmp_path))
    data["runs"][0]["results"] = [{"ruleId": "PM001", "level": "fatal", "message": {}}]
    with pytest.raises(AssertionError, match="fatal"):
        assert_valid_sarif(data)


def test_pseudo_file_frames_have_no_artifact(tmp_path: Path) -> None:
    path = _write(tmp_path, "boom.py", "raise RuntimeError\n")
    finding = SyntaxErrorInFile.at(path, 1, 1, reason="r", related=[
        Location("<frozen importlib._bootstrap>", 241, None, "in _call_with_frames_removed()")])
    (result,) = _sarif([finding], tmp_path)["runs"][0]["results"]
    (related,) = result["relatedLocations"]
    assert "physicalLocation" not in related
    assert related["message"]["text"] == \
        "<frozen importlib._bootstrap>:241: in _call_with_frames_removed()"
