"""``--format github``: workflow commands with GitHub's escaping rules."""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from premerge.findings import Finding, Location, Severity
from premerge.input_rules import NotChecked, SkippedFile, SyntaxErrorInFile
from premerge.report import ReportContext, render


def _context(root: Path) -> ReportContext:
    # cwd deliberately elsewhere: annotations must be root-relative, not cwd-relative
    return ReportContext(root=root.as_posix(), cwd=(root / "sub").as_posix())


def _unescape_data(text: str) -> str:
    return text.replace("%0A", "\n").replace("%0D", "\r").replace("%25", "%")


def _unescape_property(text: str) -> str:
    return _unescape_data(text.replace("%3A", ":").replace("%2C", ","))


_COMMAND = re.compile(r"^::(?P<kind>error|warning|notice) (?P<props>[^:]*)::(?P<data>.*)$")


def _parse(line: str) -> tuple[str, dict[str, str], str]:
    """Parse one command the way the runner does (split properties on ',' then first '=')."""
    match = _COMMAND.match(line)
    assert match, line
    props = {}
    for pair in match["props"].split(","):
        key, _, value = pair.partition("=")
        props[key] = _unescape_property(value)
    return match["kind"], props, _unescape_data(match["data"])


def test_error_command_with_full_position(tmp_path: Path) -> None:
    finding = SyntaxErrorInFile.at((tmp_path / "pkg" / "mod.py").as_posix(), 3, 7, end_line=3,
                                   end_col=9, reason="invalid syntax")
    out = render("github", [finding], _context(tmp_path))
    assert out == ("::error file=pkg/mod.py,line=3,col=7,endLine=3,endColumn=9,title=PM002::"
                   "syntax error: invalid syntax\n")


def test_severities_map_to_error_warning_notice(tmp_path: Path) -> None:
    path = (tmp_path / "a.py").as_posix()
    out = render("github", [SyntaxErrorInFile.at(path, 1, 1, reason="r"),
                            SkippedFile.at(path, 1, 1, reason="r"),
                            NotChecked.at(path, 1, 1, reason="r")], _context(tmp_path))
    assert [line.split(" ", 1)[0] for line in out.splitlines()] == \
        ["::error", "::warning", "::notice"]


def test_no_line_means_file_level_annotation(tmp_path: Path) -> None:
    out = render("github", [SkippedFile.at((tmp_path / "big.py").as_posix(), reason="huge")],
                 _context(tmp_path))
    assert out == "::warning file=big.py,title=PM004::not analysed: huge\n"


def test_multiline_range_drops_end_column(tmp_path: Path) -> None:
    finding = SyntaxErrorInFile.at((tmp_path / "a.py").as_posix(), 2, 5, end_line=4, end_col=1,
                                   reason="r")
    _, props, _ = _parse(render("github", [finding], _context(tmp_path)).strip())
    assert props["endLine"] == "4" and "endColumn" not in props


def test_escaping_of_data_and_properties(tmp_path: Path) -> None:
    path = (tmp_path / "we,ird:dir" / "100%.py").as_posix()
    finding = Finding(code="PM002", message="50% done\r\nnext line ::error::injected",
                      path=path, line=1, col=1, severity=Severity.ERROR)
    out = render("github", [finding], _context(tmp_path))
    assert out == ("::error file=we%2Cird%3Adir/100%25.py,line=1,col=1,title=PM002::"
                   "50%25 done%0D%0Anext line ::error::injected\n")
    assert out.count("\n") == 1


def test_related_locations_become_extra_message_lines(tmp_path: Path) -> None:
    path = (tmp_path / "s.py").as_posix()
    finding = SyntaxErrorInFile.at(path, 15, 17, reason="r", related=[
        Location(path, 9, 9, "imported here, in Orchestrator.run()"),
        Location((tmp_path / "t.py").as_posix())])
    kind, props, message = _parse(render("github", [finding], _context(tmp_path)).strip())
    assert kind == "error" and props["file"] == "s.py"
    assert message.splitlines() == ["syntax error: r",
                                    "  s.py:9:9: imported here, in Orchestrator.run()",
                                    "  t.py"]


_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)


@given(message=_text, name=_text.filter(lambda s: "/" not in s and s not in ("", ".", "..")))
def test_any_text_round_trips_through_one_command(message: str, name: str) -> None:
    root = Path("/work/repo")
    finding = Finding(code="PM001", message=message, path=f"{root}/{name}", line=2, col=3)
    out = render("github", [finding], _context(root))
    assert out.endswith("\n") and "\n" not in out[:-1] and "\r" not in out
    kind, props, data = _parse(out[:-1])
    assert kind == "error"
    assert props["file"] == name and props["line"] == "2" and props["title"] == "PM001"
    assert data == message


def test_cli_github_format(make_repo, run_cli) -> None:
    """The real check, through the CLI: one command per finding, the path's ``,`` and ``%`` and
    the message's newline escaped, so the runner reads back exactly what premerge found."""
    repo = make_repo({"ok.py": "VALUE = 1\n", "we,ird/100%/session.py": """\
        class Orchestrator:
            def run(self):
                from json import dumps
                return dumps(1)

            def report(self):
                return dumps(2)
        """})
    result = run_cli("check", "--format", "github", "--checks", "scope,files", cwd=repo.path)
    assert result.code == 1, result.err
    (line,) = result.out.splitlines()
    assert line.startswith("::error file=we%2Cird/100%25/session.py,line=7,col=16,")
    kind, props, message = _parse(line)
    assert kind == "error" and props["title"] == "PM101"
    assert (props["file"], props["line"], props["col"]) == ("we,ird/100%/session.py", "7", "16")
    assert message.splitlines() == [
        "'dumps' is not defined here: it is imported only inside Orchestrator.run()",
        "  we,ird/100%/session.py:3:9: imported here, in Orchestrator.run()"]

    repo.write("we,ird/100%/session.py", "import json\n\n\ndef report():\n"
               "    return json.dumps(2)\n")
    clean = run_cli("check", "--format", "github", "--checks", "scope,files", cwd=repo.path)
    assert (clean.code, clean.out) == (0, "")


def test_pseudo_file_frames_are_shown_as_they_are(tmp_path: Path) -> None:
    finding = SyntaxErrorInFile.at((tmp_path / "boom.py").as_posix(), 1, 1, reason="r",
                                   related=[Location("<frozen importlib._bootstrap>", 241)])
    _, _, message = _parse(render("github", [finding], _context(tmp_path)).strip())
    assert message.splitlines()[1] == "  <frozen importlib._bootstrap>:241"
