"""Bad input inside a scope run: each bad file gets its PM0xx finding, never a traceback, and
the other files are still checked."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from premerge.findings import Finding
from tests.scope.helpers import execute, last_error, scope_findings

BUG = "def f():\n    return json.dumps(1)\n"


def _codes(findings: list[Finding], name: str) -> list[str]:
    return [f.code for f in findings if f.path.endswith("/" + name)]


def _check_with_a_bug_beside(tmp_path: Path, name: str, content: bytes | None = None
                             ) -> list[Finding]:
    if content is not None:
        (tmp_path / name).write_bytes(content)
    (tmp_path / "buggy.py").write_text(BUG)
    findings = scope_findings(tmp_path)
    assert _codes(findings, "buggy.py") == ["PM111"], "the other file was not checked"
    return findings


BAD_FILES = [
    ("syntax.py", b"def f(:\n    pass\n", "PM002"),
    ("latin.py", b"# -*- coding: utf-8 -*-\nname = '\xff'\n", "PM003"),
    ("nul.py", b"x = 1\x00\n", "PM003"),
    ("binary.py", bytes(range(256)) * 4, "PM003"),
    ("bad_cookie.py", b"# -*- coding: no-such-codec -*-\nx = 1\n", "PM003"),
    ("parens.py", b"x = " + b"(" * 5000 + b")" * 5000 + b"\n", "PM002"),
    ("indent.py", b"".join(b"    " * i + b"if x:\n" for i in range(120)) + b"    " * 120
     + b"pass\n", "PM002"),
    ("long_sum.py", b"x = 1" + b" + 1" * 100_000 + b"\n", "PM004"),
]


@pytest.mark.parametrize("name, content, code", BAD_FILES)
def test_bad_file_gets_a_finding_and_others_go_on(tmp_path: Path, name: str, content: bytes,
                                                  code: str) -> None:
    findings = _check_with_a_bug_beside(tmp_path, name, content)
    assert _codes(findings, name) == [code]
    bad = next(f for f in findings if f.path.endswith(name))
    assert bad.line is not None and bad.message


def test_syntax_error_carries_line_and_column(tmp_path: Path) -> None:
    (tmp_path / "broken.py").write_text("x = 1\ny = (\n")
    [finding] = scope_findings(tmp_path)
    assert finding.code == "PM002" and finding.line == 2


def _import_error(name: str, content: bytes) -> str:
    """What importing the file raises: Python before 3.11 rejects a NUL byte with ValueError."""
    if b"\0" in content and sys.version_info < (3, 11):
        return "ValueError"
    return "IndentationError" if name == "indent.py" else "SyntaxError"


@pytest.mark.parametrize("name, content, code",
                         [case for case in BAD_FILES if case[2] in ("PM002", "PM003")])
def test_python_agrees_those_files_cannot_be_imported(tmp_path: Path, name: str, content: bytes,
                                                      code: str) -> None:
    """Each file premerge calls unparsable (PM002) or undecodable (PM003) really fails to import."""
    (tmp_path / name).write_bytes(content)
    assert [f.code for f in scope_findings(tmp_path)] == [code]
    module = name.removesuffix(".py")
    assert last_error(execute(tmp_path, f"import {module}")) == _import_error(name, content)


def test_empty_and_blank_files_are_silent(tmp_path: Path) -> None:
    (tmp_path / "empty.py").write_bytes(b"")
    (tmp_path / "blank.py").write_bytes(b"\n\n   \n")
    findings = _check_with_a_bug_beside(tmp_path, "empty.py")
    assert _codes(findings, "empty.py") == [] and _codes(findings, "blank.py") == []


def test_dangling_and_looping_symlinks(tmp_path: Path) -> None:
    os.symlink(tmp_path / "missing.py", tmp_path / "dangling.py")
    os.symlink(tmp_path / "loop_b.py", tmp_path / "loop_a.py")
    os.symlink(tmp_path / "loop_a.py", tmp_path / "loop_b.py")
    findings = scope_findings(tmp_path, tmp_path / "dangling.py", tmp_path / "loop_a.py",
                              tmp_path / "loop_b.py")
    assert sorted(f.code for f in findings) == ["PM001", "PM001", "PM001"]
    assert all("symlink" in f.message for f in findings)


def test_a_directory_named_like_a_module(tmp_path: Path) -> None:
    (tmp_path / "weird.py").mkdir()
    (tmp_path / "buggy.py").write_text(BUG)
    findings = scope_findings(tmp_path, tmp_path / "weird.py", tmp_path / "buggy.py")
    assert _codes(findings, "buggy.py") == ["PM111"]


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0,
                    reason="root reads files whatever their mode; permissions cannot be tested")
def test_unreadable_file(tmp_path: Path) -> None:  # pragma: no cover - not as root
    target = tmp_path / "secret.py"
    target.write_text("x = 1\n")
    target.chmod(0)
    try:
        findings = _check_with_a_bug_beside(tmp_path, "secret.py")
        assert _codes(findings, "secret.py") == ["PM001"]
    finally:
        target.chmod(0o644)


def test_missing_path_is_reported(tmp_path: Path) -> None:
    findings = scope_findings(tmp_path, tmp_path / "nope.py")
    assert [f.code for f in findings] == ["PM001"]


def test_pep263_cookie_and_bom_are_honoured(tmp_path: Path) -> None:
    (tmp_path / "latin1.py").write_bytes(
        b"# -*- coding: latin-1 -*-\nNAME = '\xe9'\ndef f():\n    return json.dumps(NAME)\n")
    (tmp_path / "bom.py").write_bytes(
        b"\xef\xbb\xbfdef f():\n    return json.dumps(1)\n")
    findings = scope_findings(tmp_path)
    assert sorted((Path(f.path).name, f.code, f.line) for f in findings) == [
        ("bom.py", "PM111", 2), ("latin1.py", "PM111", 4)]
    assert last_error(execute(tmp_path, "import latin1, bom")) is None


def test_internal_error_on_one_file_is_pm009_and_others_go_on(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import premerge.scope.analyzer as analyzer

    real = analyzer.analyze_tree

    def explode(tree, text, path, package=None, is_init=False):  # type: ignore[no-untyped-def]
        if path.endswith("boom.py"):
            raise KeyError("simulated analyzer bug")
        return real(tree, text, path, package, is_init)

    monkeypatch.setattr(analyzer, "analyze_tree", explode)
    (tmp_path / "boom.py").write_text("x = 1\n")
    findings = _check_with_a_bug_beside(tmp_path, "boom.py")
    [boom] = [f for f in findings if f.path.endswith("boom.py")]
    assert boom.code == "PM009" and "KeyError" in boom.message
