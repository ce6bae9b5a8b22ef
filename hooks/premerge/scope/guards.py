"""What a test proves on the path it opens: facts for ``State.know`` (``if flag:``,
``if x is None:``, ``if fmt == "numpy":``) and names proved bound (``"x" in globals()``, a
``try: x`` / ``except NameError: return`` probe).

:class:`GuardFacts` is one part of :class:`premerge.scope.analyzer.Analyzer`.
"""

from __future__ import annotations

import ast

from premerge.scope.flow import BOUND

#: typing is imported for type checkers only: ~3 ms of start-up where nothing else loads it
TYPING_ONLY = False
if TYPING_ONLY:
    from collections.abc import Sequence

    from premerge.scope.flow import State, TestKey

_Compare, _Call = ast.Compare, ast.Call
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


class GuardFacts:
    """The analyzer's part that turns a branch's test into what the branch may assume."""

    def test_keys(self, test: ast.expr, truth: bool) -> list[tuple[TestKey, bool]]:
        """What a test having ``truth`` tells: ``(key, value)`` pairs for ``State.know``."""
        kind = type(test)
        if kind is ast.Name:
            flag = self.platform_flags.get(test.id)
            if flag is not None:  # `_WINDOWS = os.name == "nt"` ... `if _WINDOWS:`
                return [(("name", test.id), truth), (("test", flag[0]), truth is not flag[1])]
            return [(("name", test.id), truth)]
        if kind is ast.UnaryOp and type(test.op) is ast.Not:
            return self.test_keys(test.operand, not truth)
        if kind is ast.BoolOp:
            if (type(test.op) is ast.And) is truth:
                out: list[tuple[TestKey, bool]] = []
                for value in test.values:
                    out.extend(self.test_keys(value, truth))
                return out
            return []
        if (kind is ast.Compare or kind is ast.Call) and (
                self.platform_cond or self.frame.kind != "function"):
            # the same platform test in a function repeats the module's (looked for only
            # where the module bound something under one)
            platform = platform_key(test)
            if platform is not None:
                return [(("test", platform[0]), truth is not platform[1])]
        if kind is ast.Compare and len(test.ops) == 1:
            op = type(test.ops[0])
            left, right = test.left, test.comparators[0]
            if (op is ast.Is or op is ast.IsNot) and type(left) is ast.Name and \
                    type(right) is ast.Constant and right.value is None:
                return [(("none", left.id), truth if op is ast.Is else not truth)]
            if (op is ast.Eq or op is ast.NotEq) and type(left) is ast.Name and \
                    type(right) is ast.Constant:
                # `format == "numpy"`: keyed by the name, so rebinding it forgets the fact
                return [((f"eq:{right.value!r}", left.id), truth if op is ast.Eq else not truth)]
        if self.frame.kind != "function" and self.frame.kind != "lambda":
            return [(("test", ast.dump(test)), truth)]
        return []

    def assume(self, test: ast.expr, truth: bool,
               keys: list[tuple[TestKey, bool]] | None = None) -> None:
        """Entering a branch where ``test`` has ``truth``: apply and remember what it implies
        (``keys``: its ``test_keys``, when the caller has them already)."""
        state = self.frame.state
        if state is None:
            return
        for key, value in self.test_keys(test, truth) if keys is None else keys:
            if state.facts:
                state.apply_fact(key, value)
            state.know(key, value)
        for name in _existence_names(test, truth):
            self._known_to_exist(state, name)

    def _known_to_exist(self, state: State, name: str) -> None:
        """On this path ``name`` is bound: a test or a ``NameError`` probe proved it."""
        if name in state.bits or name in self.frame.tracked:
            state.bits[name] = BOUND
        else:
            state.know(("exists", name), True)



#: what a platform or version test compares: ``sys.platform``, ``os.name``,
#: ``sys.version_info`` (and its items), ``platform.system()``, ``sys.implementation``
_PLATFORM_OPERANDS = {("sys", "platform"), ("os", "name"), ("sys", "version_info"),
                      ("platform", "system"), ("sys", "implementation")}


def _platform_operand(node: ast.AST) -> bool:
    while type(node) in (ast.Subscript, ast.Attribute, ast.Call):
        if type(node) is ast.Attribute and type(node.value) is ast.Name and \
                (node.value.id, node.attr) in _PLATFORM_OPERANDS:  # type: ignore[attr-defined]
            return True
        node = node.func if type(node) is ast.Call else node.value  # type: ignore[attr-defined]
    return False


