"""Path expressions, evaluated statically over ``ast`` -- the analysis behind code references.

Pyflakes-style: explicit scope objects with a binding count per name (:class:`_Scope`, filled
by :class:`_Binder` in one traversal that also records parents and seeds), an evaluator that
turns an expression into a :class:`PathValue` or *unknown* (:class:`_Evaluator`), and a
collector that climbs from seeds (``__file__``, path-building calls, path variables) to the
largest path expression and classifies its use (:class:`_Collector`).  Imported only when a
file has to be parsed: warm runs take references from the cache.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from premerge.files.handlers import FILE_FAILURES, trace_failure
from premerge.files.references import (CHECK, GUARDED_READ, MENTION, OTHER, READ, TAIL, WRITE,
                                       Reference, Swallow)
from premerge.records import FrozenRecord, frozen_init

_PATH_CLASSES = frozenset({"pathlib.Path", "pathlib.PurePath", "pathlib.PosixPath",
                           "pathlib.PurePosixPath", "pathlib.WindowsPath",
                           "pathlib.PureWindowsPath"})
_IDENTITY_FUNCS = frozenset({"os.path.abspath", "os.path.realpath", "os.path.normpath",
                             "os.fspath", "builtins.str", "os.path.expanduser"})
_IDENTITY_METHODS = frozenset({"resolve", "absolute", "expanduser"})
_OPEN_FUNCS = frozenset({"builtins.open", "io.open", "codecs.open"})
_READ_FUNCS = frozenset({"os.listdir", "os.scandir", "os.walk", "os.stat", "os.lstat",
                         "os.path.getsize", "os.path.getmtime", "os.path.getctime",
                         "os.readlink", "runpy.run_path"})
_CHECK_FUNCS = frozenset({"os.path.exists", "os.path.isfile", "os.path.isdir",
                          "os.path.lexists", "os.path.islink", "os.access"})
_WRITE_FUNCS = frozenset({"os.makedirs", "os.mkdir", "os.remove", "os.unlink", "os.rmdir",
                          "os.removedirs", "shutil.rmtree", "os.chmod", "os.utime",
                          "sqlite3.connect", "logging.FileHandler",
                          "logging.handlers.RotatingFileHandler",
                          "logging.handlers.TimedRotatingFileHandler",
                          "logging.handlers.WatchedFileHandler", "os.mkfifo"})
#: (source position, destination position) of copy/move functions.
_COPY_FUNCS = frozenset({"shutil.copy", "shutil.copy2", "shutil.copyfile", "shutil.copytree",
                         "shutil.copymode", "shutil.copystat", "shutil.move", "os.rename",
                         "os.replace", "os.renames", "os.link", "os.symlink"})
_READ_METHODS = frozenset({"read_text", "read_bytes", "iterdir", "glob", "rglob", "stat",
                           "lstat", "walk", "readlink", "samefile"})
_CHECK_METHODS = frozenset({"exists", "is_file", "is_dir", "is_symlink"})
_WRITE_METHODS = frozenset({"write_text", "write_bytes", "mkdir", "touch", "unlink", "rmdir",
                            "rename", "replace", "symlink_to", "hardlink_to", "chmod",
                            "lchmod"})
#: Functions whose first argument is a package and second a resource inside it.
_PACKAGE_RESOURCE_FUNCS = {
    "pkgutil.get_data": READ,
    "pkg_resources.resource_string": READ,
    "pkg_resources.resource_stream": READ,
    "pkg_resources.resource_filename": OTHER,
    "pkg_resources.resource_exists": CHECK,
    "pkg_resources.resource_isdir": CHECK,
    "pkg_resources.resource_listdir": READ,
    "importlib.resources.read_text": READ,
    "importlib.resources.read_binary": READ,
    "importlib.resources.open_text": READ,
    "importlib.resources.open_binary": READ,
    "importlib.resources.path": OTHER,
    "importlib.resources.is_resource": CHECK,
}
_PACKAGE_DIR_FUNCS = frozenset({"importlib.resources.files"})
_BACKPORTS = (("importlib_resources", "importlib.resources"), ("pathlib2", "pathlib"))
#: Exceptions that make a read inside ``try`` optional.
_MISSING_FILE_ERRORS = frozenset({"FileNotFoundError", "OSError", "IOError",
                                  "EnvironmentError", "Exception", "BaseException",
                                  "NotADirectoryError"})
_GLOB_CHARS = frozenset("*?[")
_FUNCTION_NODES = (ast.FunctionDef, ast.AsyncFunctionDef)
#: swallowing handlers kept per use: the first few say it; thousands of callers of one
#: helper would make the findings (and the time) quadratic
_MAX_HANDLERS = 3


class PathValue(FrozenRecord):
    """A path the code builds, as far as it is known statically.

    ``parts`` is the known prefix relative to the repository root (``anchor == "file"``) or to
    the working directory (``anchor == "cwd"``); ``named`` counts trailing parts that came from
    literals in the code; ``dynamic`` says a computed part follows ``parts``.
    """

    __slots__ = _fields = ("anchor", "parts", "named", "dynamic")
    anchor: str
    parts: tuple[str, ...]
    named: int
    dynamic: bool

    def __init__(self, anchor: str, parts: tuple[str, ...], named: int = 0,
                 dynamic: bool = False) -> None:
        frozen_init(self, anchor, parts, named, dynamic)

    def join(self, text: str | None) -> PathValue | None:
        """``self / text``; ``None`` text means a computed component."""
        if self.dynamic:
            return self
        if text is None:
            return PathValue(self.anchor, self.parts, self.named, True)
        text = text.replace("\\", "/")
        if text.startswith("/") or (len(text) > 1 and text[1] == ":") or text.startswith("~"):
            return None  # an absolute path replaces the base: not ours to know
        parts = list(self.parts)
        named = self.named
        for part in text.split("/"):
            if part in ("", "."):
                continue
            if part == "..":
                if not parts:
                    return None  # leaves the repository
                parts.pop()
                named = max(named - 1, 0)
                continue
            if _GLOB_CHARS & set(part):
                return PathValue(self.anchor, tuple(parts), named + 1, True)
            parts.append(part)
            named += 1
        return PathValue(self.anchor, tuple(parts), named, False)

    def parent(self, levels: int = 1) -> PathValue | None:
        if self.dynamic or levels > len(self.parts) or levels < 0:
            return None
        return PathValue(self.anchor, self.parts[:len(self.parts) - levels],
                         max(self.named - levels, 0))

    def renamed(self, name: str) -> PathValue | None:
        if self.dynamic or not self.parts or "/" in name or not name:
            return None
        return PathValue(self.anchor, (*self.parts[:-1], name), max(self.named, 1))

    @property
    def target(self) -> str:
        return "/".join(self.parts)


# ---------------------------------------------------------------------------------------------
# scopes and bindings (pyflakes-style: explicit scope objects, one binding count per name)


class _Scope:
    """A module, class, function, lambda or comprehension scope and its bindings."""

    __slots__ = ("node", "parent", "is_class", "bindings", "values", "globals", "nonlocals")

    def __init__(self, node: ast.AST, parent: _Scope | None, is_class: bool = False) -> None:
        self.node = node
        self.parent = parent
        self.is_class = is_class
        self.bindings: dict[str, int] = {}
        self.values: dict[str, ast.expr] = {}
        self.globals: set[str] = set()
        self.nonlocals: set[str] = set()

    def bind(self, name: str, value: ast.expr | None = None) -> None:
        self.bindings[name] = self.bindings.get(name, 0) + 1
        if value is not None:
            self.values[name] = value
        else:
            self.values.pop(name, None)



class _Binder(ast.NodeVisitor):
    """First pass: every scope with its bindings; which scope each node lives in."""

    def __init__(self, module: ast.Module) -> None:
        self.module_scope = _Scope(module, None)
        self.scope_of: dict[ast.AST, _Scope] = {module: self.module_scope}
        # what the collector starts from, recorded on this one traversal
        self.parent: dict[ast.AST, ast.AST | None] = {}
        self.node_scope: dict[ast.AST, _Scope] = {}
        self.file_names: list[ast.Name] = []
        self.loads: dict[str, list[ast.Name]] = {}
        self.calls: list[ast.Call] = []
        self._current: ast.AST | None = module
        self.imports: dict[str, str | None] = {}
        self.scope = self.module_scope
        self.generic_visit(module)

    def _bind(self, name: str, value: ast.expr | None = None) -> None:
        if name in self.scope.globals:
            self.module_scope.bind(name, value)
        elif name in self.scope.nonlocals:
            self.scope.bind(name)  # rebinding an enclosing function's name: unknown value
            self.scope.bind(name)
        else:
            self.scope.bind(name, value)

    def _bind_target(self, target: ast.AST) -> None:
        """Bind the names an assignment target stores (not ``obj`` in ``obj.attr = ...``)."""
        if isinstance(target, ast.Name):
            self._bind(target.id)
        elif isinstance(target, (ast.Tuple, ast.List)):
            for item in target.elts:
                self._bind_target(item)
        elif isinstance(target, ast.Starred):
            self._bind_target(target.value)

    def _enter(self, node: ast.AST, is_class: bool = False) -> _Scope:
        scope = _Scope(node, self.scope, is_class=is_class)
        self.scope_of[node] = scope
        return scope

    # Python requires `global x` before any use or assignment of x in the function, so
    # recording the declaration when the traversal reaches it is early enough.
    def visit_Global(self, node: ast.Global) -> None:
        self.scope.globals.update(node.names)

    def visit_Nonlocal(self, node: ast.Nonlocal) -> None:
        self.scope.nonlocals.update(node.names)
        # the enclosing function's variable can now change behind its back: unknown there
        outer = self.scope.parent
        while outer is not None and outer.parent is not None:
            if not outer.is_class:
                for name in node.names:
                    outer.bind(name)
                    outer.bind(name)
            outer = outer.parent

    def visit_Constant(self, node: ast.Constant) -> None:
        """Nothing inside (and not NodeVisitor's slow compatibility shim)."""

    def _visit_body(self, scope: _Scope, nodes: Iterable[ast.AST]) -> None:
        saved, self.scope = self.scope, scope
        for child in nodes:
            self.visit(child)
        self.scope = saved

    def _arguments(self, args: ast.arguments, scope: _Scope) -> None:
        for arg in (*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg):
            if arg is not None:
                scope.bind(arg.arg)

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        for child in (*node.decorator_list, *node.args.defaults,
                      *(d for d in node.args.kw_defaults if d is not None)):
            self.visit(child)
        self._bind(node.name)
        scope = self._enter(node)
        self._arguments(node.args, scope)
        self._visit_body(scope, node.body)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Lambda(self, node: ast.Lambda) -> None:
        for child in (*node.args.defaults, *(d for d in node.args.kw_defaults if d)):
            self.visit(child)
        scope = self._enter(node)
        self._arguments(node.args, scope)
        self._visit_body(scope, [node.body])

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        for child in (*node.decorator_list, *node.bases, *node.keywords):
            self.visit(child)
        self._bind(node.name)
        scope = self._enter(node, is_class=True)
        self._visit_body(scope, node.body)

    def _comprehension(self, node: ast.AST, elements: list[ast.AST]) -> None:
        generators: list[ast.comprehension] = node.generators  # type: ignore[attr-defined]
        self.visit(generators[0].iter)
        scope = self._enter(node)
        saved, self.scope = self.scope, scope
        for index, gen in enumerate(generators):
            if index:
                self.visit(gen.iter)
            self._bind_target(gen.target)
            for cond in gen.ifs:
                self.visit(cond)
        for element in elements:
            self.visit(element)
        self.scope = saved

    def visit_ListComp(self, node: ast.ListComp) -> None:
        self._comprehension(node, [node.elt])

    visit_SetComp = visit_GeneratorExp = visit_ListComp

    def visit_DictComp(self, node: ast.DictComp) -> None:
        self._comprehension(node, [node.key, node.value])

    def visit_Assign(self, node: ast.Assign) -> None:
        self.visit(node.value)
        for target in node.targets:
            if isinstance(target, ast.Name) and len(node.targets) == 1:
                self._bind(target.id, node.value)
            else:
                self._bind_target(target)
                self.visit(target)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self.visit(node.value)
            if isinstance(node.target, ast.Name):
                self._bind(node.target.id, node.value)
                return
            self._bind_target(node.target)
        self.visit(node.target)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self.visit(node.value)
        self._bind_target(node.target)

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        self.visit(node.value)
        scope = self.scope
        while scope.parent is not None and isinstance(scope.node, (
                ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            scope = scope.parent
        scope.bind(node.target.id)

    def visit_For(self, node: ast.For | ast.AsyncFor) -> None:
        self._bind_target(node.target)
        self.generic_visit(node)

    visit_AsyncFor = visit_For

    def visit_withitem(self, node: ast.withitem) -> None:
        if node.optional_vars is not None:
            self._bind_target(node.optional_vars)
        self.visit(node.context_expr)

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        if node.name:
            self._bind(node.name)
        self.generic_visit(node)

    def visit_Delete(self, node: ast.Delete) -> None:
        for target in node.targets:
            self._bind_target(target)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.asname:
                self._bind(alias.asname)
                self._import(alias.asname, alias.name)
            else:
                top = alias.name.split(".")[0]
                self._bind(top)
                self._import(top, top)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        for alias in node.names:
            if alias.name == "*":
                continue
            local = alias.asname or alias.name
            self._bind(local)
            full = f"{node.module}.{alias.name}" if node.module and not node.level else None
            self._import(local, full)

    def _import(self, local: str, full: str | None) -> None:
        if full is not None:  # backports are the same API (a try/except ImportError pair)
            for backport, canonical in _BACKPORTS:
                if full == backport or full.startswith(backport + "."):
                    full = canonical + full[len(backport):]
        if local in self.imports and self.imports[local] != full:
            self.imports[local] = None  # imported as two different things: unknown
        else:
            self.imports[local] = full

    def visit(self, node: ast.AST) -> None:
        parent = self._current
        self.parent[node] = parent
        kind = type(node)
        if kind is ast.Name:
            if isinstance(node.ctx, ast.Load):  # type: ignore[attr-defined]
                self.node_scope[node] = self.scope
                name = node.id  # type: ignore[attr-defined]
                if name == "__file__":
                    self.file_names.append(node)  # type: ignore[arg-type]
                self.loads.setdefault(name, []).append(node)  # type: ignore[arg-type]
            return
        if kind is ast.Call:
            self.node_scope[node] = self.scope
            self.calls.append(node)  # type: ignore[arg-type]
        self._current = node
        method = self._dispatch.get(kind)
        if method is None:
            method = getattr(type(self), "visit_" + type(node).__name__, None) or \
                type(self).generic_visit
            self._dispatch[type(node)] = method
        method(self, node)
        self._current = parent

    _dispatch: dict[type, Any] = {}

    def generic_visit(self, node: ast.AST) -> None:
        # match statements bind names too (MatchAs, MatchStar, MatchMapping rest)
        if isinstance(node, getattr(ast, "MatchAs", ())) and node.name:  # type: ignore[attr-defined]
            self._bind(node.name)  # type: ignore[attr-defined]
        elif isinstance(node, getattr(ast, "MatchStar", ())) and node.name:  # type: ignore[attr-defined]
            self._bind(node.name)  # type: ignore[attr-defined]
        elif isinstance(node, getattr(ast, "MatchMapping", ())) and node.rest:  # type: ignore[attr-defined]
            self._bind(node.rest)  # type: ignore[attr-defined]
        for child in _children(node):
            self.visit(child)


_LEAF_TYPES = (ast.expr_context, ast.operator, ast.unaryop, ast.cmpop, ast.boolop)
_CHILD_FIELDS: dict[type, tuple[str, ...]] = {}


def _children(node: ast.AST) -> list[ast.AST]:
    """``ast.iter_child_nodes`` without contexts and operators (nodes with nothing inside),
    as a list: the traversals here visit hundreds of thousands of nodes."""
    kind = type(node)
    fields = _CHILD_FIELDS.get(kind)
    if fields is None:
        fields = _CHILD_FIELDS[kind] = tuple(f for f in node._fields if f not in (
            "ctx", "op", "ops"))
    out: list[ast.AST] = []
    for name in fields:
        value = getattr(node, name, None)
        if isinstance(value, list):
            out.extend(v for v in value if isinstance(v, ast.AST) and
                       not isinstance(v, _LEAF_TYPES))
        elif isinstance(value, ast.AST) and not isinstance(value, _LEAF_TYPES):
            out.append(value)
    return out


# ---------------------------------------------------------------------------------------------
# evaluation of path expressions


class _Evaluator:
    """Evaluates expressions to :class:`PathValue` (or None: unknown, not a repository path)."""

    def __init__(self, binder: _Binder, relpath: str) -> None:
        self.binder = binder
        self.module_parts = tuple(relpath.split("/"))
        self.is_package = self.module_parts[-1] == "__init__.py"
        self._active: set[tuple[int, str]] = set()
        #: value expressions of variables that other path expressions build on
        self.base_uses: set[int] = set()
        file_bound = binder.module_scope.bindings.get("__file__", 0)
        self.file_value = (PathValue("file", self.module_parts) if not file_bound else None)

    # names -------------------------------------------------------------------------------

    def resolve(self, name: str, scope: _Scope) -> _Scope | None:
        """The scope whose binding of ``name`` a load in ``scope`` sees (None: global unbound
        or builtin)."""
        module = self.binder.module_scope
        if name in scope.globals:
            return module if name in module.bindings else None
        current: _Scope | None = scope
        first = True
        while current is not None:
            if (first or not current.is_class) and name in current.bindings:
                return current
            first = False
            current = current.parent
        return None

    def variable(self, name: str, scope: _Scope) -> tuple[_Scope, ast.expr] | None:
        """The single value expression of the variable a load of ``name`` sees."""
        owner = self.resolve(name, scope)
        if owner is None or owner.bindings.get(name) != 1 or name not in owner.values:
            return None
        return owner, owner.values[name]

    def qualname(self, node: ast.expr, scope: _Scope) -> str | None:
        """``os.path.join`` for ``os.path.join``, ``osp.join``, ``join`` (as imported)."""
        if isinstance(node, ast.Name):
            owner = self.resolve(node.id, scope)
            if owner is None:
                return f"builtins.{node.id}"
            if owner is self.binder.module_scope or node.id in self.binder.imports:
                return self.binder.imports.get(node.id)
            return None
        if isinstance(node, ast.Attribute):
            base = self.qualname(node.value, scope)
            return f"{base}.{node.attr}" if base else None
        return None

    def string(self, node: ast.expr, scope: _Scope, depth: int = 0) -> str | None:
        """A string the expression certainly is (a literal, or a name assigned one once)."""
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        if isinstance(node, ast.Name) and depth < 8:
            found = self.variable(node.id, scope)
            if found is not None:
                return self.string(found[1], found[0], depth + 1)
        return None

    def package_dir(self, node: ast.expr, scope: _Scope) -> PathValue | None:
        """The directory of a package named by ``__name__``, ``__package__`` or a literal."""
        module_dir = PathValue("file", self.module_parts[:-1])
        if isinstance(node, ast.Name) and self.resolve(node.id, scope) is None:
            if node.id == "__package__" or (node.id == "__name__" and self.is_package):
                return module_dir
            if node.id == "__name__":
                return module_dir  # importlib.resources/pkgutil use the containing package
            return None
        text = self.string(node, scope)
        if not text:
            return None
        wanted = tuple(text.split("."))
        dirs = self.module_parts[:-1]
        # the package's top name is one of this module's enclosing directories (the nearest):
        # "pkg.data" from pkg/sub/mod.py is pkg/data
        for end in range(len(dirs), 0, -1):
            if dirs[end - 1] == wanted[0]:  # the subpackage names count as named parts
                return PathValue("file", (*dirs[:end], *wanted[1:]), len(wanted) - 1)
        return None

    def path(self, node: ast.expr, scope: _Scope, depth: int = 0) -> PathValue | None:
        if depth > 40:
            return None
        nxt = depth + 1
        if isinstance(node, ast.Name):
            if node.id == "__file__" and self.resolve("__file__", scope) is None:
                return self.file_value
            found = self.variable(node.id, scope)
            if found is None:
                return None
            owner, value = found
            if depth:
                self.base_uses.add(id(value))  # part of a longer path: a directory base
            key = (id(owner), node.id)
            if key in self._active:
                return None
            self._active.add(key)
            try:
                return self.path(value, owner, nxt)
            finally:
                self._active.discard(key)
        if isinstance(node, ast.BinOp):
            left = self.path(node.left, scope, nxt)
            if left is None:
                return None
            if isinstance(node.op, ast.Div):
                return left.join(self.string(node.right, scope))
            if isinstance(node.op, ast.Add):
                text = self.string(node.right, scope)
                if text is not None and text.startswith(("/", "\\")):
                    return left.join(text.lstrip("/\\"))
            return None
        if isinstance(node, ast.Attribute):
            if node.attr == "parent":
                base = self.path(node.value, scope, nxt)
                return base.parent() if base else None
            return None
        if isinstance(node, ast.Subscript):
            return self._subscript(node, scope, nxt)
        if isinstance(node, ast.Call):
            return self._call(node, scope, nxt)
        if isinstance(node, ast.JoinedStr):
            return self._fstring(node, scope, nxt)
        if isinstance(node, ast.IfExp):
            body = self.path(node.body, scope, nxt)
            other = self.path(node.orelse, scope, nxt)
            return body if body is not None and body == other else None
        return None

    def _subscript(self, node: ast.Subscript, scope: _Scope, depth: int) -> PathValue | None:
        index = node.slice
        if not (isinstance(index, ast.Constant) and isinstance(index.value, int)
                and not isinstance(index.value, bool)):
            return None
        value = node.value
        if isinstance(value, ast.Attribute) and value.attr == "parents":
            base = self.path(value.value, scope, depth)
            return base.parent(index.value + 1) if base and index.value >= 0 else None
        if (isinstance(value, ast.Call) and index.value == 0 and len(value.args) == 1
                and self.qualname(value.func, scope) == "os.path.split"):
            base = self.path(value.args[0], scope, depth)
            return base.parent() if base else None
        return None

    def _call(self, node: ast.Call, scope: _Scope, depth: int) -> PathValue | None:
        func = node.func
        if isinstance(func, ast.Attribute):
            method = func.attr
            if method in _IDENTITY_METHODS | {"joinpath", "with_name", "with_suffix",
                                              "with_stem"}:
                base = self.path(func.value, scope, depth)
                if base is not None:
                    return self._method(base, method, node, scope, depth)
        name = self.qualname(func, scope)
        if name is None:
            return None
        args = node.args
        if any(isinstance(a, ast.Starred) for a in args) or node.keywords and name not in (
                _PACKAGE_DIR_FUNCS):
            return None
        if name in _PATH_CLASSES or name == "os.path.join":
            if not args:
                return PathValue("cwd", ()) if name in _PATH_CLASSES else None
            base = self.path(args[0], scope, depth)
            if base is None:
                text = self.string(args[0], scope)
                if text is None:
                    return None
                base = PathValue("cwd", ()).join(text)
            for arg in args[1:]:
                if base is None:
                    return None
                base = base.join(self.string(arg, scope))
            return base
        if name == "os.path.dirname" and len(args) == 1:
            base = self.path(args[0], scope, depth)
            return base.parent() if base else None
        if name in _IDENTITY_FUNCS and len(args) == 1:
            return self.path(args[0], scope, depth)
        if name in _PACKAGE_DIR_FUNCS and len(args) == 1:
            return self.package_dir(args[0], scope)
        return None

    def _method(self, base: PathValue, method: str, node: ast.Call, scope: _Scope,
                depth: int) -> PathValue | None:
        if method in _IDENTITY_METHODS:
            return base
        texts = [self.string(a, scope) for a in node.args]
        if method == "joinpath":
            result: PathValue | None = base
            for text in texts:
                result = result.join(text) if result else None
            return result
        if len(texts) != 1 or texts[0] is None or base.dynamic or not base.parts:
            return None
        text, last = texts[0], base.parts[-1]
        stem, dot, _suffix = last.rpartition(".")
        stem = stem if dot else last
        if method == "with_name":
            return base.renamed(text)
        if method == "with_suffix":
            return base.renamed(stem + text)
        if method == "with_stem":
            return base.renamed(text + (last[len(stem):] if dot else ""))
        return None

    def _fstring(self, node: ast.JoinedStr, scope: _Scope, depth: int) -> PathValue | None:
        if not node.values or not isinstance(node.values[0], ast.FormattedValue):
            return None
        first = node.values[0]
        if first.format_spec is not None or first.conversion not in (-1, 115):  # !s is fine
            return None
        base = self.path(first.value, scope, depth)
        if base is None:
            return None
        rest = node.values[1:]
        if not rest:
            return base
        text = "".join(piece.value if isinstance(piece, ast.Constant) else "\0"
                       for piece in rest)
        if not text.startswith(("/", "\\")):
            return None  # f"{HERE}x": a name built by concatenation, not a path below HERE
        result: PathValue | None = base
        for segment in text.replace("\\", "/").split("/"):
            if result is None:
                return None
            result = result.join(None if "\0" in segment else segment)
        return result


# ---------------------------------------------------------------------------------------------
# the scan of one module


class _Collector:
    """Second pass: find maximal path expressions and classify how each is used."""

    def __init__(self, tree: ast.Module, relpath: str, lines: Sequence[str]) -> None:
        self.binder = _Binder(tree)
        self.eval = _Evaluator(self.binder, relpath)
        self.lines = lines
        # a site is the expression that names the path: keyed by node id
        self.sites: dict[int, tuple[ast.expr, PathValue]] = {}
        self.usages: dict[int, set[str]] = {}
        self.stack: list[ast.AST] = []
        #: uses of each site whose failure a handler swallows (PM210), keyed like ``sites``
        self.swallows: dict[int, list[Swallow]] = {}
        self._calls_of: dict[int, list[ast.Call]] | None = None
        #: handlers above each function (by its node, what escapes it and how many calls
        #: out it is), see _swallowing
        self._above: dict[tuple[int, frozenset[str], int],
                          list[tuple[ast.AST, str, tuple[ast.Call, ...]]]] = {}
        #: sites assigned to module or class attributes: other modules may use them
        self.exported: set[int] = set()
        self.scope = self.binder.module_scope
        self._collect()

    # from seeds, not a second traversal ---------------------------------------------------

    def _collect(self) -> None:
        """Every path expression contains ``__file__``, a path-building call, or a variable
        holding a path: start from those (recorded by the binder) and climb to the largest
        expression that is still a path; a variable assigned one seeds its own uses."""
        binder = self.binder
        todo: list[ast.expr] = list(binder.file_names)
        for call in binder.calls:
            self._focus(call)
            if self._package_resource(call):
                continue
            self._literal_call(call)
            self._computed_base(call)
            name = self.eval.qualname(call.func, self.scope)
            if name in _PATH_CLASSES or name in _PACKAGE_DIR_FUNCS or name == "os.path.join":
                todo.append(call)
        done: set[int] = set()
        while todo:
            seed = todo.pop()
            self._focus(seed)
            top = self._maximal(seed)
            if top is None or id(top) in done:
                continue
            done.add(id(top))
            self._focus(top, binder.node_scope.get(seed))
            variable = self._expression(top)
            if variable is not None:  # a path variable: its uses are seeds too
                owner, name = variable
                for use in binder.loads.get(name, ()):
                    found = self.eval.variable(name, binder.node_scope[use])
                    if found is not None and found[0] is owner and found[1] is top:
                        todo.append(use)

    def _focus(self, node: ast.AST, scope: _Scope | None = None) -> None:
        """Make ``node`` the current position: its ancestors as the stack, its scope."""
        self.stack = self._chain(node)
        self.scope = scope or self.binder.node_scope.get(node) or self.binder.module_scope

    def _maximal(self, node: ast.expr) -> ast.expr | None:
        """The largest expression above ``node`` that still evaluates to a path.  Between two
        path expressions there is at most one other node (``x.resolve`` before its call,
        ``{x}`` inside an f-string), so two in a row end the climb."""
        if self.eval.path(node, self.scope) is None:
            return None
        top: ast.expr = node
        current: ast.AST = node
        gap = 0
        while True:
            parent = self.binder.parent.get(current)
            if not isinstance(parent, ast.expr):
                return top
            if self.eval.path(parent, self.scope) is not None:
                top, gap = parent, 0
            else:
                gap += 1
                if gap >= 2:
                    return top
            current = parent

    def _expression(self, node: ast.expr) -> tuple[_Scope, str] | None:
        """Record the path expression ``node`` (the top of the stack).  Returns the variable
        it is assigned to, when it is the value of a single-assignment variable."""
        value = self.eval.path(node, self.scope)
        if value is None:
            return None
        usage, operation = self._usage(node)
        inner = _unwrap(node, self.eval, self.scope)
        if isinstance(inner, ast.Name):
            found = self.eval.variable(inner.id, self.scope)
            if found is not None:  # a use of a path variable: credit its definition site
                site = found[1]
                site_value = self.eval.path(site, found[0])
                if site_value is not None and usage != "assigned":
                    self._record(site, site_value, usage, operation)
            if usage == "assigned":
                return self._assigned_variable(node)
            return None
        self._record(node, value, usage, operation)
        if usage != "assigned":
            return None
        if self.scope.is_class or self.scope.parent is None:
            self.exported.add(id(node))
        return self._assigned_variable(node)

    def _assigned_variable(self, node: ast.expr) -> tuple[_Scope, str] | None:
        parent = self.binder.parent.get(node)
        targets = parent.targets if isinstance(parent, ast.Assign) else (
            [parent.target] if isinstance(parent, ast.AnnAssign) else [])
        if len(targets) != 1 or not isinstance(targets[0], ast.Name):
            return None
        name = targets[0].id
        found = self.eval.variable(name, self.scope)
        if found is None or found[1] is not node:
            return None
        return found[0], name

    def _record(self, node: ast.expr, value: PathValue, usage: str,
                operation: str | None = None) -> None:
        """Record a use of the path named at ``node``; a read, copy or move (``operation``
        is its function or method) also records a handler that would swallow its failure."""
        if not value.named:
            return
        self.sites.setdefault(id(node), (node, value))
        if usage != "assigned":
            self.usages.setdefault(id(node), set()).add(usage)
        else:
            self.usages.setdefault(id(node), set())
        if usage in (READ, GUARDED_READ) and operation is not None:
            self._swallow(node, operation)

    def _swallow(self, site: ast.expr, operation: str) -> None:
        """The use at the top of the stack sits in a try whose handler lets its failure pass
        silently -- in its own function, or in a function of this module that calls it (up
        to three calls out): remember where, for PM210."""
        use = self.stack[-1]
        handlers = self._swallowing(list(self.stack), self.scope, FILE_FAILURES, 0)
        known = self.swallows.setdefault(id(site), [])
        for handler, behaviour, calls in handlers:
            swallow = Swallow(getattr(use, "lineno", 1), getattr(use, "col_offset", 0) + 1,
                              getattr(handler, "lineno", 1),
                              getattr(handler, "col_offset", 0) + 1, _verb(operation),
                              behaviour, tuple((call.lineno, call.col_offset + 1) for call in calls))
            if swallow not in known:
                known.append(swallow)

    def _swallowing(self, chain: list[ast.AST], scope: _Scope, failures: frozenset[str],
                    depth: int) -> list[tuple[ast.AST, str, tuple[ast.Call, ...]]]:
        """The handlers that swallow ``failures`` raised at ``chain[-1]``: in its function, or
        (what escapes it) at the calls of that function, memoised per function; each with the
        calls it is reached through, the nearest first."""
        trace = trace_failure(chain, self._qualname_in(scope), failures)
        if trace.handler is not None:
            return [(trace.handler, trace.behaviour, ())]
        function = next((n for n in reversed(chain) if isinstance(n, _FUNCTION_NODES)), None)
        if not trace.escaping or function is None or depth >= 3:
            return []
        key = (id(function), trace.escaping, depth)
        found = self._above.get(key)
        if found is None:
            self._above[key] = []  # recursion: a function calling itself adds nothing
            found = []
            for call in self._callers().get(id(function), ()):
                found.extend((handler, behaviour, (call, *calls)) for handler, behaviour, calls
                             in self._swallowing(self._chain(call), self.binder.node_scope.get(
                                 call, self.binder.module_scope), trace.escaping, depth + 1))
                if len(found) >= _MAX_HANDLERS:
                    break
            self._above[key] = found = found[:_MAX_HANDLERS]
        return found

    def _qualname_in(self, scope: _Scope) -> Callable[[ast.expr], str | None]:
        return lambda node: self.eval.qualname(node, scope)

    def _chain(self, node: ast.AST) -> list[ast.AST]:
        """``node`` and its ancestors, from the module down."""
        chain: list[ast.AST] = []
        current: ast.AST | None = node
        while current is not None:
            chain.append(current)
            current = self.binder.parent.get(current)
        chain.reverse()
        return chain

    def _callers(self) -> dict[int, list[ast.Call]]:
        """Calls of this module's functions, by the function's node: ``helper(...)`` for a
        module-level function bound once, ``self.method(...)`` / ``cls.method(...)`` inside
        the class that defines the method."""
        if self._calls_of is not None:
            return self._calls_of
        module = self.binder.module_scope
        functions = {node.name: node for node in module.node.body  # type: ignore[attr-defined]
                     if isinstance(node, _FUNCTION_NODES) and module.bindings.get(node.name) == 1}
        calls_of: dict[int, list[ast.Call]] = {}
        for call in self.binder.calls:
            func = call.func
            target: ast.AST | None = None
            if isinstance(func, ast.Name) and func.id in functions and self.eval.resolve(
                    func.id, self.binder.node_scope.get(call, module)) is module:
                target = functions[func.id]
            elif isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and \
                    func.value.id in ("self", "cls"):
                owner = next((n for n in reversed(self._chain(call))
                              if isinstance(n, ast.ClassDef)), None)
                if owner is not None:
                    target = next((n for n in owner.body if isinstance(n, _FUNCTION_NODES)
                                   and n.name == func.attr), None)
            if target is not None:
                calls_of.setdefault(id(target), []).append(call)
        self._calls_of = calls_of
        return calls_of

    def _package_resource(self, node: ast.Call) -> bool:
        name = self.eval.qualname(node.func, self.scope)
        usage = _PACKAGE_RESOURCE_FUNCS.get(name or "")
        if usage is None or len(node.args) < 2:
            return False
        base = self.eval.package_dir(node.args[0], self.scope)
        text = self.eval.string(node.args[1], self.scope)
        if base is None:
            return False
        value = base.join(text)
        if value is None:
            return False
        if usage == READ and self._guarded():
            usage = GUARDED_READ
        self._record(node, value, usage, name)
        return True

    def _literal_call(self, node: ast.Call) -> None:
        """``open("x")``, ``shutil.copy("x", ...)``, ``os.path.exists("x")``: literal names."""
        name = self.eval.qualname(node.func, self.scope)
        if name is None:
            return
        positions: tuple[int, ...]
        if name in _OPEN_FUNCS or name in _READ_FUNCS or name in _CHECK_FUNCS \
                or name in _WRITE_FUNCS:
            positions = (0,)
        elif name in _COPY_FUNCS:
            positions = (0, 1)
        else:
            return
        for position in positions:
            if position >= len(node.args):
                continue
            arg = node.args[position]
            if self.eval.path(arg, self.scope) is not None:
                continue  # a path expression: recorded where it is visited
            text = self.eval.string(arg, self.scope)
            if not text:
                continue
            value = PathValue("cwd", ()).join(text)
            if value is None or not value.named or value.dynamic:
                continue
            usage = _call_usage(name, position, node, self.eval, self.scope)
            if usage == READ and self._guarded():
                usage = GUARDED_READ
            self._record(arg, value, usage, name)

    def _computed_base(self, node: ast.Call) -> None:
        """``shutil.copy(self.root / "CLAUDE.md", ...)`` whose failure a handler swallows: the
        directory is computed at run time, but the literal tail names the file.  Recorded
        (anchor ``tail``) only for PM210, which matches it against the manifest; the other
        checks, which need to know the path, ignore it."""
        func = node.func
        name = self.eval.qualname(func, self.scope)
        if name in _OPEN_FUNCS or name in _COPY_FUNCS:
            if not node.args or (name in _OPEN_FUNCS and _open_mode(
                    node, 1, self.eval, self.scope) != READ):
                return
            operation: str = name  # type: ignore[assignment]
            arg = node.args[0]
        elif isinstance(func, ast.Attribute) and func.attr in ("read_text", "read_bytes"):
            operation, arg = func.attr, func.value
        else:
            return
        if self.eval.path(arg, self.scope) is not None or \
                self.eval.string(arg, self.scope) is not None:
            return  # a reference already, or a literal name (_literal_call)
        parts = self._tail(arg, self.scope, 0)
        if not parts:
            return
        self._swallow(arg, operation)
        if self.swallows.get(id(arg)):
            self._record(arg, PathValue(TAIL, tuple(parts), len(parts)), GUARDED_READ)

    def _tail(self, node: ast.expr, scope: _Scope, depth: int) -> list[str] | None:
        """The literal last components of a path whose base is computed (None: no literal
        tail, or a base known to be outside the repository: home, temp, environment)."""
        if depth > 8:
            return None
        nxt = depth + 1
        node = _unwrap(node, self.eval, scope)
        texts: list[str | None] = []
        base: ast.expr | None = None
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            base, texts = node.left, [self.eval.string(node.right, scope)]
        elif isinstance(node, ast.Call) and node.args and not node.keywords:
            func = node.func
            if self.eval.qualname(func, scope) == "os.path.join":
                base, texts = node.args[0], [self.eval.string(a, scope) for a in node.args[1:]]
            elif isinstance(func, ast.Attribute) and func.attr == "joinpath":
                base, texts = func.value, [self.eval.string(a, scope) for a in node.args]
        elif isinstance(node, ast.JoinedStr) and len(node.values) == 2 and \
                isinstance(node.values[0], ast.FormattedValue) and \
                isinstance(node.values[1], ast.Constant):
            text = str(node.values[1].value)
            if text.startswith("/"):
                base, texts = node.values[0].value, [text[1:]]
        elif isinstance(node, ast.Name):
            found = self.eval.variable(node.id, scope)
            return self._tail(found[1], found[0], nxt) if found is not None else None
        if base is None or not texts or None in texts or self._outside(base, scope):
            return None
        if not isinstance(node, ast.JoinedStr) and any(
                PathValue(TAIL, ()).join(text) is None for text in texts):
            return None  # an absolute component replaces the base: not below it
        parts = [p for text in texts for p in str(text).replace("\\", "/").split("/")
                 if p not in ("", ".")]
        if not parts or ".." in parts or any(_GLOB_CHARS & set(p) for p in parts):
            return None
        return (self._tail(base, scope, nxt) or []) + parts

    def _outside(self, base: ast.expr, scope: _Scope) -> bool:
        """A base that is certainly not the repository: home, temp, the environment."""
        for node in ast.walk(base):
            if isinstance(node, (ast.Call, ast.Attribute, ast.Subscript)):
                name = self.eval.qualname(node.func if isinstance(node, ast.Call) else node,
                                          scope) or ""
                if name.startswith(("tempfile.", "os.environ", "os.getenv")) or \
                        name.endswith((".home", "expanduser", "gettempdir", "mkdtemp")):
                    return True
        return False

    # usage -------------------------------------------------------------------------------

    def _usage(self, node: ast.expr) -> tuple[str, str | None]:
        """How the expression at the top of the stack is used, and the function or method
        that uses it (None when no call does)."""
        stack = self.stack
        index = len(stack) - 1
        # climb through wrappers that keep the same path (str(), os.fspath(), Path(), resolve)
        while index > 0:
            parent = stack[index - 1]
            if isinstance(parent, ast.Call) and parent.args and parent.args[0] is stack[index] \
                    and len(parent.args) == 1 and self.eval.qualname(parent.func, self.scope) in (
                        _IDENTITY_FUNCS | _PATH_CLASSES):
                index -= 1
                continue
            break
        child = stack[index]
        parent = stack[index - 1] if index > 0 else None
        grand = stack[index - 2] if index > 1 else None
        usage = OTHER
        operation: str | None = None
        if isinstance(parent, (ast.FormattedValue, ast.Compare)) or (
                isinstance(parent, ast.BinOp) and isinstance(parent.op, ast.Mod)):
            return MENTION, None
        if isinstance(parent, ast.Call) and child in parent.args and _mentions(
                parent, self.eval, self.scope):
            return MENTION, None
        if isinstance(parent, ast.Attribute) and parent.value is child:
            if isinstance(grand, ast.Call) and grand.func is parent:
                usage = _method_usage(parent.attr, grand, self.eval, self.scope)
                operation = parent.attr
        elif isinstance(parent, ast.Call) and child in parent.args:
            operation = self.eval.qualname(parent.func, self.scope)
            position = parent.args.index(child)  # type: ignore[arg-type]
            usage = _call_usage(operation, position, parent, self.eval, self.scope)
        elif isinstance(parent, ast.Call) and any(k.value is child for k in parent.keywords):
            operation = self.eval.qualname(parent.func, self.scope)
            keyword = next(k.arg for k in parent.keywords if k.value is child)
            position = {"file": 0, "src": 0, "dst": 1, "path": 0}.get(keyword or "", -1)
            usage = _call_usage(operation, position, parent, self.eval, self.scope)
        elif isinstance(parent, (ast.Assign, ast.AnnAssign)) and parent.value is child:
            targets = parent.targets if isinstance(parent, ast.Assign) else [parent.target]
            if len(targets) == 1 and isinstance(targets[0], ast.Name) and \
                    self.eval.variable(targets[0].id, self.scope) is not None:
                return "assigned", None
        if usage == READ and self._guarded():
            usage = GUARDED_READ
        return usage, operation

    def _guarded(self) -> bool:
        """Inside a ``try`` whose handlers catch a missing file, or ``suppress(OSError)``."""
        for outer, inner in zip(self.stack, self.stack[1:]):
            if isinstance(outer, ast.Try) and inner in outer.body:
                for handler in outer.handlers:
                    if handler.type is None or _catches_missing(handler.type):
                        return True
            if isinstance(outer, (ast.With, ast.AsyncWith)) and inner in outer.body:
                for item in outer.items:
                    call = item.context_expr
                    if isinstance(call, ast.Call) and self.eval.qualname(
                            call.func, self.scope) == "contextlib.suppress" and any(
                            _catches_missing(a) for a in call.args):
                        return True
        return False

    # results -----------------------------------------------------------------------------

    def references(self) -> list[Reference]:
        refs: list[Reference] = []
        for key, (node, value) in self.sites.items():
            usages = self.usages.get(key, set())
            if not usages and key in self.exported and key not in self.eval.base_uses:
                usages = {OTHER}  # a module constant other modules may read: a resource
            if not usages:
                continue  # a local variable used only as a base of other paths, or never
            line = getattr(node, "lineno", 1)
            code = self.lines[line - 1].strip() if 0 < line <= len(self.lines) else ""
            refs.append(Reference(
                target=value.target, anchor=value.anchor, usages=frozenset(usages),
                dynamic=value.dynamic, line=line, col=getattr(node, "col_offset", 0) + 1,
                end_line=getattr(node, "end_lineno", None) or line,
                end_col=(getattr(node, "end_col_offset", None) or 0) + 1,
                code=code[:160], swallowed=tuple(self.swallows.get(key, ()))))
        refs.sort(key=lambda r: (r.line, r.col, r.target))
        return refs


def _unwrap(node: ast.expr, evaluator: _Evaluator, scope: _Scope) -> ast.expr:
    """``str(x)``/``Path(x)``/``x.resolve()`` -> ``x``: wrappers that keep the same path."""
    while True:
        if isinstance(node, ast.Call) and len(node.args) == 1 and not node.keywords and \
                evaluator.qualname(node.func, scope) in (_IDENTITY_FUNCS | _PATH_CLASSES):
            node = node.args[0]
            continue
        if isinstance(node, ast.Call) and not node.args and isinstance(node.func, ast.Attribute) \
                and node.func.attr in _IDENTITY_METHODS:
            node = node.func.value
            continue
        return node


_LOG_METHODS = frozenset({"debug", "info", "warning", "warn", "error", "exception", "critical",
                          "log", "format", "echo", "secho"})


def _mentions(call: ast.Call, evaluator: _Evaluator, scope: _Scope) -> bool:
    """print(), logging and str.format() only show a path: they neither read nor create it."""
    if evaluator.qualname(call.func, scope) == "builtins.print":
        return True
    return isinstance(call.func, ast.Attribute) and call.func.attr in _LOG_METHODS


def _open_mode(call: ast.Call, position: int, evaluator: _Evaluator, scope: _Scope) -> str:
    mode_node = call.args[position] if len(call.args) > position else next(
        (k.value for k in call.keywords if k.arg == "mode"), None)
    if mode_node is None:
        return READ
    mode = evaluator.string(mode_node, scope)
    if mode is None:
        return OTHER
    if any(ch in mode for ch in "wax"):
        return WRITE
    return READ


_MOVE_FUNCS = frozenset({"shutil.move", "os.rename", "os.replace", "os.renames"})


def _verb(operation: str) -> str:
    """What a read-like use does to the file, for messages: copying, moving, reading."""
    if operation in _MOVE_FUNCS:
        return "moving"
    if operation in _COPY_FUNCS:
        return "linking" if operation in ("os.link", "os.symlink") else "copying"
    return "reading"


def _method_usage(method: str, call: ast.Call, evaluator: _Evaluator, scope: _Scope) -> str:
    if method == "open":
        return _open_mode(call, 0, evaluator, scope)
    if method in _READ_METHODS:
        return READ
    if method in _CHECK_METHODS:
        return CHECK
    if method in _WRITE_METHODS:
        return WRITE
    return OTHER


def _call_usage(name: str | None, position: int, call: ast.Call, evaluator: _Evaluator,
                scope: _Scope) -> str:
    if name is None:
        return OTHER
    if name in _OPEN_FUNCS:
        return _open_mode(call, 1, evaluator, scope) if position == 0 else OTHER
    if name in _COPY_FUNCS:
        return READ if position == 0 else WRITE if position == 1 else OTHER
    if position != 0:
        return OTHER
    if name in _READ_FUNCS:
        return READ
    if name in _CHECK_FUNCS:
        return CHECK
    if name in _WRITE_FUNCS:
        return WRITE
    return OTHER


def _catches_missing(node: ast.expr) -> bool:
    if isinstance(node, ast.Tuple):
        return any(_catches_missing(item) for item in node.elts)
    if isinstance(node, ast.Name):
        return node.id in _MISSING_FILE_ERRORS
    if isinstance(node, ast.Attribute):
        return node.attr in _MISSING_FILE_ERRORS
    return False


def extract_references(text: str, relpath: str) -> list[Reference]:
    """Every reference in one module's source (raises SyntaxError/ValueError when unparsable)."""
    from premerge.parsed import parse_text  # noqa: PLC0415

    return references_in_tree(parse_text(text, relpath), text, relpath)


def references_in_tree(tree: ast.Module, text: str, relpath: str) -> list[Reference]:
    """Every reference in one module's syntax tree (``text``: its source, for the lines)."""
    return _Collector(tree, relpath, text.splitlines()).references()
