"""Dynamic-namespace detection: code that adds names to the module where no statement shows
them (``globals().update(...)``, ``exec`` at module level, ``sys.modules[__name__].__dict__``
writes, enum's ``_convert_``), and modules loaded by name (``importlib.import_module("a.b")``).

Where a file does such a thing, a name bound nowhere is not reported as missing: one PM005 note
says why (``Analyzer.dynamic`` holds the reasons).  :class:`DynamicNamespace` is one part of
:class:`premerge.scope.analyzer.Analyzer`.
"""

from __future__ import annotations

import ast

_Name, _Call, _Attribute, _Subscript = ast.Name, ast.Call, ast.Attribute, ast.Subscript


class DynamicNamespace:
    """The analyzer's part that notes calls which may add module names or load modules."""

    def _dynamic_call(self, node: ast.Call) -> None:
        # every call passes here: the helpers run only where their node types can match
        func = node.func
        kind = type(func)
        if kind is _Name:
            name = func.id  # type: ignore[attr-defined]
            if name == "__import__" or name == "import_module":
                self._dynamic_import(node)
            if name == "exec" and self.frame is self.module_frame:
                self.dynamic.append(f"exec() at module level, line {node.lineno}")
            elif name == "setattr" and node.args and is_module_object(node.args[0]):
                self.dynamic.append(f"setattr() on the module at line {node.lineno}")
            elif name not in ("eval", "dict", "len", "print", "sorted", "list", "iter"):
                for arg in node.args:
                    if type(arg) is _Call and is_namespace_call(arg):
                        self.dynamic.append(f"globals() passed to {name}() at line "
                                            f"{node.lineno}")
                        break
        elif kind is _Attribute:
            attr = func.attr  # type: ignore[attr-defined]
            if attr == "__import__" or attr == "import_module":
                self._dynamic_import(node)
            if attr in ("update", "setdefault", "__setitem__", "pop") and \
                    is_namespace_call(func.value):  # type: ignore[attr-defined]
                self.dynamic.append(f"globals().{attr}() at line {node.lineno}")
            elif attr in ("_convert_", "_convert"):
                self.dynamic.append(f"{attr}() (adds enum members to the module) at line "
                                    f"{node.lineno}")
            else:
                value = func.value  # type: ignore[attr-defined]
                if (type(value) is _Subscript or type(value) is _Attribute) and \
                        is_module_dict(value):
                    self.dynamic.append(f"a write to the module namespace at line "
                                        f"{node.lineno}")

    def _dynamic_import(self, node: ast.Call) -> None:
        loaded = dynamic_import_target(node)
        if loaded is not None:
            self.dynamic_imports.add(loaded)


def dynamic_import_target(node: ast.Call) -> str | None:
    """The absolute module a ``__import__("a.b")`` / ``import_module("a.b")`` call loads."""
    func = node.func
    name = func.id if type(func) is ast.Name else getattr(func, "attr", None)  # type: ignore[attr-defined]
    if name not in ("__import__", "import_module") or not node.args:
        return None
    arg = node.args[0]
    if type(arg) is not ast.Constant or not isinstance(arg.value, str) or \
            not arg.value or arg.value.startswith("."):
        return None
    return arg.value

def is_namespace_call(node: ast.AST) -> bool:
    """``globals()`` / ``vars()`` / ``locals()`` with no arguments."""
    return (type(node) is ast.Call and type(node.func) is ast.Name  # type: ignore[attr-defined]
            and node.func.id in ("globals", "vars") and not node.args)  # type: ignore[attr-defined]

def is_module_object(node: ast.AST) -> bool:
    """``sys.modules[__name__]``."""
    return (type(node) is ast.Subscript and type(node.value) is ast.Attribute  # type: ignore[attr-defined]
            and node.value.attr == "modules"  # type: ignore[attr-defined]
            and type(node.slice) is ast.Name and node.slice.id == "__name__")  # type: ignore[attr-defined]

def is_module_dict(node: ast.AST) -> bool:
    """``sys.modules[__name__].__dict__`` or ``sys.modules[__name__]``."""
    if type(node) is ast.Attribute and node.attr == "__dict__":  # type: ignore[attr-defined]
        return is_module_object(node.value)  # type: ignore[attr-defined]
    return is_module_object(node)
