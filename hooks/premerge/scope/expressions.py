"""Expression walking and name resolution, the analyzer's hot path: every load of a name is
resolved here through the frames (comprehension -> class -> function -> module) against the flow
state, and stores update it.  :class:`ExpressionWalker` is one part of
:class:`premerge.scope.analyzer.Analyzer`.

The walker is hand-inlined on purpose: names and constants are most of the nodes, so a child in a
load-only position is handled without a call.
"""

from __future__ import annotations

import ast

from premerge.builtin_names import BUILTIN_NAMES, CLASS_DUNDERS, HOST_INJECTED
from premerge.scope.bindings import (
    ComprehensionScope,
    LambdaScope,
    add_arguments,
    finish_function,
    target_names,
)
from premerge.scope.dynamic import is_module_dict, is_namespace_call
from premerge.scope.file_report import SubmoduleUse
from premerge.scope.flow import BOUND, UNBOUND
from premerge.scope.frames import Frame
from premerge.scope.guards import tests_existence

#: typing is imported for type checkers only: ~3 ms of start-up where nothing else loads it
TYPING_ONLY = False
if TYPING_ONLY:
    from typing import Any

    from premerge.scope.flow import State

_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
# the hot path's node classes as module globals (one lookup each, not two)
_Name, _Load, _Store, _Constant = ast.Name, ast.Load, ast.Store, ast.Constant
_Attribute, _Call, _BinOp, _Compare = ast.Attribute, ast.Call, ast.BinOp, ast.Compare
_Subscript, _Tuple, _List, _Set = ast.Subscript, ast.Tuple, ast.List, ast.Set
_BoolOp, _UnaryOp = ast.BoolOp, ast.UnaryOp


