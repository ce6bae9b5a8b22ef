"""Scopes and bindings, pyflakes-style: one explicit class per kind, built in one cheap pass.

The pass here visits *statements* only (plus walrus targets when the file has any): that is
enough to know, before the flow pass, which names each function binds (Python makes a name
local to the whole function if it is bound anywhere in it), where every import is, and which
names the module binds.  Expressions are visited once, by the flow pass in ``analyzer.py``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from premerge.imports import is_main_guard

# ---------------------------------------------------------------------------------------------
# bindings


class Binding:
    """A statement that binds ``name`` in ``scope``; ``context`` is the innermost compound
    statement around it in that scope ("if", "for", "while", "try", "match", "with" or "")."""

    __slots__ = ("name", "node", "scope", "context", "in_type_checking", "in_main")

    def __init__(self, name: str, node: ast.AST, scope: Scope, context: str,
                 in_type_checking: bool, in_main: bool) -> None:
        self.name = name
        self.node = node
        self.scope = scope
        self.context = context
        self.in_type_checking = in_type_checking
        self.in_main = in_main

    @property
    def line(self) -> int:
        return getattr(self.node, "lineno", 1)

    @property
    def col(self) -> int:
        return getattr(self.node, "col_offset", 0) + 1

    @property
    def is_import(self) -> bool:
        return False


class Importation(Binding):
    """``import a`` / ``import a.b as c``: ``module`` is the dotted module the name refers to."""

    __slots__ = ("module",)

    def __init__(self, name: str, node: ast.AST, scope: Scope, context: str,
                 in_type_checking: bool, in_main: bool, module: str) -> None:
        super().__init__(name, node, scope, context, in_type_checking, in_main)
        self.module = module

    @property
    def is_import(self) -> bool:
        return True


class SubmoduleImportation(Importation):
    """``import a.b.c`` binds ``a`` (the top package) and loads ``a.b`` and ``a.b.c``."""

    __slots__ = ("full",)

    def __init__(self, name: str, node: ast.AST, scope: Scope, context: str,
                 in_type_checking: bool, in_main: bool, full: str) -> None:
        super().__init__(name, node, scope, context, in_type_checking, in_main, name)
        self.full = full


class ImportationFrom(Importation):
    """``from m import x [as y]``: ``module`` is ``m.x`` when x may be a submodule."""

    __slots__ = ()


class Assignment(Binding):
    """Assignment, augmented assignment, for/with/except targets, walrus, match captures."""

    __slots__ = ()


class FunctionDefinition(Binding):
    __slots__ = ()


class ClassDefinition(Binding):
    __slots__ = ()


class Argument(Binding):
    __slots__ = ()


# ---------------------------------------------------------------------------------------------
# scopes


class Scope:
    """A namespace: ``locals`` are the names bound in it (for functions: its local variables)."""

    kind = "scope"
    __slots__ = ("node", "name", "qualname", "parent", "bindings", "globals", "nonlocals",
                 "annotated")

    def __init__(self, node: ast.AST | None, name: str, parent: Scope | None) -> None:
        self.node = node
        self.name = name
        self.parent = parent
        if parent is None or isinstance(parent, ModuleScope):
            self.qualname = name
        elif isinstance(parent, FunctionScope):
            self.qualname = f"{parent.qualname}.<locals>.{name}"
        else:
            self.qualname = f"{parent.qualname}.{name}"
        self.bindings: dict[str, list[Binding]] = {}
        self.globals: set[str] = set()
        self.nonlocals: set[str] = set()
        #: names with a bare annotation (``x: int``): local in a function, never bound by it
        self.annotated: set[str] = set()

    @property
    def locals(self) -> set[str] | dict[str, list[Binding]]:
        return self.bindings

    def display(self) -> str:
        """How messages name this scope: ``Orchestrator.run()``, ``class Loader``."""
        return self.qualname.replace(".<locals>", "")

    def add(self, binding: Binding) -> None:
        self.bindings.setdefault(binding.name, []).append(binding)


class ModuleScope(Scope):
    kind = "module"
    __slots__ = ()

    def display(self) -> str:
        return "module level"


class ClassScope(Scope):
    kind = "class"
    __slots__ = ()

    def display(self) -> str:
        return f"class {self.qualname}"


class FunctionScope(Scope):
    kind = "function"
    __slots__ = ("local_names",)

    def __init__(self, node: ast.AST | None, name: str, parent: Scope | None) -> None:
        super().__init__(node, name, parent)
        self.local_names: set[str] = set()

    def display(self) -> str:
        return f"{self.qualname.replace('.<locals>', '')}()"


class LambdaScope(FunctionScope):
    kind = "lambda"
    __slots__ = ()

    def display(self) -> str:
        return "a lambda"


class ComprehensionScope(Scope):
    kind = "comprehension"
    __slots__ = ()


# ---------------------------------------------------------------------------------------------
# the statement pass


def target_names(target: ast.AST) -> Iterator[ast.Name]:
    """Name nodes bound by an assignment target (tuples, lists, starred; not attributes)."""
    stack = [target]
    while stack:
        node = stack.pop()
        kind = type(node)
        if kind is ast.Name:
            yield node  # type: ignore[misc]
        elif kind is ast.Tuple or kind is ast.List:
            stack.extend(reversed(node.elts))  # type: ignore[attr-defined]
        elif kind is ast.Starred:
            stack.append(node.value)  # type: ignore[attr-defined]


def pattern_names(pattern: ast.AST) -> Iterator[tuple[str, ast.AST]]:
    """Names a match pattern captures."""
    for node in ast.walk(pattern):
        kind = type(node)
        if kind is ast.MatchAs or kind is ast.MatchStar:
            if node.name:  # type: ignore[attr-defined]
                yield node.name, node  # type: ignore[attr-defined]
        elif kind is ast.MatchMapping and node.rest:  # type: ignore[attr-defined]
            yield node.rest, node  # type: ignore[attr-defined]


#: statements that may declare PEP 695 type parameters (asking every statement for the field
#: raised and caught an AttributeError per statement before 3.12)
_HAS_TYPE_PARAMS = frozenset({ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef,
                              *([ast.TypeAlias] if hasattr(ast, "TypeAlias") else [])})
#: tests that are never ``TYPE_CHECKING`` nor a constant (``static_truth`` is None for them)
_PLAIN_TESTS = frozenset({ast.Compare, ast.Call, ast.BoolOp})
#: statements that bind no name themselves (walrus targets inside them are handled first)
_BINDS_NOTHING = frozenset({ast.Expr, ast.Return, ast.Raise, ast.Pass, ast.Break, ast.Continue,
                            ast.Assert})


def is_type_checking(test: ast.expr) -> bool:
    """``TYPE_CHECKING`` / ``typing.TYPE_CHECKING`` / ``t.TYPE_CHECKING``."""
    kind = type(test)
    if kind is ast.Name:
        return test.id == "TYPE_CHECKING"  # type: ignore[attr-defined]
    if kind is ast.Attribute:
        return test.attr == "TYPE_CHECKING"  # type: ignore[attr-defined]
    return False


def static_truth(test: ast.expr) -> bool | None:
    """What a test is known to be at runtime: TYPE_CHECKING is False, ``if 0`` is False."""
    kind = type(test)
    if kind is ast.Constant:
        return bool(test.value)  # type: ignore[attr-defined]
    if is_type_checking(test):
        return False
    if kind is ast.UnaryOp and type(test.op) is ast.Not:  # type: ignore[attr-defined]
        inner = static_truth(test.operand)  # type: ignore[attr-defined]
        return None if inner is None else not inner
    return None


def resolve_relative(module: str | None, level: int, package: str | None) -> str | None:
    """Absolute dotted name of ``from <level dots><module> import``, when known."""
    if not level:
        return module
    if not package:
        return None
    parts = package.split(".")
    if level - 1 > len(parts) - 1 and level > len(parts):
        return None
    base = parts[: len(parts) - (level - 1)] if level > 1 else parts
    if not base:
        return None
    return ".".join(base + ([module] if module else []))


class ScopeFacts:
    """What the statement pass learns about the whole file."""

    __slots__ = ("module", "scopes", "imports", "bound_anywhere", "star_imports", "future_annotations",
                 "has_walrus", "dynamic_reasons", "all_node", "package", "try_imports",
                 "type_params", "is_init")

    def __init__(self) -> None:
        self.module: ModuleScope = ModuleScope(None, "<module>", None)
        #: scope node -> scope (functions and classes)
        self.scopes: dict[ast.AST, Scope] = {}
        #: name -> every import binding of it in any scope
        self.imports: dict[str, list[Importation]] = {}
        #: every name bound by a statement anywhere (expressions add theirs in the flow pass)
        self.bound_anywhere: set[str] = set()
        #: (module or None when unresolvable, level, node)
        self.star_imports: list[tuple[str | None, int, ast.ImportFrom]] = []
        self.future_annotations = False
        self.has_walrus = False
        #: why the module's namespace cannot be known statically (PM005), first reason first
        self.dynamic_reasons: list[str] = []
        self.all_node: ast.AST | None = None
        #: try statement -> names its body imports (statement level, this scope)
        self.try_imports: dict[ast.AST, set[str]] = {}
        #: PEP 695 type parameters (``def f[T]``, ``class C[T]``, ``type A[T] = ...``): bound
        #: in their own annotation scope, visible to the definition; treated as always bound
        self.type_params: set[str] = set()
        self.is_init = False
        self.package: str | None = None


class StatementScanner:
    """Builds every function/class scope and its bindings from statements."""

    def __init__(self, facts: ScopeFacts) -> None:
        self.facts = facts
        self.context = ""
        self.in_tc = False
        self.in_main = False
        #: names imported in each try body being scanned (innermost last)
        self.try_imports: list[set[str]] = []

    def scan_module(self, tree: ast.Module) -> None:
        body = tree.body
        for stmt in body:
            if type(stmt) is ast.ImportFrom and stmt.module == "__future__":
                if any(a.name == "annotations" for a in stmt.names):
                    self.facts.future_annotations = True
            elif not (type(stmt) is ast.Expr and type(stmt.value) is ast.Constant):
                break
        self.block(body, self.facts.module)

    # -- helpers ----------------------------------------------------------------------------
    def bind(self, scope: Scope, binding: Binding) -> None:
        scope.add(binding)
        self.facts.bound_anywhere.add(binding.name)
        if isinstance(binding, Importation):
            self.facts.imports.setdefault(binding.name, []).append(binding)
            for names in self.try_imports:
                names.add(binding.name)

    def bind_targets(self, scope: Scope, target: ast.AST, stmt: ast.AST) -> None:
        if type(target) is ast.Name:  # the common case: bind() inlined, without the generator
            name = target.id  # type: ignore[attr-defined]
            binding = Assignment(name, target, scope, self.context, self.in_tc, self.in_main)
            scope.bindings.setdefault(name, []).append(binding)
            self.facts.bound_anywhere.add(name)
            return
        for name in target_names(target):
            self.bind(scope, Assignment(name.id, name, scope, self.context, self.in_tc,
                                        self.in_main))

    def walrus(self, node: ast.AST, scope: Scope) -> None:
        """Walrus targets in an expression bind in the nearest function/module scope."""
        for sub in ast.walk(node):
            if type(sub) is ast.NamedExpr and type(sub.target) is ast.Name:
                self.bind(scope, Assignment(sub.target.id, sub.target, scope, self.context,
                                            self.in_tc, self.in_main))

    def block(self, body: list[ast.stmt], scope: Scope) -> None:
        visit = self.stmt
        for stmt in body:
            visit(stmt, scope)

    def nested(self, body: list[ast.stmt], scope: Scope, context: str) -> None:
        saved = self.context
        self.context = context
        self.block(body, scope)
        self.context = saved

    # -- statements -------------------------------------------------------------------------
    def stmt(self, node: ast.stmt, scope: Scope) -> None:  # noqa: C901 - a flat dispatch
        kind = type(node)
        facts = self.facts
        if facts.has_walrus and kind not in (ast.FunctionDef, ast.AsyncFunctionDef,
                                               ast.ClassDef):
            for field in ("value", "test", "iter", "subject", "items"):
                sub = getattr(node, field, None)
                if sub is not None:
                    if isinstance(sub, list):
                        for item in sub:
                            self.walrus(item, scope)
                    else:
                        self.walrus(sub, scope)
        if kind in _BINDS_NOTHING:
            return  # a third of all statements: skip the chain below
        if kind in _HAS_TYPE_PARAMS:
            params = getattr(node, "type_params", None)  # Python 3.12+
            if params:
                facts.type_params.update(p.name for p in params)
        if kind is ast.Import:
            for alias in node.names:
                if alias.asname:
                    self.bind(scope, Importation(alias.asname, node, scope, self.context,
                                                 self.in_tc, self.in_main, alias.name))
                elif "." in alias.name:
                    top = alias.name.split(".", 1)[0]
                    self.bind(scope, SubmoduleImportation(top, node, scope, self.context,
                                                          self.in_tc, self.in_main, alias.name))
                else:
                    self.bind(scope, Importation(alias.name, node, scope, self.context,
                                                 self.in_tc, self.in_main, alias.name))
        elif kind is ast.ImportFrom:
            base = resolve_relative(node.module, node.level or 0, facts.package)
            if facts.is_init and node.level == 1 and node.module and \
                    isinstance(scope, ModuleScope):
                # in a package's __init__, importing .sub binds `sub` in the package namespace
                self.bind(scope, Assignment(node.module.split(".", 1)[0], node, scope,
                                            self.context, self.in_tc, self.in_main))
            for alias in node.names:
                if alias.name == "*":
                    facts.star_imports.append((base, node.level or 0, node))
                    continue
                name = alias.asname or alias.name
                module = f"{base}.{alias.name}" if base else ""
                self.bind(scope, ImportationFrom(name, node, scope, self.context, self.in_tc,
                                                 self.in_main, module))
        elif kind is ast.Assign:
            for target in node.targets:
                self.bind_targets(scope, target, node)
                if (type(target) is ast.Name and target.id == "__all__"
                        and isinstance(scope, ModuleScope)):
                    facts.all_node = node
        elif kind is ast.AugAssign or kind is ast.AnnAssign:
            target = node.target
            if kind is ast.AnnAssign and node.value is None:
                if type(target) is ast.Name:
                    scope.annotated.add(target.id)
            else:
                self.bind_targets(scope, target, node)
        elif kind is ast.FunctionDef or kind is ast.AsyncFunctionDef:
            self.bind(scope, FunctionDefinition(node.name, node, scope, self.context,
                                                self.in_tc, self.in_main))
            self.function(node, scope)
        elif kind is ast.ClassDef:
            self.bind(scope, ClassDefinition(node.name, node, scope, self.context, self.in_tc,
                                             self.in_main))
            inner = ClassScope(node, node.name, scope)
            facts.scopes[node] = inner
            saved = self.context
            self.context = ""
            self.block(node.body, inner)
            self.context = saved
        elif kind is ast.If:
            saved_tc, saved_main = self.in_tc, self.in_main
            test = node.test
            if type(test) not in _PLAIN_TESTS:  # neither TYPE_CHECKING nor a constant
                truth = static_truth(test)
                if is_type_checking(test) or truth is False:
                    self.in_tc = self.in_tc or is_type_checking(test)
            if isinstance(scope, ModuleScope) and is_main_guard(test):
                self.in_main = True
            self.nested(node.body, scope, "if")
            self.in_tc, self.in_main = saved_tc, saved_main
            self.nested(node.orelse, scope, "if")
        elif kind is ast.For or kind is ast.AsyncFor:
            self.bind_targets(scope, node.target, node)
            self.nested(node.body, scope, "for")
            self.nested(node.orelse, scope, "for")
        elif kind is ast.While:
            self.nested(node.body, scope, "while")
            self.nested(node.orelse, scope, "while")
        elif kind is ast.With or kind is ast.AsyncWith:
            for item in node.items:
                if item.optional_vars is not None:
                    self.bind_targets(scope, item.optional_vars, node)
            self.nested(node.body, scope, "with")
        elif kind is ast.Try or kind is getattr(ast, "TryStar", ast.Try):
            imported: set[str] = set()
            self.try_imports.append(imported)
            self.nested(node.body, scope, "try")
            self.try_imports.pop()
            self.facts.try_imports[node] = imported
            for handler in node.handlers:
                if handler.name:
                    self.bind(scope, Assignment(handler.name, handler, scope, "try",
                                                self.in_tc, self.in_main))
                self.nested(handler.body, scope, "except")
            self.nested(node.orelse, scope, "try")
            self.nested(node.finalbody, scope, "finally")
        elif kind is ast.Match:
            for case in node.cases:
                for name, pat in pattern_names(case.pattern):
                    self.bind(scope, Assignment(name, pat, scope, "match", self.in_tc,
                                                self.in_main))
                if facts.has_walrus and case.guard is not None:
                    self.walrus(case.guard, scope)
                self.nested(case.body, scope, "match")
        elif kind is ast.Global:
            scope.globals.update(node.names)
        elif kind is ast.Nonlocal:
            scope.nonlocals.update(node.names)
        elif kind is ast.Delete:
            for target in node.targets:
                for name in target_names(target):
                    # `del x` makes x local without binding it
                    if isinstance(scope, FunctionScope):
                        scope.local_names.add(name.id)
        elif kind.__name__ == "TypeAlias":
            if type(node.name) is ast.Name:  # type: ignore[attr-defined]
                self.bind(scope, Assignment(node.name.id, node, scope,  # type: ignore[attr-defined]
                                            self.context, self.in_tc, self.in_main))

    def function(self, node: ast.FunctionDef | ast.AsyncFunctionDef, parent: Scope) -> None:
        scope = FunctionScope(node, node.name, parent)
        self.facts.scopes[node] = scope
        add_arguments(scope, node.args, self.facts)
        saved = (self.context, self.in_main, self.try_imports)
        self.context, self.in_main, self.try_imports = "", False, []
        self.block(node.body, scope)
        self.context, self.in_main, self.try_imports = saved
        finish_function(scope)


def add_arguments(scope: Scope, args: ast.arguments, facts: ScopeFacts) -> None:
    every = [*getattr(args, "posonlyargs", ()), *args.args, *args.kwonlyargs]
    if args.vararg:
        every.append(args.vararg)
    if args.kwarg:
        every.append(args.kwarg)
    for arg in every:
        scope.add(Argument(arg.arg, arg, scope, "", False, False))
        facts.bound_anywhere.add(arg.arg)


def finish_function(scope: FunctionScope) -> None:
    """A function's local variables: bound, deleted or bare-annotated, minus declarations."""
    names = set(scope.bindings) | scope.local_names | scope.annotated
    scope.local_names = names - scope.globals - scope.nonlocals
