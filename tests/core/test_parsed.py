"""premerge.parsed: a file is read and parsed once per run, within bounded memory.

Real files on disk; "read once" shows as the run keeping the bytes it first read after the file
changed, "parsed once" as the very same tree object coming back, and as the count of real
``ast.parse`` calls a whole ``premerge check`` makes.
"""

from __future__ import annotations

import ast
import json
import multiprocessing
import os
from pathlib import Path

import pytest

from premerge import parsed
from premerge.safefile import NOT_REGULAR, FileRefused
from premerge.sources import SourceError


def _write(path: Path, text: str) -> str:
    path.write_text(text, encoding="utf-8")
    return path.as_posix()


def test_outside_a_run_every_call_reads_and_parses_again(tmp_path: Path) -> None:
    path = _write(tmp_path / "a.py", "x = 1\n")
    first = parsed.parse_source(path)
    _write(tmp_path / "a.py", "y = 2\n")
    second = parsed.parse_source(path)
    assert first.tree is not second.tree
    assert parsed.read_source_bytes(path) == b"y = 2\n"
    assert [type(node).__name__ for node in second.tree.body] == ["Assign"]
    assert second.source.text == "y = 2\n"


def test_a_run_reads_each_file_once(tmp_path: Path) -> None:
    path = _write(tmp_path / "a.py", "x = 1\n")
    with parsed.shared():
        assert parsed.read_source_bytes(path) == b"x = 1\n"
        _write(tmp_path / "a.py", "changed = True\n")
        assert parsed.read_source_bytes(path) == b"x = 1\n"  # the run's one view of the file
        assert parsed.parse_source(path).source.text == "x = 1\n"
    assert parsed.read_source_bytes(path) == b"changed = True\n"


def test_a_run_parses_each_file_once(tmp_path: Path) -> None:
    path = _write(tmp_path / "a.py", "import os\n")
    with parsed.shared():
        first = parsed.parse_source(path)
        assert parsed.parse_source(path).tree is first.tree
        assert parsed.parse_source(path, first.raw).tree is first.tree
        other = parsed.parse_source(path, b"import sys\n")  # other bytes: parsed, not served
        assert other.tree is not first.tree
        assert isinstance(other.tree.body[0], ast.Import)
        assert other.tree.body[0].names[0].name == "sys"
    assert parsed.parse_source(path).tree is not parsed.parse_source(path).tree


def test_a_parse_error_is_raised_again_for_the_next_caller(tmp_path: Path) -> None:
    path = _write(tmp_path / "bad.py", "def f(:\n")
    with parsed.shared():
        with pytest.raises(SyntaxError) as first:
            parsed.parse_source(path)
        with pytest.raises(SyntaxError) as second:
            parsed.parse_source(path)
    assert second.value is first.value
    assert first.value.filename == path and first.value.lineno == 1