def platform_key(test: ast.expr) -> tuple[str, bool] | None:
    """A platform/version test as a key the same test in a function repeats, and whether
    ``test`` is its negation (``!=`` and ``not`` fold into the ``==`` form); None for others."""
    kind = type(test)
    if kind is ast.UnaryOp and type(test.op) is ast.Not:  # type: ignore[attr-defined]
        inner = platform_key(test.operand)  # type: ignore[attr-defined]
        return None if inner is None else (inner[0], not inner[1])
    if kind is ast.BoolOp:
        if all(platform_key(v) is not None for v in test.values):  # type: ignore[attr-defined]
            return ast.dump(test), False
        return None
    if kind is ast.Compare and len(test.ops) == 1:  # type: ignore[attr-defined]
        if not (_platform_operand(test.left) or  # type: ignore[attr-defined]
                _platform_operand(test.comparators[0])):  # type: ignore[attr-defined]
            return None
        if type(test.ops[0]) is ast.NotEq:  # type: ignore[attr-defined]
            same = ast.Compare(test.left, [ast.Eq()],  # type: ignore[attr-defined]
                               test.comparators)  # type: ignore[attr-defined]
            return ast.dump(same), True
        return ast.dump(test), False
    if kind is ast.Call and _platform_operand(test):  # sys.platform.startswith("win")
        return ast.dump(test), False
    return None


def _existence_names(test: ast.expr, truth: bool) -> list[str]:
    """Names a test having ``truth`` proves bound: ``"x" in globals()`` true, also inside
    ``not`` and inside ``and`` (all true) / ``or`` (all false)."""
    kind = type(test)
    if kind is _Compare or kind is _Call:
        name = _existence_test(test) if truth else None
        return [name] if name is not None else []
    if kind is ast.UnaryOp and type(test.op) is ast.Not:  # type: ignore[attr-defined]
        return _existence_names(test.operand, not truth)  # type: ignore[attr-defined]
    if kind is ast.BoolOp and (type(test.op) is ast.And) is truth:  # type: ignore[attr-defined]
        return [name for value in test.values  # type: ignore[attr-defined]
                for name in _existence_names(value, truth)]
    return []


def tests_existence(tests: Sequence[ast.expr]) -> bool:
    """Whether any of these operands is (or holds) an existence test: only then is a
    path-sensitive pass over an ``and``/``or``/ternary worth it in a file without facts."""
    return any(_existence_names(test, True) or _existence_names(test, False)
               for test in tests if type(test) is not ast.Name)


def _existence_test(test: ast.expr) -> str | None:
    """``"x" in globals()`` / ``_exists("x")``: a test that the name ``x`` is bound."""
    kind = type(test)
    if kind is ast.Compare and len(test.ops) == 1 and type(test.ops[0]) is ast.In:
        left, right = test.left, test.comparators[0]
        if type(left) is ast.Constant and isinstance(left.value, str) and \
                type(right) is ast.Call and type(right.func) is ast.Name and \
                right.func.id in ("globals", "dir", "vars", "locals"):
            return left.value
    elif kind is ast.Call and len(test.args) == 1 and not test.keywords:
        func, arg = test.func, test.args[0]
        if type(func) is ast.Name and "exist" in func.id and type(arg) is ast.Constant and \
                isinstance(arg.value, str):
            return arg.value
    return None



def surely_loaded(body: list[ast.stmt]) -> set[str]:
    """Names a block loads whenever it completes: its simple statements' names, leaving out
    what a branch, a short-circuit, a lambda or a comprehension may skip."""
    out: set[str] = set()

    def visit(node: ast.AST) -> None:
        kind = type(node)
        if kind is ast.Name:
            if type(node.ctx) is ast.Load:  # type: ignore[attr-defined]
                out.add(node.id)  # type: ignore[attr-defined]
            return
        if kind is ast.BoolOp:
            visit(node.values[0])  # type: ignore[attr-defined]
            return
        if kind is ast.IfExp:
            visit(node.test)  # type: ignore[attr-defined]
            return
        if kind is ast.Lambda or kind in _COMPREHENSIONS:
            return
        for child in ast.iter_child_nodes(node):
            visit(child)

    for stmt in body:
        if type(stmt) in (ast.Expr, ast.Assign, ast.AugAssign, ast.AnnAssign):
            visit(stmt)
    return out


