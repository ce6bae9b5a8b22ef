"""Reference discovery never crashes and never leaves the repository, whatever the code."""

from __future__ import annotations

import hypothesmith
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from premerge.files.references import TAIL, extract

ATOMS = st.sampled_from([
    "__file__", "Path(__file__)", "HERE", "ROOT", '"x.md"', '"../up.txt"', '"/abs"', "name",
    'os.environ["X"]', "Path.home()", "Path()", '"a/*.md"', "sys.argv[1]", "__name__",
])


def _combine(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    two = st.tuples(children, children)
    return st.one_of(
        two.map(lambda ab: f"({ab[0]} / {ab[1]})"),
        children.map(lambda a: f"{a}.parent"),
        st.tuples(children, st.integers(-1, 4)).map(lambda ai: f"{ai[0]}.parents[{ai[1]}]"),
        two.map(lambda ab: f"os.path.join({ab[0]}, {ab[1]})"),
        children.map(lambda a: f"os.path.dirname({a})"),
        children.map(lambda a: f"str({a})"),
        children.map(lambda a: f'f"{{{a}}}/t/{{name}}.md"'),
        children.map(lambda a: f"{a}.resolve()"),
        two.map(lambda ab: f"{ab[0]}.joinpath({ab[1]})"),
        two.map(lambda ab: f"{ab[0]}.with_name({ab[1]})"),
        two.map(lambda ab: f"({ab[0]} if name else {ab[1]})"),
        children.map(lambda a: f"files({a})"),
        two.map(lambda ab: f"pkgutil.get_data({ab[0]}, {ab[1]})"),
    )


EXPRESSIONS = st.recursive(ATOMS, _combine, max_leaves=8)
STATEMENTS = st.one_of(
    EXPRESSIONS.map(lambda e: f"open({e}).read()"),
    EXPRESSIONS.map(lambda e: f"({e}).read_text()"),
    EXPRESSIONS.map(lambda e: f"({e}).write_text('')"),
    EXPRESSIONS.map(lambda e: f"os.path.exists({e})"),
    EXPRESSIONS.map(lambda e: f"HERE = {e}"),
    EXPRESSIONS.map(lambda e: f"ROOT = {e}"),
    EXPRESSIONS.map(lambda e: f"def f(name):\n    global ROOT\n    ROOT = {e}\n    return ROOT"),
    EXPRESSIONS.map(lambda e: f"try:\n    shutil.copy({e}, name)\nexcept OSError:\n    pass"),
)
HEADER = ("import os, sys, shutil, pkgutil\nfrom pathlib import Path\n"
          "from importlib.resources import files\n")


def _check(source: str) -> None:
    try:
        compile(source, "fuzz.py", "exec")
    except (SyntaxError, ValueError):
        return
    for ref in extract(source, "pkg/sub/fuzz.py"):
        parts = ref.target.split("/") if ref.target else []
        assert not ref.target.startswith("/") and ".." not in parts and "" not in parts
        assert ref.line >= 1 and ref.col >= 1 and ref.anchor in ("file", "cwd", TAIL)


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(STATEMENTS, min_size=1, max_size=8))
def test_path_expressions_of_any_shape(statements: list[str]) -> None:
    _check(HEADER + "\n".join(statements) + "\n")


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(hypothesmith.from_grammar())
def test_any_python_module(source: str) -> None:
    _check(source)