class ExpressionWalker:
    """The analyzer's part that walks expressions, binds stores and resolves loads."""

    # -- binding ----------------------------------------------------------------------------
    def store(self, name: str) -> None:
        state = self.frame.state
        if state is None:
            return
        if name in self.frame.tracked or name in state.bits:
            state.bits[name] = BOUND
        if state.consts or state.facts:
            state.forget_flag(name)  # consts are keyed by (kind, name): forget_flag matches

    def unbind(self, name: str, cause: int) -> None:
        state = self.frame.state
        if state is None:
            return
        if name in self.frame.tracked or name in state.bits:
            state.bits[name] = UNBOUND | cause
        if state.consts or state.facts:
            state.forget_flag(name)

    def store_target(self, target: ast.AST) -> None:
        kind = type(target)
        if kind is ast.Name:
            self.store(target.id)  # type: ignore[attr-defined]
        elif kind is ast.Tuple or kind is ast.List:
            for elt in target.elts:  # type: ignore[attr-defined]
                self.store_target(elt)
        elif kind is ast.Starred:
            self.store_target(target.value)  # type: ignore[attr-defined]
        elif kind is ast.Subscript:
            value = target.value  # type: ignore[attr-defined]
            if is_namespace_call(value):
                self.dynamic.append(f"a write to {ast.unparse(value)} at line {target.lineno}")  # type: ignore[attr-defined]
            self.expr(value)
            self.expr(target.slice)  # type: ignore[attr-defined]
        elif kind is ast.Attribute:
            value = target.value  # type: ignore[attr-defined]
            if type(value) is ast.Name and self.module_imports.get(value.id) == "builtins":
                self.injected_builtins.add(target.attr)  # type: ignore[attr-defined]
            if (type(value) is _Subscript or type(value) is _Attribute) and \
                    is_module_dict(value):
                self.dynamic.append(f"a write to the module namespace at line {target.lineno}")  # type: ignore[attr-defined]
            self.expr(value)
        else:
            self.expr(target)  # type: ignore[arg-type]

    # -- expressions ------------------------------------------------------------------------
    def deftime_expr(self, node: ast.expr, what: str) -> None:
        saved = self.deftime
        self.deftime = what
        self.expr(node)
        self.deftime = saved

    def expr(self, node: ast.AST) -> None:  # noqa: C901 - the hot path, kept flat on purpose
        # Names and constants are most of the nodes: a child in a load-only position (a call's
        # arguments, an operand, an attribute chain's base) is handled here, not by a call.
        kind = type(node)
        if kind is _Name:
            ctx = type(node.ctx)  # type: ignore[attr-defined]
            if ctx is _Load:
                self.load(node.id, node)  # type: ignore[attr-defined]
            elif ctx is _Store:
                self.store(node.id)  # type: ignore[attr-defined]
            return
        if kind is _Constant:
            return
        if kind is _Attribute:
            value = node.value  # type: ignore[attr-defined]
            while type(value) is _Attribute:
                value = value.value  # type: ignore[attr-defined]
            if type(value) is _Name:
                # a chain on a name bound by `import pkg` may use a submodule (PM109)
                if value.id in self.module_imports and \
                        type(node.ctx) is _Load:  # type: ignore[attr-defined]
                    self.attribute_chain(node)  # type: ignore[arg-type]
                self.load(value.id, value)  # type: ignore[attr-defined]
            else:
                self.expr(value)
            return
        if kind is _Call:
            func = node.func  # type: ignore[attr-defined]
            if type(func) is _Name:
                self.load(func.id, func)  # type: ignore[attr-defined]
            else:
                self.expr(func)
            for arg in node.args:  # type: ignore[attr-defined]
                sub = type(arg)
                if sub is _Name:
                    self.load(arg.id, arg)  # type: ignore[attr-defined]
                elif sub is not _Constant:
                    self.expr(arg)
            for keyword in node.keywords:  # type: ignore[attr-defined]
                arg = keyword.value
                sub = type(arg)
                if sub is _Name:
                    self.load(arg.id, arg)  # type: ignore[attr-defined]
                elif sub is not _Constant:
                    self.expr(arg)
            self._dynamic_call(node)  # type: ignore[arg-type]
            return
        if kind is _BinOp or kind is _Compare:
            if kind is _BinOp:
                operands = (node.left, node.right)  # type: ignore[attr-defined]
            else:
                operands = (node.left, *node.comparators)  # type: ignore[attr-defined]
            for arg in operands:
                sub = type(arg)
                if sub is _Name:
                    self.load(arg.id, arg)  # type: ignore[attr-defined]
                elif sub is not _Constant:
                    self.expr(arg)
            return
        if kind is _Subscript:
            self.expr(node.value)  # type: ignore[attr-defined]
            self.expr(node.slice)  # type: ignore[attr-defined]
            return
        if kind is _Tuple or kind is _List or kind is _Set:
            for elt in node.elts:  # type: ignore[attr-defined]
                self.expr(elt)
            return
        if kind is _BoolOp:
            self.boolop(node)  # type: ignore[arg-type]
            return
        if kind is ast.IfExp:
            self.ifexp(node)  # type: ignore[arg-type]
            return
        if kind is ast.Lambda:
            self.lambda_(node)  # type: ignore[arg-type]
            return
        if kind in _COMPREHENSIONS:
            self.comprehension(node)
            return
        if kind is ast.NamedExpr:
            self.expr(node.value)  # type: ignore[attr-defined]
            self.walrus_store(node.target.id)  # type: ignore[attr-defined]
            return
        if kind is ast.Dict:
            for key in node.keys:  # type: ignore[attr-defined]
                if key is not None:
                    self.expr(key)
            for value in node.values:  # type: ignore[attr-defined]
                self.expr(value)
            return
        if kind is _UnaryOp or kind is ast.Starred or kind is ast.FormattedValue or \
                kind is ast.Await or kind is ast.YieldFrom:
            inner = node.operand if kind is _UnaryOp else node.value  # type: ignore[attr-defined]
            self.expr(inner)
            if kind is ast.FormattedValue and node.format_spec is not None:  # type: ignore[attr-defined]
                self.expr(node.format_spec)  # type: ignore[attr-defined]
            return
        if kind is ast.JoinedStr:
            for value in node.values:  # type: ignore[attr-defined]
                if type(value) is not _Constant:
                    self.expr(value)
            return
        for name in node._fields:
            value = getattr(node, name, None)
            if type(value) is list:
                for item in value:
                    if isinstance(item, ast.AST):
                        self.expr(item)
            elif isinstance(value, ast.AST):
                self.expr(value)

    def boolop(self, node: ast.BoolOp) -> None:
        values = node.values
        first = values[0]
        self.expr(first)
        state = self.state
        if state is not None and (state.facts or tests_existence(values)):
            # each operand runs only where the ones before it had the value that lets it run
            saved = state
            self.state = state.copy()
            is_and = type(node.op) is ast.And
            for previous, value in zip(values, values[1:]):
                self.assume(previous, is_and)
                self.expr(value)
            self.state = saved
            if self.facts.has_walrus:  # `a and (m := f())`: where the test holds, m is bound
                for value in values[1:]:
                    for sub in ast.walk(value):
                        if type(sub) is ast.NamedExpr and type(sub.target) is ast.Name:
                            self.walrus_store(sub.target.id)
            return
        for value in values[1:]:
            self.expr(value)

    def ifexp(self, node: ast.IfExp) -> None:
        self.expr(node.test)
        state = self.state
        if state is not None and (state.facts or tests_existence((node.test,))):
            for truth, branch in ((True, node.body), (False, node.orelse)):
                self.state = state.copy()
                self.assume(node.test, truth)
                self.expr(branch)
            self.state = state
            return
        self.expr(node.body)
        self.expr(node.orelse)

    def walrus_store(self, name: str) -> None:
        self.expr_bound.add(name)
        frame = self.frame
        while frame.kind == "comprehension" and frame.parent is not None:
            frame = frame.parent
        saved = self.frame
        self.frame = frame
        self.store(name)
        self.frame = saved

    def comprehension(self, node: Any) -> None:
        generators = node.generators
        self.expr(generators[0].iter)
        scope = ComprehensionScope(node, "<comprehension>", self.frame.scope)
        names: set[str] = set()
        frame = Frame("comprehension", scope, None, names, set(), self.frame)
        self.frame = frame
        try:
            for index, gen in enumerate(generators):
                if index:
                    self.expr(gen.iter)
                for target in target_names(gen.target):
                    names.add(target.id)  # local to the comprehension (Python 3)
                if type(gen.target) not in (ast.Name, ast.Tuple, ast.List):
                    self.expr(gen.target)
                for cond in gen.ifs:
                    self.expr(cond)
            if type(node) is ast.DictComp:
                self.expr(node.key)
                self.expr(node.value)
            else:
                self.expr(node.elt)
        finally:
            self.frame = frame.parent  # type: ignore[assignment]

    def lambda_(self, node: ast.Lambda) -> None:
        self._arguments_deftime(node.args)
        scope = LambdaScope(node, "<lambda>", self.frame.scope)
        add_arguments(scope, node.args, self.facts)
        if self.facts.has_walrus:
            for sub in ast.walk(node.body):
                if type(sub) is ast.NamedExpr and type(sub.target) is ast.Name:
                    scope.bindings.setdefault(sub.target.id, [])
        finish_function(scope)
        self.defer(node, scope)

    def attribute_chain(self, node: ast.Attribute) -> None:
        """Record ``pkg.sub.attr`` where ``pkg`` is bound only by ``import pkg`` (PM109)."""
        attrs = [node.attr]
        value = node.value
        while type(value) is ast.Attribute:
            attrs.append(value.attr)  # type: ignore[attr-defined]
            value = value.value  # type: ignore[attr-defined]
        if type(value) is not ast.Name:
            return
        module = self.module_imports.get(value.id)  # type: ignore[attr-defined]
        if module is None or self.attr_guard:
            return
        attrs.reverse()
        key = (module, *attrs[:3])
        if key in self.submodule_uses or len(attrs) < 1:
            return
        self.submodule_uses[key] = SubmoduleUse(
            module=module, attrs=attrs[:3], line=node.lineno, col=node.col_offset + 1,
            end_line=node.end_lineno,
            end_col=None if node.end_col_offset is None else node.end_col_offset + 1,
            scope=self._qualname(self.frame))

    # -- loads ------------------------------------------------------------------------------
    def load(self, name: str, node: ast.AST) -> None:
        frame = self.frame
        skip_class = False
        while True:
            kind = frame.kind
            if kind == "comprehension":
                if name in frame.locals:
                    return
                frame = frame.parent  # type: ignore[assignment]
                skip_class = True
                continue
            if kind == "class":
                if skip_class:
                    frame = frame.parent  # type: ignore[assignment]
                    continue
                if name in CLASS_DUNDERS:
                    return
                if name in frame.locals:
                    if name not in frame.tracked:
                        return
                    state = frame.state
                    bits = state.bits.get(name, UNBOUND) if state is not None else BOUND
                    if bits == BOUND or self._resolves(frame.parent, name):
                        return
                    self.report(frame, name, node, bits, cross=False)
                    if state is not None:
                        self._reported_once(state, name)
                    return
                if frame.state is not None and frame.state.bits.get(name) == BOUND:
                    return  # a module name a test in the class body guarantees
                frame = frame.parent  # type: ignore[assignment]
                continue
            break
        state = frame.state
        if kind == "module":
            if name in frame.tracked:
                bits = state.bits.get(name, UNBOUND) if state is not None else BOUND
                if bits != BOUND:
                    self.report(frame, name, node, bits, cross=False)
                    self._reported_once(state, name)
                return
            if name in self.module_names or name in BUILTIN_NAMES:
                return
            self._unresolved(name, node, state)
            return
        # function or lambda
        if name in frame.locals:
            if name in frame.tracked and state is not None:
                bits = state.bits.get(name, UNBOUND)
                if bits != BOUND:
                    self.report(frame, name, node, bits, cross=False)
                    self._reported_once(state, name)
            return
        if name in frame.enclosing:
            return
        if state is not None:
            bits = state.bits.get(name)  # type: ignore[assignment]
            if bits is not None:
                if bits != BOUND:
                    self.report(frame, name, node, bits, cross=True)
                    self._reported_once(state, name)
                return
        if name in self.module_names or name in BUILTIN_NAMES:
            return
        self._unresolved(name, node, state)

    def _reported_once(self, state: State, name: str) -> None:
        """A non-import name reported on this path: past here it exists (one warning per path,
        not one per use).  Imports keep one finding per use: the fixer moves them per use."""
        if name not in self.facts.imports:
            state.bits[name] = BOUND

    def _unresolved(self, name: str, node: ast.AST, state: State | None) -> None:
        """A name nothing in the file binds: a missing import, unless this path proved it exists.

        ``if "x" in globals():`` and ``try: x`` / ``except NameError: return`` are how code
        probes for names an embedding host injects (IPython's ``get_ipython``).
        """
        if self.name_guard or (self.broad and name in HOST_INJECTED):
            self.guarded_loads.add((node.lineno, name))  # type: ignore[attr-defined]
            return
        for known in (state, self.frame.state):
            if known is not None and known.consts and known.consts.get(("exists", name)):
                self.guarded_loads.add((node.lineno, name))  # type: ignore[attr-defined]
                return
        if self.broad:
            self.swallowed[id(node)] = self.broad[-1]
        self.unresolved.append((name, node, self.frame))

    def _resolves(self, frame: Frame | None, name: str) -> bool:
        """Whether a class-body name that is not bound in the class resolves outside it."""
        while frame is not None and frame.kind in ("class", "comprehension"):
            frame = frame.parent
        if frame is None:
            return False
        if frame.kind == "module":
            if name in frame.tracked:
                return frame.state is not None and frame.state.bits.get(name) == BOUND
            return name in self.module_names or name in BUILTIN_NAMES
        return True