def test_refusals_and_decoding_errors_are_what_they_were(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.py")
    nul = tmp_path / "nul.py"
    nul.write_bytes(b"x = 1\x00\n")
    with parsed.shared():
        for _ in range(2):  # the remembered refusal too
            with pytest.raises(FileRefused) as refused:
                parsed.read_source_bytes((tmp_path / "pipe.py").as_posix())
            assert refused.value.kind == NOT_REGULAR
        with pytest.raises(SourceError) as undecodable:
            parsed.parse_source(nul.as_posix())
    assert undecodable.value.finding.code == "PM003"


def test_a_run_whose_trees_outgrow_the_budget_keeps_none(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Kept trees cost every later full collection a walk: a large run keeps none."""
    monkeypatch.setattr(parsed, "TREE_BUDGET", 100)
    paths = [_write(tmp_path / f"m{i}.py", f"value_{i} = {'1' * 30}\n") for i in range(4)]
    with parsed.shared():
        first = parsed.parse_source(paths[0]).tree
        assert parsed.parse_source(paths[0]).tree is first  # 44 bytes: kept
        parsed.parse_source(paths[1])
        memo = parsed._current()
        assert memo is not None and list(memo.trees) == paths[:2]
        parsed.parse_source(paths[2])  # 132 bytes in all: over the budget
        assert not memo.trees and memo.trees_full
        assert parsed.parse_source(paths[0]).tree is not first
        parsed.parse_source(paths[3])
        assert not memo.trees


def test_reads_are_kept_within_their_budget_first_come(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parsed, "READ_BUDGET", 10)
    small = _write(tmp_path / "small.py", "x = 1\n")
    large = _write(tmp_path / "large.py", "value = 12345\n")
    with parsed.shared():
        parsed.read_source_bytes(small)
        parsed.read_source_bytes(large)  # 14 bytes more: not kept
        _write(tmp_path / "small.py", "x = 2\n")
        _write(tmp_path / "large.py", "value = 0\n")
        assert parsed.read_source_bytes(small) == b"x = 1\n"
        assert parsed.read_source_bytes(large) == b"value = 0\n"


def _read_in_child(path: str, queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    queue.put(parsed.read_source_bytes(path))


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="fork only")
def test_a_forked_worker_keeps_nothing_of_its_own(tmp_path: Path) -> None:
    """scope's workers are forked inside the run: the memo serves only the process that
    opened it, so a worker neither answers from nor fills its copy."""
    path = _write(tmp_path / "a.py", "x = 1\n")
    context = multiprocessing.get_context("fork")
    with parsed.shared():
        parsed.read_source_bytes(path)
        _write(tmp_path / "a.py", "y = 2\n")
        queue = context.Queue()
        child = context.Process(target=_read_in_child, args=(path, queue))
        child.start()
        got = queue.get(timeout=60)
        child.join(60)
        assert got == b"y = 2\n"
        assert parsed.read_source_bytes(path) == b"x = 1\n"


def test_premerge_check_parses_each_file_once(make_repo, run_cli,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """scope, files and smoke on a pre-commit-sized change: one parse per file, where each
    check used to parse it again (scope, files' path expressions, smoke's static facts)."""
    repo = make_repo({"pkg/__init__.py": "x = 1\n",
                      "pkg/paths.py": "from pathlib import Path\n\ndef settings():\n"
                                      "    return (Path(__file__).parent / 'missing.txt')"
                                      ".read_text()\n",
                      "pkg/core.py": "from pkg.paths import settings\n\ndef load():\n"
                                     "    return settings()\n",
                      "premerge.yaml": "required_files:\n  - pkg/__init__.py\n"})
    parses: list[str] = []
    real_parse = ast.parse

    def counting(source: str | bytes, filename: str = "<unknown>", *args, **kwargs):
        parses.append(filename)
        return real_parse(source, filename, *args, **kwargs)

    monkeypatch.setattr(ast, "parse", counting)
    result = run_cli("check", "--no-cache", "--format", "json", cwd=repo.path)
    report = json.loads(result.out)
    assert report["summary"]["files"] == 3, result.err
    assert sorted(os.path.basename(p) for p in parses) == ["__init__.py", "core.py", "paths.py"]
    # files found the reference in the tree scope parsed
    assert [(f["code"], f["path"]) for f in report["findings"]] == [("PM208", "pkg/paths.py")]


def test_a_files_warnings_are_not_printed_and_premerges_filters_come_back(
        tmp_path: Path, recwarn: pytest.WarningsRecorder) -> None:
    import warnings

    path = _write(tmp_path / "noisy.py", 'pattern = "\\d"\nvalue = 1if True else 2\n')
    warnings.simplefilter("always")
    before = list(warnings.filters)
    tree = parsed.parse_source(path).tree
    assert [type(node).__name__ for node in tree.body] == ["Assign", "Assign"]
    assert not recwarn.list
    assert warnings.filters == before
    import ast as stdlib_ast

    stdlib_ast.parse(Path(path).read_text(encoding="utf-8"))  # the same file, unsilenced
    assert {type(w.message) for w in recwarn.list} & {DeprecationWarning, SyntaxWarning}
