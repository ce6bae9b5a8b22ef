"""Generated programs never crash the analyzer (hypothesis + hypothesmith)."""

from __future__ import annotations

import ast
import warnings

import hypothesmith
import pytest
from hypothesis import HealthCheck, given, settings

from premerge.scope.analyzer import analyze_text

#: hypothesmith compiles what it generates; "'dict' object is not callable"-style
#: SyntaxWarnings about those programs are test input, not a problem of premerge
pytestmark = pytest.mark.filterwarnings("ignore::SyntaxWarning")


def _analyze(source: str) -> None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escapes etc.: not what is tested here
            ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return  # not a program: the run reports PM002/PM004 before the analyzer sees it
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = analyze_text(source, "generated.py")
    for finding in report.findings:
        assert finding.code.startswith(("PM1", "PM005")), finding
        assert finding.line is not None


@settings(max_examples=80, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(hypothesmith.from_grammar())
def test_grammar_generated_programs_never_crash(source: str) -> None:
    _analyze(source)


@settings(max_examples=8, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(hypothesmith.from_node())
def test_node_generated_programs_never_crash(source: str) -> None:
    """from_node builds richer programs but takes ~1 s each: a few by default, more in CI."""
    _analyze(source)


@pytest.mark.slow
@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(hypothesmith.from_node())
def test_many_node_generated_programs_never_crash(source: str) -> None:
    _analyze(source)
