"""premerge.records: the value classes that replaced dataclasses keep their behaviour."""

from __future__ import annotations

import copy
import pickle
from pathlib import Path

import pytest

from premerge.config import Config, RunOptions, SmokeConfig
from premerge.findings import CheckResult, Finding, Fix, Location, Severity
from premerge.report import ReportContext


def _finding(**changes: object) -> Finding:
    base = Finding(code="PM101", message="m", path="/r/a.py", line=3, col=1,
                   severity=Severity.WARNING, name="x",
                   related=(Location("/r/a.py", 1, 1, "imported here"),),
                   fix=Fix("move it", ((1, 1, 1, 1, "import x\n"),)), key="f:x")
    return base.replace(**changes) if changes else base


def test_frozen_values_compare_hash_and_refuse_assignment() -> None:
    one, two = _finding(), _finding()
    assert one == two and hash(one) == hash(two) and len({one, two}) == 1
    assert _finding(key="other") == one  # the key is no part of a finding's identity
    assert _finding(line=4) != one
    assert one != ("PM101", "m")
    with pytest.raises(AttributeError):
        one.line = 9  # type: ignore[misc]
    with pytest.raises(AttributeError):
        del one.line  # type: ignore[misc]
    assert Location("/a", 1) == Location(path="/a", line=1, col=None, message="")


def test_replace_copies_and_rejects_unknown_fields() -> None:
    one = _finding()
    moved = one.with_changes(line=10)
    assert (moved.line, one.line) == (10, 3)
    assert moved.related is one.related and moved.key == "f:x"
    with pytest.raises(TypeError):
        one.replace(lines=3)


def test_pickle_copy_and_repr_round_trip() -> None:
    one = _finding()
    assert pickle.loads(pickle.dumps(one)) == one
    assert copy.deepcopy(one) == one
    assert repr(one).startswith("Finding(code='PM101', message='m', path='/r/a.py'")
    assert eval(repr(Location("/a", 2, 3)), {"Location": Location}) == Location("/a", 2, 3)
    assert Finding.from_json(one.to_json()) == one


def test_mutable_records_have_fresh_defaults_and_no_hash() -> None:
    first, second = Config(root=Path("/r")), Config(root=Path("/r"))
    first.scope.exclude.append("gen/")
    first.run.use_cache = False
    assert second.scope.exclude == [] and second.run.use_cache is True
    assert SmokeConfig().include == ["**/*.py"]
    assert CheckResult() == CheckResult() and CheckResult().findings is not CheckResult().findings
    with pytest.raises(TypeError):
        hash(RunOptions())
    copied = first.replace(run=first.run.replace(fix=True))
    assert copied.run.fix and not first.run.fix and copied.scope is first.scope


def test_report_context_defaults_to_the_current_directory(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    context = ReportContext(root="/r")
    assert context.cwd == Path.cwd().as_posix() and context.by_check == {}
