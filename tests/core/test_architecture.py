"""The layers README's "Architecture" section draws, kept true: a forbidden import fails here.

Every ``import`` and ``from ... import`` in the package counts, the lazy ones inside functions
too (they are how a one-file run stays fast, not a way around the layering).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import premerge

PACKAGE = Path(premerge.__file__).parent

#: the model every part shares: it imports nothing but itself
MODEL = {"findings", "records", "input_rules"}
CHECKERS = {"scope", "files", "smoke"}
#: what runs and presents the checks: a checker never reaches it
ORCHESTRATION_AND_OUTPUT = {"report", "check", "cli", "__main__"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _imports() -> list[tuple[str, str, int]]:
    """(importing module, imported premerge module without the prefix, line) for every import
    of premerge in the package; ``from premerge.x import y`` counts for ``x`` and, where ``y``
    is a module, ``x.y``."""
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        source = _module_name(path)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
                names += [f"{node.module}.{alias.name}" for alias in node.names
                          if _is_module(f"{node.module}.{alias.name}")]
            for name in names:
                if name == "premerge" or name.startswith("premerge."):
                    out.append((source, name[len("premerge."):], node.lineno))
    return out


def _is_module(dotted: str) -> bool:
    path = PACKAGE.parent.joinpath(*dotted.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _top(module: str) -> str:
    return module.split(".")[0]


IMPORTS = _imports()


def test_the_walk_sees_imports_lazy_ones_included() -> None:
    pairs = {(source, target) for source, target, _line in IMPORTS}
    assert ("cli", "check") in pairs  # a lazy import inside a function
    assert ("scope.analyzer", "scope.statements") in pairs


def _model_imports_beyond_the_model(source: str, target: str) -> bool:
    return _top(source) in MODEL and _top(target) not in MODEL


#: what scope and smoke both know: it depends on neither
SHARED_KNOWLEDGE = {"imports", "builtin_names"}


def _shared_layer_imports_a_check(source: str, target: str) -> bool:
    """``premerge.imports`` and the builtins table serve scope and smoke alike."""
    return _top(source) in SHARED_KNOWLEDGE and \
        _top(target) in CHECKERS | ORCHESTRATION_AND_OUTPUT


def _check_reaches_into_another_check(source: str, target: str) -> bool:
    """A check may call another's package functions (smoke asks ``premerge.scope`` which
    loads the code guards), never import its modules: their insides stay free to change."""
    return _top(source) in CHECKERS and _top(target) in CHECKERS and \
        _top(source) != _top(target) and target != _top(target)


def _checker_imports_output_or_orchestration(source: str, target: str) -> bool:
    return _top(source) in CHECKERS and _top(target) in ORCHESTRATION_AND_OUTPUT


def _reporter_imports_checks_git_or_config(source: str, target: str) -> bool:
    return _top(source) == "report" and \
        _top(target) in CHECKERS | {"check", "cli", "repo", "config"}


def _scope_imports_git_or_smoke(source: str, target: str) -> bool:
    return _top(source) == "scope" and _top(target) in {"repo", "smoke"}


#: rule -> an import it must reject (so no rule is vacuous)
LAYER_RULES = {
    _model_imports_beyond_the_model: ("findings", "scope.messages"),
    _shared_layer_imports_a_check: ("builtin_names", "smoke.static"),
    _check_reaches_into_another_check: ("smoke.classify", "scope.analyzer"),
    _checker_imports_output_or_orchestration: ("scope.verdicts", "report.json"),
    _reporter_imports_checks_git_or_config: ("report.text", "smoke.messages"),
    _scope_imports_git_or_smoke: ("scope.analyzer", "repo"),
}


@pytest.mark.parametrize("rule", LAYER_RULES, ids=lambda rule: rule.__name__.strip("_"))
def test_no_import_crosses_a_layer(rule) -> None:  # type: ignore[no-untyped-def]
    wrong = [f"{s} -> {t} (line {n})" for s, t, n in IMPORTS if rule(s, t)]
    assert not wrong, wrong
    assert rule(*LAYER_RULES[rule]), "the rule rejects nothing"


def test_smoke_child_is_standalone_and_compiles_for_old_pythons() -> None:
    """The child runs under the project's interpreter, where premerge is not installed."""
    source = (PACKAGE / "smoke" / "child.py").read_text(encoding="utf-8")
    assert not [t for s, t, _n in IMPORTS if s == "smoke.child"]
    for version in ((3, 7), (3, 9)):
        ast.parse(source, feature_version=version)


def test_one_value_class_style() -> None:
    """Value classes are ``premerge.records`` classes: ``dataclasses`` (and the ``inspect`` it
    imports) would cost every run's start-up, and two styles would need two sets of habits."""
    users = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module] if isinstance(node, ast.ImportFrom) else []
            if "dataclasses" in names:
                users.append(f"{_module_name(path)}:{node.lineno}")
    assert not users, users


def test_one_serialisation_method_name() -> None:
    """A value's JSON-able form (a dict or a compact list, for the cache, the worker process
    and the JSON report) is ``to_json``/``from_json`` everywhere: one name to look for."""
    others = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef) and node.name in {
                    "to_dict", "from_dict", "as_dict", "asdict", "to_data", "from_data"}:
                others.append(f"{_module_name(path)}:{node.lineno} {node.name}")
    assert not others, others


def _is_tree(node: ast.expr) -> bool:
    return (isinstance(node, ast.Name) and node.id == "tree") or \
        (isinstance(node, ast.Attribute) and node.attr == "tree")


def test_source_is_parsed_in_one_place() -> None:
    """``premerge.parsed`` reads, decodes and parses a file once per run for every check; a
    parse of source anywhere else would be a second one.  (The smoke child compiles what it
    imports under the project's interpreter: not premerge's process.)"""
    others = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = _module_name(path)
        if module in ("parsed", "smoke.child"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            parses = isinstance(func, ast.Attribute) and func.attr == "parse" and \
                isinstance(func.value, ast.Name) and func.value.id == "ast"
            compiles_text = isinstance(func, ast.Name) and func.id == "compile" and \
                bool(node.args) and not _is_tree(node.args[0])
            if parses or compiles_text:
                others.append(f"{module}:{node.lineno}")
    assert not others, others
