"""Whole-module summaries the analyzer computes once per file: the names bound by ``import pkg``
(PM109's bases), every module the file imports, what a static ``__all__`` lists, and the module's
functions that never return.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from premerge.scope.bindings import Importation, SubmoduleImportation

#: typing is imported for type checkers only: ~3 ms of start-up where nothing else loads it
TYPING_ONLY = False
if TYPING_ONLY:
    from premerge.scope.bindings import ModuleScope, ScopeFacts


def import_bound_modules(facts: ScopeFacts) -> dict[str, str]:
    """Names bound only by ``import pkg`` / ``import pkg.sub``, to the module they hold."""
    out: dict[str, str] = {}
    for name, imports in facts.imports.items():
        modules = set()
        for binding in imports:
            if type(binding) is Importation or type(binding) is SubmoduleImportation:
                modules.add(binding.module)
            else:
                modules.add(None)
        bindings_total = sum(len(s.bindings.get(name, ())) for s in
                             {b.scope for b in imports})
        if len(modules) == 1 and None not in modules and bindings_total == len(imports):
            out[name] = modules.pop()  # type: ignore[assignment]
    return out


def imported_modules(facts: ScopeFacts, dynamic_imports: set[str]) -> set[str]:
    """Every module the file imports (absolute dotted names and their parents), star imports
    and ``import_module("a.b")`` calls included."""
    out: set[str] = set()
    for imports in facts.imports.values():
        for binding in imports:
            full = getattr(binding, "full", None) or binding.module
            if not full:
                continue
            parts = full.split(".")
            for i in range(1, len(parts) + 1):
                out.add(".".join(parts[:i]))
    for base in [base for base, _level, _node in facts.star_imports] + sorted(
            dynamic_imports):
        if base:
            parts = base.split(".")
            for i in range(1, len(parts) + 1):
                out.add(".".join(parts[:i]))
    return out


def static_all(body: list[ast.stmt], partial: bool = False
               ) -> list[tuple[str, int, int]] | None:
    """The names ``__all__`` lists at module level, or None when it is not static.

    ``partial``: in a concatenation (``__all__ = other + ["a"]``) the literal parts are listed
    and the rest skipped: what must be defined (PM110), not everything exported.
    """
    names: list[tuple[str, int, int]] = []

    def literal(node: ast.AST) -> list[tuple[str, int, int]] | None:
        if type(node) in (ast.List, ast.Tuple):
            out = []
            for elt in node.elts:  # type: ignore[attr-defined]
                if type(elt) is not ast.Constant or not isinstance(elt.value, str):
                    return None
                out.append((elt.value, elt.lineno, elt.col_offset + 1))
            return out
        if type(node) is ast.BinOp and type(node.op) is ast.Add:  # type: ignore[attr-defined]
            left = literal(node.left)  # type: ignore[attr-defined]
            right = literal(node.right)  # type: ignore[attr-defined]
            if partial:
                left = [] if left is None else left
                right = [] if right is None else right
            if left is None or right is None:
                return None
            return left + right
        return None

    def visit(stmts: list[ast.stmt]) -> bool:
        for stmt in stmts:
            kind = type(stmt)
            if kind is ast.Assign and any(type(t) is ast.Name and t.id == "__all__"
                                          for t in stmt.targets):
                if len(stmt.targets) != 1:
                    return False
                value = literal(stmt.value)
                if value is None:
                    return False
                names[:] = value
            elif kind is ast.AugAssign and type(stmt.target) is ast.Name and \
                    stmt.target.id == "__all__":
                value = literal(stmt.value)
                if value is None:
                    return False
                names.extend(value)
            elif kind is ast.AnnAssign and type(stmt.target) is ast.Name and \
                    stmt.target.id == "__all__":
                return False
            elif kind is ast.Expr and type(stmt.value) is ast.Call:
                func = stmt.value.func
                if type(func) is ast.Attribute and type(func.value) is ast.Name and \
                        func.value.id == "__all__":
                    if func.attr == "append" and stmt.value.args and \
                            type(stmt.value.args[0]) is ast.Constant:
                        arg = stmt.value.args[0]
                        names.append((arg.value, arg.lineno, arg.col_offset + 1))
                    elif func.attr == "extend" and stmt.value.args:
                        value = literal(stmt.value.args[0])
                        if value is None:
                            return False
                        names.extend(value)
                    elif func.attr not in ("sort",):
                        return False
            elif kind in (ast.If, ast.Try, ast.With, ast.For, ast.While):
                for field in ("body", "orelse", "finalbody"):
                    if not visit(getattr(stmt, field, []) or []):
                        return False
                for handler in getattr(stmt, "handlers", []):
                    if not visit(handler.body):
                        return False
        return True

    if not visit(body):
        return None
    return names


def noreturn_functions(tree: ast.Module, module: ModuleScope) -> frozenset[str]:
    """Module functions (bound once) that always raise: their last statement is a ``raise``
    and nothing in them returns or yields, so a call to one ends the path like ``raise``."""
    out = set()
    for stmt in tree.body:
        if type(stmt) not in (ast.FunctionDef, ast.AsyncFunctionDef) or not stmt.body or \
                type(stmt.body[-1]) is not ast.Raise or len(module.bindings.get(stmt.name, ())) != 1:
            continue
        todo: list[ast.AST] = list(stmt.body)
        returns = False
        while todo and not returns:
            node = todo.pop()
            kind = type(node)
            if kind in (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda):
                continue
            returns = kind in (ast.Return, ast.Yield, ast.YieldFrom)
            todo.extend(ast.iter_child_nodes(node))
        if not returns:
            out.add(stmt.name)
    return frozenset(out)


def module_level_statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Every statement module-level code may run, in no particular order: the body's and those
    in the blocks of its branches, loops, ``with``, ``try`` and ``match``; not the bodies of
    functions and classes, which run later or in a namespace of their own."""
    stack = list(body)
    while stack:
        stmt = stack.pop()
        yield stmt
        kind = type(stmt)
        if kind is ast.FunctionDef or kind is ast.AsyncFunctionDef or kind is ast.ClassDef:
            continue
        for field in ("body", "orelse", "finalbody"):
            stack.extend(getattr(stmt, field, None) or ())
        for handler in getattr(stmt, "handlers", None) or ():
            stack.extend(handler.body)
        for case in getattr(stmt, "cases", None) or ():
            stack.extend(case.body)


def module_deletes(body: list[ast.stmt]) -> set[str]:
    """Names module-level code (branches included, not function bodies) deletes."""
    out: set[str] = set()
    for stmt in module_level_statements(body):
        if type(stmt) is ast.Delete:
            for target in stmt.targets:  # type: ignore[attr-defined]
                out.update(n.id for n in ast.walk(target) if type(n) is ast.Name)
    return out
