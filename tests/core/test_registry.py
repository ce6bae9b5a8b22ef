"""The code registry is the single source for README's table, `premerge rules` and SARIF."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from premerge.findings import all_rules, family_of
from tests.conftest import ROOT


def test_every_rule_is_complete() -> None:
    rules = all_rules()
    assert rules, "no rules registered"
    for code, rule in rules.items():
        assert re.fullmatch(r"PM[0-3]\d\d", code), code
        assert rule.title and rule.help and rule.template, f"{code} lacks title/help/template"
        assert family_of(code) in {"input", "scope", "files", "smoke"}


def test_readme_table_is_generated_from_registry() -> None:
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "readme_rules.py"), "--check"],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for code in all_rules():
        assert f"| `{code}` |" in readme, f"{code} missing from README"


def test_grouping_rules_recover_their_fields_and_format_their_group_message() -> None:
    """A rule that text output groups must get back, from any message it formats, exactly the
    fields it groups by (two fields side by side would split anywhere), and its group template
    must format with them: a template edited without its group's would break text output."""
    import string

    grouped = {code: rule for code, rule in all_rules().items() if rule.group_by}
    assert {"PM105", "PM301", "PM302", "PM303"} <= set(grouped)
    for code, rule in grouped.items():
        fields = {name for _, name, _, _ in string.Formatter().parse(rule.template) if name}
        assert set(rule.group_by) <= fields, code
        for value in ("x", "it's", "a: b (c)"):
            sample = {name: f"{name}-{value}" for name in fields}
            message = rule.template.format(**sample)
            found = rule.fields_of(message)
            assert found is not None, (code, message)
            for name in rule.group_by:
                conversion = "!r" in rule.template.split("{" + name, 1)[1].split("}", 1)[0]
                assert found[name] == (repr(sample[name]) if conversion else sample[name]), \
                    (code, name, message)
            text = rule.group_template.format(**found, names="'a' and 'b'", uses=2, count=3)
            assert "3" in text or "2" in text, code
            assert rule.member_template.format(name="n", module="m"), code


def test_no_rule_code_is_spelled_outside_its_rule_module() -> None:
    """A rule owns its facts (fixable, confirmed or disproved at runtime...): other modules ask
    the rule class, so no code outside the modules that define rules compares a code string."""
    import ast

    import premerge

    package = Path(premerge.__file__).parent
    rule_modules = {package / "input_rules.py", *package.glob("*/messages.py")}
    spelled = []
    for path in sorted(package.rglob("*.py")):
        if path in rule_modules:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and \
                    re.fullmatch(r"PM\d{3}", node.value):
                spelled.append(f"{path.relative_to(package)}:{node.lineno}: {node.value}")
    assert not spelled, spelled


def test_rules_hold_what_other_parts_used_to_look_up_by_code() -> None:
    rules = all_rules()
    fixable = {code: rule.fix_shape for code, rule in rules.items() if rule.fix_shape}
    assert fixable == {"PM101": "hoist", "PM104": "untype", "PM106": "hoist"}
    from premerge.scope.fix import FIXABLE

    assert FIXABLE == set(fixable)
    disproved = {code: rule.disproved_at_runtime for code, rule in rules.items()
                 if rule.disproved_at_runtime}
    assert set(disproved.values()) == {"global_load", "namespace"}
    assert all(code.startswith("PM1") for code in disproved)


def test_every_rule_that_chooses_itself_is_in_its_table_once() -> None:
    """A rule class that decides whether it applies is asked only through its family's ordered
    table: one left out of it would never report, one listed twice would shadow a priority.
    A second cause of a rule (a subclass without a code of its own) shares the rule's code and
    is not registered again."""
    from premerge.files import messages as files
    from premerge.findings import RULES
    from premerge.scope import messages as scope
    from premerge.smoke import messages as smoke

    families = [(scope, scope.LoadRule,
                 scope.FAILING_LOAD_RULES + scope.UNRESOLVED_NAME_RULES),
                (files, files.EntryRule, files.ENTRY_RULES),
                (files, files.ReferenceRule, files.REFERENCE_RULES),
                (smoke, smoke.ImportFailureRule, smoke.IMPORT_FAILURE_RULES)]
    for module, base, table in families:
        defined = {value for value in vars(module).values()
                   if isinstance(value, type) and issubclass(value, base) and value is not base}
        assert sorted(map(repr, table)) == sorted(map(repr, defined)), base
        assert len(set(table)) == len(table), base
        for rule in table:
            assert RULES[rule.code] is rule or "code" not in vars(rule), rule
    causes = {scope.UsedAfterDel: scope.UsedBeforeBound,
              smoke.MissingDistribution: smoke.ExceptionAtImport}
    for cause, rule in causes.items():
        assert cause.code == rule.code and RULES[rule.code] is rule
