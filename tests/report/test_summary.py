"""``--summary FILE``: the Markdown job summary."""

from __future__ import annotations

import re
from pathlib import Path

from premerge.findings import Finding, Location, Severity
from premerge.input_rules import NotChecked, SkippedFile, SyntaxErrorInFile
from premerge.report import ReportContext, render
from premerge.report.summary import MAX_ROWS

_CELL_SPLIT = re.compile(r"(?<!\\)\|")


def _context(root: Path, **kwargs: object) -> ReportContext:
    return ReportContext(root=root.as_posix(), cwd=root.as_posix(), **kwargs)  # type: ignore[arg-type]


def _table_rows(markdown: str, header: str) -> list[list[str]]:
    lines = markdown.splitlines()
    start = lines.index(header)
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        cells = _CELL_SPLIT.split(line)
        assert cells[0] == "" and cells[-1] == "", line
        rows.append([c.strip() for c in cells[1:-1]])
    return rows


def test_no_findings(tmp_path: Path) -> None:
    out = render("summary", [], _context(tmp_path, files=3, checks=["scope", "files"],
                                          by_check={"scope": 0, "files": 0}))
    assert out.splitlines()[0] == "### ✅ premerge: no findings in 3 files"
    assert _table_rows(out, "| check | findings |") == [["scope", "0"], ["files", "0"]]
    assert "| code | location | message |" not in out


def test_counts_and_table(tmp_path: Path) -> None:
    path = (tmp_path / "pkg" / "a.py").as_posix()
    findings = [SyntaxErrorInFile.at(path, 3, 5, reason="bad",
                                     related=[Location(path, 1, 1, "opened here")]),
                SkippedFile.at(path, reason="too big"),
                NotChecked.at(path, 1, 1, reason="star")]
    out = render("summary", findings, _context(tmp_path, files=1, by_check={"scope": 3},
                                                notes=["smoke skipped"]))
    assert out.splitlines()[0] == \
        "### ❌ premerge: 3 findings (1 error, 1 warning, 1 note) in 1 file"
    rows = _table_rows(out, "| code | location | message |")
    assert len(rows) == 3
    assert rows[0][0].startswith("❌ `PM002` syntax error")
    assert rows[0][1] == "`pkg/a.py:3:5`"
    assert rows[0][2] == "syntax error: bad<br>↳ pkg/a.py:1:1: opened here"
    assert rows[1][1] == "`pkg/a.py`"
    assert "> smoke skipped" in out


def test_cells_escape_pipes_newlines_and_html(tmp_path: Path) -> None:
    message = "a | b\nc <script>x</script> `d` ![t](http://x/p)"
    finding = Finding(code="PM001", message=message,
                      path=(tmp_path / "we|ird`.py").as_posix(), line=1, col=1)
    out = render("summary", [finding], _context(tmp_path))
    (row,) = _table_rows(out, "| code | location | message |")
    assert row[1] == "`we\\|ird'.py:1:1`"
    assert row[2] == "a \\| b<br>c &lt;script&gt;x&lt;/script&gt; `d` !\\[t\\](http://x/p)"
    assert "<script>" not in out


def test_rows_are_capped_with_a_more_line(tmp_path: Path) -> None:
    path = (tmp_path / "a.py").as_posix()
    findings = [Finding(code="PM004", message=f"m{i}", path=path, line=i + 1,
                        severity=Severity.WARNING) for i in range(MAX_ROWS + 7)]
    out = render("summary", findings, _context(tmp_path))
    assert len(_table_rows(out, "| code | location | message |")) == MAX_ROWS
    assert "… and 7 more" in out


def test_cli_appends_summary(make_repo, run_cli) -> None:
    repo = make_repo({"ok.py": "VALUE = 1\n"})
    summary = repo.path.parent / "summary.md"
    summary.write_text("earlier step\n", encoding="utf-8")
    result = run_cli("check", "--checks", "scope,files", "--summary", str(summary),
                     cwd=repo.path)
    assert result.code == 0, result.err
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("earlier step\n### ✅ premerge: no findings")
    assert _table_rows(text, "| check | findings |") == [["scope", "0"], ["files", "0"]]
