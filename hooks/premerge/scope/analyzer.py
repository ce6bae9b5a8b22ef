"""The per-file analysis: which loads of a name raise NameError/UnboundLocalError on some path.

Public API (the autofix builds on it)::

    analyze_source(source: SourceFile, package: str | None = None) -> FileReport
    analyze_text(text: str, path: str = "<string>", package: str | None = None) -> FileReport

``FileReport.findings`` are the PM1xx findings that need nothing but this file.  What needs other
files is kept apart so results can be cached per file: ``submodule_uses`` (PM109, resolved by
``scope.submodules``) and ``missing_exports`` (PM110 in a package ``__init__`` may be a
submodule beside it).

Finding-to-fix data, for the fix engine:

* ``finding.name`` is the unbound name; ``finding.key`` is ``"<scope qualname>:<name>"``.
* For PM101, PM104, PM106 and PM107, ``finding.related[0]`` is the *import statement* that binds
  the name (line/col of the ``import``/``from`` statement node, 1-based col), with the message
  ``"imported here, in <scope>"``; the statement's text is ``source.lines[line-1]`` onwards
  (``end_line`` is set on the related location).  The fix moves or copies that statement to
  module level.
* For PM102/PM103/PM105 ``related`` lists the bindings of the name in the scope where it is
  local (imports first).
* For PM111 nothing in the file binds the name: ``related`` is empty.

How it works: ``bindings.StatementScanner`` builds every scope and its bindings from
statements (cheap); then one flow pass walks each scope's statements in order with a
``flow.State`` and checks every load.  Module-level code and class bodies run in place; function
and lambda bodies run later against the module's *final* state (refined by what was bound where
the ``def`` ran), which is what Python does when they are called.
"""

from __future__ import annotations

import ast
import builtins
import re

from premerge.findings import Finding, Location
from premerge.input_rules import NotChecked
from premerge.scope import messages as m
from premerge.scope.bindings import (
    Binding,
    ClassScope,
    ComprehensionScope,
    FileFacts,
    FunctionScope,
    Importation,
    LambdaScope,
    ModuleScope,
    Scope,
    StatementScanner,
    SubmoduleImportation,
    add_arguments,
    finish_function,
    is_main_test,
    is_type_checking,
    pattern_names,
    static_truth,
    target_names,
)
from premerge.scope.flow import (
    BOUND,
    BRANCH,
    CAUSES,
    DELETED,
    MAIN,
    OPTIONAL,
    PLANNED,
    TYPE_CHECKING,
    UNBOUND,
    State,
    TestKey,
    fails_elsewhere,
    join,
)
from premerge.sources import SourceFile

#: (``TYPE_CHECKING`` here is flow's cause bit) typing is imported for type checkers only:
#: ~3 ms of start-up where nothing else loads it
TYPING_ONLY = False
if TYPING_ONLY:
    from collections.abc import Sequence
    from typing import Any

#: Builtins of every Python premerge supports (3.9 - 3.13), so results do not depend on the
#: interpreter premerge itself runs under; plus platform-only builtins.
PORTABLE_BUILTINS = frozenset({
    "aiter", "anext", "EncodingWarning", "BaseExceptionGroup", "ExceptionGroup",
    "PythonFinalizationError", "_IncompleteInputError", "WindowsError", "unicode", "long",
    "copyright", "credits", "license", "exit", "quit", "help", "__build_class__", "__import__",
    "__debug__", "reveal_type", "reveal_locals",
    # Python 2 builtins: compatibility code names them on paths Python 3 never takes
    # (`if PY2:` ... `basestring`); reporting those would be noise, not bugs
    "basestring", "file", "xrange", "raw_input", "reduce", "execfile", "unichr", "buffer",
    "cmp", "apply", "intern", "coerce", "reload", "StandardError",
})
#: Module dunders Python provides, and those of class bodies and methods.
MODULE_DUNDERS = frozenset({
    "__name__", "__file__", "__doc__", "__builtins__", "__spec__", "__loader__", "__package__",
    "__cached__", "__annotations__", "__dict__", "__module__", "__qualname__", "__class__",
    "__debug__",
})
BUILTIN_NAMES = frozenset(dir(builtins)) | PORTABLE_BUILTINS | MODULE_DUNDERS

#: exception names whose handler catches NameError / an ImportError / AttributeError
_CATCHES_NAME = {"NameError", "UnboundLocalError", "Exception", "BaseException"}
#: handlers that name the failure itself: the code expects the name may be missing.  A broad
#: ``except Exception`` (or bare ``except``) hides a NameError instead of handling it, so
#: smoke's runtime check confirms the loads it covers (``guarded_loads`` leaves them out).
_HANDLES_NAME = {"NameError", "UnboundLocalError"}
_CATCHES_IMPORT = {"ImportError", "ModuleNotFoundError", "Exception", "BaseException"}
_CATCHES_ATTRIBUTE = {"AttributeError", "Exception", "BaseException"}
_EXIT_CALLS = {("sys", "exit"), ("os", "_exit"), ("os", "abort"), (None, "exit"),
               (None, "quit"), (None, "skip"), (None, "fail"), (None, "raise_from"),
               (None, "reraise")}
#: imported functions that never return (pytest's skip/fail, six's and future's raise helpers)
_IMPORTED_EXITS = {"skip", "fail", "raise_from", "reraise"}
#: methods that never return (pytest.skip/fail/xfail/exit, unittest's self.skipTest/fail,
#: six.raise_from/reraise)
_EXIT_METHODS = {"skip", "fail", "xfail", "skipTest", "exit", "_exit", "abort", "raise_from",
                 "reraise"}
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
# the hot path's node classes as module globals (one lookup each, not two)
_Name, _Load, _Store, _Constant = ast.Name, ast.Load, ast.Store, ast.Constant
_Attribute, _Call, _BinOp, _Compare = ast.Attribute, ast.Call, ast.BinOp, ast.Compare
_Subscript, _Tuple, _List, _Set = ast.Subscript, ast.Tuple, ast.List, ast.Set
_BoolOp, _UnaryOp = ast.BoolOp, ast.UnaryOp
_CONTEXT_WHY = {
    "if": "only inside an if/elif branch",
    "for": "only in a loop body, which may run zero times",
    "while": "only in a loop body, which may run zero times",
    "try": "in a try body, and a handler lets the failure pass",
    "except": "only in an except handler",
    "finally": "only in a finally block",
    "match": "only in one match case",
    "with": "inside a with block that may suppress the failure",
}


class SubmoduleUse:
    """``pkg.sub...`` used as an attribute chain on an imported package (PM109 candidate)."""

    __slots__ = ("module", "attrs", "line", "col", "end_line", "end_col", "scope")

    def __init__(self, module: str, attrs: list[str], line: int, col: int,
                 end_line: int | None, end_col: int | None, scope: str) -> None:
        self.module = module      # the module the base name is bound to, e.g. "importlib"
        self.attrs = attrs        # the attribute chain after it, e.g. ["util", "find_spec"]
        self.line = line
        self.col = col
        self.end_line = end_line
        self.end_col = end_col
        self.scope = scope

    def to_dict(self) -> dict[str, Any]:
        return {"module": self.module, "attrs": self.attrs, "line": self.line, "col": self.col,
                "end_line": self.end_line, "end_col": self.end_col, "scope": self.scope}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SubmoduleUse:
        return cls(**data)


class FileReport:
    """One file's results; JSON-serialisable for the cache.  (Plain classes, not dataclasses:
    building dataclasses costs start-up time every one-file run pays.)"""

    __slots__ = ("path", "findings", "submodule_uses", "imported_modules", "missing_exports",
                 "injected_builtins", "star_modules", "star_pending", "star_note",
                 "guarded_loads")

    def __init__(self, path: str, findings: list[Finding] | None = None) -> None:
        self.path = path
        self.findings: list[Finding] = findings if findings is not None else []
        self.submodule_uses: list[SubmoduleUse] = []
        #: every module this file imports (absolute dotted names and their parents)
        self.imported_modules: list[str] = []
        #: (name, line, col) listed in __all__ but not bound at module level
        self.missing_exports: list[tuple[str, int, int]] = []
        #: names this file adds to ``builtins`` (``builtins._ip = ...``): bound for every file
        self.injected_builtins: list[str] = []
        #: modules star-imported (all absolute); ``star_pending`` are the PM1xx findings that
        #: stand for names none of them defines; ``star_note`` the PM005 when one is unknowable
        self.star_modules: list[str] = []
        self.star_pending: list[Finding] = []
        self.star_note: Finding | None = None
        #: (line, name) of loads of names bound nowhere that the code guards (a ``NameError``
        #: handler, an existence test): smoke's runtime check stays silent there.  Not cached.
        self.guarded_loads: set[tuple[int, str]] = set()

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "findings": [f.to_dict() for f in self.findings],
                "submodule_uses": [u.to_dict() for u in self.submodule_uses],
                "imported_modules": self.imported_modules,
                "missing_exports": [list(x) for x in self.missing_exports],
                "injected_builtins": self.injected_builtins,
                "star_modules": self.star_modules,
                "star_pending": [f.to_dict() for f in self.star_pending],
                "star_note": self.star_note.to_dict() if self.star_note else None}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FileReport:
        report = cls(data["path"], [Finding.from_dict(f) for f in data["findings"]])
        report.submodule_uses = [SubmoduleUse.from_dict(u) for u in data["submodule_uses"]]
        report.imported_modules = list(data["imported_modules"])
        report.missing_exports = [(n, ln, c) for n, ln, c in data["missing_exports"]]
        report.injected_builtins = list(data.get("injected_builtins", ()))
        report.star_modules = list(data.get("star_modules", ()))
        report.star_pending = [Finding.from_dict(f) for f in data.get("star_pending", ())]
        note = data.get("star_note")
        report.star_note = Finding.from_dict(note) if note else None
        return report


# ---------------------------------------------------------------------------------------------
# frames


class Frame:
    """A scope being executed by the flow pass."""

    __slots__ = ("kind", "scope", "state", "locals", "tracked", "enclosing", "parent",
                 "entry", "classes")

    def __init__(self, kind: str, scope: Scope, state: State | None, locals_: set[str],
                 tracked: set[str], parent: Frame | None) -> None:
        self.kind = kind
        self.scope = scope
        self.state = state
        self.locals = locals_
        self.tracked = tracked
        self.parent = parent
        #: names of enclosing function scopes (closures: silent)
        self.enclosing: set[str] = set()
        self.entry: Deferred | None = None
        #: class scopes whose body this function is a method of (PM107)
        self.classes: tuple[ClassScope, ...] = ()


class Deferred:
    """A function or lambda body, analysed after the module body (it runs when called)."""

    __slots__ = ("node", "scope", "enclosing", "view", "def_bits", "block_bits", "classes",
                 "module_level")

    def __init__(self, node: ast.AST, scope: FunctionScope, enclosing: set[str],
                 classes: tuple[ClassScope, ...]) -> None:
        self.node = node
        self.scope = scope
        self.enclosing = enclosing
        self.classes = classes
        self.view: dict[str, int] | None = None
        self.def_bits: dict[str, int] | None = None
        self.block_bits: dict[str, int] | None = None
        self.module_level = False


class _Loop:
    __slots__ = ("breaks", "continues")

    def __init__(self) -> None:
        self.breaks: list[State] = []
        self.continues: list[State] = []


# ---------------------------------------------------------------------------------------------
# the analyzer


class Analyzer:
    def __init__(self, path: str, tree: ast.Module, text: str, package: str | None,
                 is_init: bool) -> None:
        self.path = path
        self.tree = tree
        self.is_init = is_init
        facts = FileFacts()
        facts.package = package
        facts.has_walrus = ":=" in text
        facts.is_init = is_init
        StatementScanner(facts).scan_module(tree)
        self.facts = facts
        module = facts.module
        self.module = module
        self.global_assigned: set[str] = set()
        for scope in facts.scopes.values():
            if isinstance(scope, FunctionScope) and scope.globals:
                self.global_assigned |= scope.globals & set(scope.bindings)
        self.module_names = set(module.bindings) | self.global_assigned | facts.type_params
        if is_init:
            self.module_names.add("__path__")
        main_bound = {n for n, bs in module.bindings.items() if any(b.in_main for b in bs)}
        self.reportable = set(facts.imports) | main_bound
        module_tracked = (set(module.bindings) & self.reportable) - self.global_assigned
        self.module_frame = Frame("module", module, State(), set(module.bindings),
                                  module_tracked, None)
        self.frame = self.module_frame
        self.findings: list[Finding] = []
        self.unresolved: list[tuple[str, ast.AST, Frame]] = []
        self.deferred: list[Deferred] = []
        self.block_defs: list[list[Deferred]] = []
        self.submodule_uses: dict[tuple[str, ...], SubmoduleUse] = {}
        self.module_imports = self._module_import_names()
        self.loops: list[_Loop] = []
        #: per enclosing try body: [frame, every state seen in it, joined] (handler entry)
        self.accs: list[list[Any]] = []
        self.name_guard = 0
        self.exact_name_guard = 0
        self.attr_guard = 0
        self.deftime = ""
        self.dynamic: list[str] = list(facts.dynamic_reasons)
        self.expr_bound: set[str] = set()
        self.injected_builtins: set[str] = set()
        #: star-imported modules, and the findings that stand if none of them defines the name
        self.star_modules: list[str] = []
        self.star_pending: list[Finding] = []
        self.star_note: Finding | None = None
        self.optional_handler: dict[str, int] = {}
        self.deleted_at: dict[tuple[int, str], int] = {}
        self.module_getattr = "__getattr__" in module.bindings
        self.noreturn = _noreturn_functions(tree, module)
        #: modules loaded by ``__import__("pkg.sub")`` / ``importlib.import_module("pkg.sub")``
        self.dynamic_imports: set[str] = set()
        self.guarded_loads: set[tuple[int, str]] = set()
        #: (name, bits) of module names a function may see unbound (see _view)
        self.view_candidates: list[tuple[str, int]] | None = None
        for _base, level, node in facts.star_imports:
            self.dynamic.append(f"`from {'.' * level}{node.module or ''} import *` at line "
                                f"{node.lineno}")

    def release(self) -> None:
        """Break the scope <-> binding reference cycles, so the tree (which the bindings point
        into) is freed by reference counting when the caller drops it, not by a later full
        collection that walks every node (~10 ms on a large file)."""
        scopes = [self.module, *self.facts.scopes.values(), *(d.scope for d in self.deferred)]
        for scope in scopes:
            scope.bindings = {}

    # -- bookkeeping for re-walking (loops, finally) ------------------------------------------
    def mark(self) -> tuple[int, ...]:
        return (len(self.findings), len(self.unresolved), len(self.deferred),
                len(self.block_defs[-1]) if self.block_defs else 0)

    def reset(self, mark: tuple[int, ...]) -> None:
        del self.findings[mark[0]:]
        del self.unresolved[mark[1]:]
        del self.deferred[mark[2]:]
        if self.block_defs:
            del self.block_defs[-1][mark[3]:]

    @property
    def state(self) -> State | None:
        return self.frame.state

    @state.setter
    def state(self, value: State | None) -> None:
        self.frame.state = value

    # -- entry ------------------------------------------------------------------------------
    def run(self) -> FileReport:
        frame = self.module_frame
        self.block_defs.append([])
        self.block(self.tree.body)
        end = frame.state or State()
        self._close_block(end)
        self.block_defs.pop()
        self.end_state = end
        queue = self.deferred
        done = 0
        while done < len(queue):
            entry = queue[done]
            done += 1
            self.function_body(entry)
        self._finish_unresolved()
        report = FileReport(self.path, self.findings)
        report.submodule_uses = list(self.submodule_uses.values())
        report.imported_modules = sorted(self._imported_modules())
        report.missing_exports = self._missing_exports()
        report.injected_builtins = sorted(self.injected_builtins)
        report.guarded_loads = self.guarded_loads
        if self.star_modules:
            report.star_modules = self.star_modules
            report.star_pending = self.star_pending
            report.star_note = self.star_note
        return report

    def _close_block(self, state: State | None) -> None:
        if state is None or not self.block_defs:
            return
        for entry in self.block_defs[-1]:
            if entry.block_bits is None:
                entry.block_bits = state.bits.copy()

    # -- statements -------------------------------------------------------------------------
    def block(self, body: list[ast.stmt]) -> None:
        module_level = self.frame is self.module_frame
        if module_level and self.block_defs:
            self.block_defs.append([])
        dispatch = self._stmt_dispatch
        for stmt in body:
            if self.frame.state is None:
                break
            handler = dispatch.get(type(stmt))
            if handler is not None:
                handler(self, stmt)
            else:
                self.generic_stmt(stmt)
            if self.accs:
                acc = self.accs[-1]
                if acc[0] is self.frame and self.frame.state is not None:
                    acc[1] = join([acc[1], self.frame.state])
        if module_level and len(self.block_defs) > 1:
            inner = self.block_defs.pop()
            self._close_block_list(inner, self.frame.state)
            self.block_defs[-1].extend(inner)

    def guarded_block(self, body: list[ast.stmt], entry: State) -> State:
        """Walk a try body; return the join of every state in it (where a handler starts)."""
        acc: list[Any] = [self.frame, entry.copy()]
        self.accs.append(acc)
        self.block(body)
        self.accs.pop()
        seen: State = acc[1]
        if self.accs and self.accs[-1][0] is self.frame:
            self.accs[-1][1] = join([self.accs[-1][1], seen])
        return seen

    def _close_block_list(self, entries: list[Deferred], state: State | None) -> None:
        if state is None:
            return
        for entry in entries:
            if entry.block_bits is None:
                entry.block_bits = state.bits.copy()

    def generic_stmt(self, node: ast.stmt) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.expr):
                self.expr(child)

    def s_expr(self, node: ast.Expr) -> None:
        value = node.value
        self.expr(value)
        if type(value) is ast.Call:
            func = value.func
            if type(func) is ast.Name and func.id in self.noreturn:
                self.state = None  # a function of this module that always raises
            elif type(func) is ast.Name and (None, func.id) in _EXIT_CALLS:
                # exit()/quit() unless the module defines its own; skip()/fail() as imported
                # from pytest or a test helper
                if func.id in _IMPORTED_EXITS or func.id not in self.module_names:
                    self.state = None
            elif type(func) is ast.Attribute and (
                    func.attr in _EXIT_METHODS or (type(func.value) is ast.Name
                                                   and (func.value.id, func.attr) in _EXIT_CALLS)):
                self.state = None

    def s_assign(self, node: ast.Assign) -> None:
        value = node.value
        self.expr(value)
        kind = type(value)
        if (kind is _Call or kind is _Subscript or kind is _Attribute) and (
                _is_namespace_call(value) or _is_module_dict(value)):
            self.dynamic.append(f"the module namespace is kept in a variable at line "
                                f"{node.lineno}")
        for target in node.targets:
            self.store_target(target)
        if len(node.targets) == 1 and type(node.targets[0]) is ast.Name:
            if kind is ast.Constant and value.value in (True, False, None, 0, 1):
                state = self.state
                if state is not None:
                    name = node.targets[0].id
                    state.know(("name", name), bool(value.value))
                    state.know(("none", name), value.value is None)

    def s_augassign(self, node: ast.AugAssign) -> None:
        self.expr(node.value)
        target = node.target
        if type(target) is ast.Name:
            self.load(target.id, target)
            self.store(target.id)
        else:
            self.store_target(target)

    def s_annassign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self.expr(node.value)
        if self.frame.kind in ("module", "class") and not self.facts.future_annotations:
            self.deftime_expr(node.annotation, "an annotation")
        if node.value is not None:
            self.store_target(node.target)
        elif type(node.target) is not ast.Name:
            self.store_target(node.target)

    def s_return(self, node: ast.Return) -> None:
        if node.value is not None:
            self.expr(node.value)
        self.state = None

    def s_raise(self, node: ast.Raise) -> None:
        if node.exc is not None:
            self.expr(node.exc)
        if node.cause is not None:
            self.expr(node.cause)
        self.state = None

    def s_break(self, node: ast.Break) -> None:
        if self.loops and self.state is not None:
            self.loops[-1].breaks.append(self.state)
        self.state = None

    def s_continue(self, node: ast.Continue) -> None:
        if self.loops and self.state is not None:
            self.loops[-1].continues.append(self.state)
        self.state = None

    def s_pass(self, node: ast.stmt) -> None:
        return

    def s_delete(self, node: ast.Delete) -> None:
        for target in node.targets:
            if type(target) is ast.Name:
                self.load(target.id, target)
                self.unbind(target.id, DELETED)
                self.deleted_at[(id(self.frame.scope), target.id)] = target.lineno
            elif type(target) in (ast.Tuple, ast.List):
                for name in target_names(target):
                    self.load(name.id, name)
                    self.unbind(name.id, DELETED)
                    self.deleted_at[(id(self.frame.scope), name.id)] = name.lineno
            else:
                self.expr(target)

    def s_import(self, node: ast.Import) -> None:
        for alias in node.names:
            name = alias.asname or alias.name.split(".", 1)[0]
            self.store(name)
            self._imported_truthy(name)

    def s_importfrom(self, node: ast.ImportFrom) -> None:
        for alias in node.names:
            if alias.name != "*":
                name = alias.asname or alias.name
                self.store(name)
                if not alias.name.isupper():
                    self._imported_truthy(name)

    def _imported_truthy(self, name: str) -> None:
        """In a try body, an imported module, class or function is a true, non-None flag.

        So ``try: from socket import _fileobject`` / ``except ImportError: _fileobject = None;
        from .backports import makefile`` teaches that ``_fileobject`` false means ``makefile``
        is bound.  (UPPER_CASE names are constants and may be false: nothing is assumed.)
        """
        state = self.frame.state
        if self.accs and state is not None:
            state.know(("name", name), True)
            state.know(("none", name), False)

    def s_assert(self, node: ast.Assert) -> None:
        self.expr(node.test)
        if node.msg is not None:
            self.expr(node.msg)

    def s_global(self, node: ast.stmt) -> None:
        return

    def s_typealias(self, node: Any) -> None:
        # the value of `type X = ...` is evaluated lazily
        if type(node.name) is ast.Name:
            self.store(node.name.id)

    def s_if(self, node: ast.If) -> None:
        test = node.test
        kind = type(test)
        if kind is _Compare or kind is _Call or kind is _BoolOp:  # the usual tests: neither
            tc, truth = False, None                                # TYPE_CHECKING nor constant
        else:
            tc = is_type_checking(test) or (kind is ast.UnaryOp
                                             and type(test.op) is ast.Not
                                             and is_type_checking(test.operand))
            truth = static_truth(test)
        if not tc and kind is not ast.Constant:
            self.expr(test)
        frame = self.frame  # the branches run in this frame (nested code restores it)
        entry = frame.state
        assert entry is not None
        main = frame is self.module_frame and is_main_test(test)
        # a branch the test rules out never runs; its names are unbound on the other path
        body_exit = None if truth is False else self._branch(entry, test, True, node.body)
        else_exit = None if truth is True else self._branch(entry, test, False, node.orelse)
        cause = TYPE_CHECKING if tc else BRANCH
        if truth is False and else_exit is not None:
            else_exit.mark_cause(block_bound_names(node.body), cause)
        elif truth is True and body_exit is not None and node.orelse:
            body_exit.mark_cause(block_bound_names(node.orelse), cause)
        if main and else_exit is not None:
            else_exit.mark_cause(block_bound_names(node.body), MAIN)
        frame.state = join([body_exit, else_exit])

    def _branch(self, entry: State, test: ast.expr, truth: bool,
                body: list[ast.stmt]) -> State | None:
        """Run one branch of an ``if`` from ``entry`` where ``test`` had ``truth``: its exit."""
        frame = self.frame
        frame.state = entry.copy()
        self.assume(test, truth)
        self.block(body)
        return frame.state

    def test_keys(self, test: ast.expr, truth: bool) -> list[tuple[TestKey, bool]]:
        """What a test having ``truth`` tells: ``(key, value)`` pairs for ``State.know``."""
        kind = type(test)
        if kind is ast.Name:
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

    def assume(self, test: ast.expr, truth: bool) -> None:
        """Entering a branch where ``test`` has ``truth``: apply and remember what it implies."""
        state = self.frame.state
        if state is None:
            return
        for key, value in self.test_keys(test, truth):
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

    def s_loop(self, node: ast.For | ast.AsyncFor | ast.While) -> None:
        is_for = type(node) is not ast.While
        if is_for:
            self.expr(node.iter)  # type: ignore[union-attr]
            truth = None
        else:
            truth = static_truth(node.test)  # type: ignore[union-attr]
        entry = self.state
        assert entry is not None
        head = entry
        loop = _Loop()
        end: State | None = None
        for _attempt in range(3):
            mark = self.mark()
            self.state = head.copy()
            if is_for:
                self.store_target(node.target)  # type: ignore[union-attr]
            elif truth is None:
                self.expr(node.test)  # type: ignore[union-attr]
            loop = _Loop()
            self.loops.append(loop)
            self.block(node.body)
            self.loops.pop()
            end = join([self.state, *loop.continues])
            new_head = join([entry, end])
            if new_head is None or new_head.bits == head.bits:
                break
            self.reset(mark)
            head = new_head
        normal = None if truth is True else join([entry, end])
        if normal is not None and node.orelse:
            self.state = normal.copy()
            self.block(node.orelse)
            normal = self.state
        self.state = join([normal, *loop.breaks])

    def s_try(self, node: ast.Try) -> None:
        entry = self.state
        assert entry is not None
        names = [_handler_names(h) for h in node.handlers]
        guards_name = any(n is None or n & _CATCHES_NAME for n in names)
        guards_attr = any(n is None or n & _CATCHES_ATTRIBUTE for n in names)
        handles_name = any(n is not None and n & _HANDLES_NAME for n in names)
        self.name_guard += guards_name
        self.exact_name_guard += handles_name
        self.attr_guard += guards_attr
        self.state = entry.copy()
        handler_entry = self.guarded_block(node.body, entry)
        self.name_guard -= guards_name
        self.exact_name_guard -= handles_name
        self.attr_guard -= guards_attr
        body_exit = self.state
        changed = [n for n, v in handler_entry.bits.items() if entry.bits.get(n, UNBOUND) != v]
        imported_in_body = self.facts.try_imports.get(node, ())
        exits: list[State | None] = []
        for handler, caught in zip(node.handlers, names):
            if handler.type is not None:
                self.state = entry.copy()
                self.expr(handler.type)
            self.state = handler_entry.copy()
            if handler.name:
                self.store(handler.name)
            self.block(handler.body)
            state = self.state
            if state is not None:
                if handler.name:
                    self.unbind(handler.name, 0)
                optional = caught is None or bool(caught & _CATCHES_IMPORT)
                opt_names = [n for n in changed if n in imported_in_body]
                if optional and opt_names:
                    planned = bool(block_bound_names(handler.body) - set(opt_names))
                    state.mark_cause(opt_names, OPTIONAL | (PLANNED if planned else 0))
                    for name in opt_names:
                        self.optional_handler.setdefault(name, handler.lineno)
                state.mark_cause(changed, BRANCH)
            exits.append(state)
        if guards_name and body_exit is not None and all(
                exit_ is None for exit_, caught in zip(exits, names)
                if caught is None or caught & _CATCHES_NAME):
            # `try: get_ipython` / `except NameError: return`: past the try, what the body
            # surely loaded exists
            for name in _surely_loaded(node.body):
                self._known_to_exist(body_exit, name)
        if node.orelse and body_exit is not None:
            self.state = body_exit
            self.block(node.orelse)
            body_exit = self.state
        normal = join([body_exit, *exits])
        if node.finalbody:
            self.state = join([normal, handler_entry])
            self.block(node.finalbody)
            if normal is not None:
                mark = self.mark()
                self.state = normal
                self.block(node.finalbody)
                normal = self.state
                self.reset(mark)
        self.state = normal

    def s_with(self, node: ast.With | ast.AsyncWith) -> None:
        suppresses = False
        for item in node.items:
            self.expr(item.context_expr)
            call = item.context_expr
            if type(call) is ast.Call:
                func = call.func
                fname = func.id if type(func) is ast.Name else getattr(func, "attr", "")
                if fname == "suppress":
                    suppresses = True
            if item.optional_vars is not None:
                self.store_target(item.optional_vars)
        if not suppresses:
            self.block(node.body)
            return
        entry = self.state
        assert entry is not None
        self.state = entry.copy()
        failed = self.guarded_block(node.body, entry).copy()
        changed = [n for n, v in failed.bits.items() if entry.bits.get(n, UNBOUND) != v]
        failed.mark_cause([n for n in changed if n in self.facts.imports], OPTIONAL)
        for name in changed:
            self.optional_handler.setdefault(name, node.lineno)
        self.state = join([self.state, failed])

    def s_match(self, node: Any) -> None:
        self.expr(node.subject)
        entry = self.state
        assert entry is not None
        exits: list[State | None] = []
        irrefutable = False
        for case in node.cases:
            self.state = entry.copy()
            for name, _pat in pattern_names(case.pattern):
                self.store(name)
            for sub in ast.walk(case.pattern):
                if type(sub) is ast.MatchValue:
                    self.expr(sub.value)
                elif type(sub) is ast.MatchClass:
                    self.expr(sub.cls)
            if case.guard is not None:
                self.expr(case.guard)
            elif type(case.pattern) is ast.MatchAs and case.pattern.pattern is None:
                irrefutable = True
            self.block(case.body)
            exits.append(self.state)
        if not irrefutable:
            exits.append(entry)
        self.state = join(exits)

    def s_functiondef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        for decorator in node.decorator_list:
            self.deftime_expr(decorator, "a decorator")
        self._arguments_deftime(node.args)
        if not self.facts.future_annotations:
            for arg in _all_args(node.args):
                if arg.annotation is not None:
                    self.deftime_expr(arg.annotation, "an annotation")
            if node.returns is not None:
                self.deftime_expr(node.returns, "an annotation")
        scope = self.facts.scopes.get(node)
        if isinstance(scope, FunctionScope):
            self.defer(node, scope)
        self.store(node.name)

    def _arguments_deftime(self, args: ast.arguments) -> None:
        for default in args.defaults:
            self.deftime_expr(default, "a default value")
        for default in args.kw_defaults:
            if default is not None:
                self.deftime_expr(default, "a default value")

    def s_classdef(self, node: ast.ClassDef) -> None:
        for decorator in node.decorator_list:
            self.deftime_expr(decorator, "a decorator")
            func = decorator.func if type(decorator) is ast.Call else decorator
            if getattr(func, "attr", getattr(func, "id", "")) == "global_enum":
                self.dynamic.append(f"@global_enum (adds enum members to the module) at line "
                                    f"{decorator.lineno}")
        for base in node.bases:
            self.deftime_expr(base, "a class base")
        for keyword in node.keywords:
            self.deftime_expr(keyword.value, "a class keyword")
        scope = self.facts.scopes.get(node)
        if isinstance(scope, ClassScope):
            names = set(scope.bindings)
            outer_state = self.state
            seed = State({}, outer_state.consts, outer_state.facts) if outer_state else State()
            frame = Frame("class", scope, seed, names, names & self.reportable, self.frame)
            outer = self.frame
            saved_accs, saved_loops = self.accs, self.loops
            self.accs, self.loops = [], []
            self.frame = frame
            saved_deftime = self.deftime
            self.deftime = "a class body"
            self.block(node.body)
            self.deftime = saved_deftime
            self.frame = outer
            self.accs, self.loops = saved_accs, saved_loops
        self.store(node.name)

    _stmt_dispatch: dict[type, Any] = {}

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
            if _is_namespace_call(value):
                self.dynamic.append(f"a write to {ast.unparse(value)} at line {target.lineno}")  # type: ignore[attr-defined]
            self.expr(value)
            self.expr(target.slice)  # type: ignore[attr-defined]
        elif kind is ast.Attribute:
            value = target.value  # type: ignore[attr-defined]
            if type(value) is ast.Name and self.module_imports.get(value.id) == "builtins":
                self.injected_builtins.add(target.attr)  # type: ignore[attr-defined]
            if (type(value) is _Subscript or type(value) is _Attribute) and \
                    _is_module_dict(value):
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
        if state is not None and (state.facts or _tests_existence(values)):
            # each operand runs only where the ones before it had the value that lets it run
            saved = state
            self.state = state.copy()
            is_and = type(node.op) is ast.And
            for previous, value in zip(values, values[1:]):
                self.assume(previous, is_and)
                self.expr(value)
            self.state = saved
            return
        for value in values[1:]:
            self.expr(value)

    def ifexp(self, node: ast.IfExp) -> None:
        self.expr(node.test)
        state = self.state
        if state is not None and (state.facts or _tests_existence((node.test,))):
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
                    names.add(target.id)
                    self.expr_bound.add(target.id)
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
            elif name == "setattr" and node.args and _is_module_object(node.args[0]):
                self.dynamic.append(f"setattr() on the module at line {node.lineno}")
            elif name not in ("eval", "dict", "len", "print", "sorted", "list", "iter"):
                for arg in node.args:
                    if type(arg) is _Call and _is_namespace_call(arg):
                        self.dynamic.append(f"globals() passed to {name}() at line "
                                            f"{node.lineno}")
                        break
        elif kind is _Attribute:
            attr = func.attr  # type: ignore[attr-defined]
            if attr == "__import__" or attr == "import_module":
                self._dynamic_import(node)
            if attr in ("update", "setdefault", "__setitem__", "pop") and \
                    _is_namespace_call(func.value):  # type: ignore[attr-defined]
                self.dynamic.append(f"globals().{attr}() at line {node.lineno}")
            elif attr in ("_convert_", "_convert"):
                self.dynamic.append(f"{attr}() (adds enum members to the module) at line "
                                    f"{node.lineno}")
            else:
                value = func.value  # type: ignore[attr-defined]
                if (type(value) is _Subscript or type(value) is _Attribute) and \
                        _is_module_dict(value):
                    self.dynamic.append(f"a write to the module namespace at line "
                                        f"{node.lineno}")

    def _dynamic_import(self, node: ast.Call) -> None:
        loaded = _dynamic_import(node)
        if loaded is not None:
            self.dynamic_imports.add(loaded)

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
                if name in frame.locals:
                    if name not in frame.tracked:
                        return
                    state = frame.state
                    bits = state.bits.get(name, UNBOUND) if state is not None else BOUND
                    if bits == BOUND or self._resolves(frame.parent, name):
                        return
                    self.report(frame, name, node, bits, cross=False)
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
            return
        if name in frame.enclosing:
            return
        if state is not None:
            bits = state.bits.get(name)  # type: ignore[assignment]
            if bits is not None:
                if bits != BOUND:
                    self.report(frame, name, node, bits, cross=True)
                return
        if name in self.module_names or name in BUILTIN_NAMES:
            return
        self._unresolved(name, node, state)

    def _unresolved(self, name: str, node: ast.AST, state: State | None) -> None:
        """A name nothing in the file binds: a missing import, unless this path proved it exists.

        ``if "x" in globals():`` and ``try: x`` / ``except NameError: return`` are how code
        probes for names an embedding host injects (IPython's ``get_ipython``).
        """
        if self.name_guard:
            self._guarded_by_handler(node, name)
            return
        for known in (state, self.frame.state):
            if known is not None and known.consts and known.consts.get(("exists", name)):
                self.guarded_loads.add((node.lineno, name))  # type: ignore[attr-defined]
                return
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

    # -- reporting --------------------------------------------------------------------------
    def _guarded_by_handler(self, node: ast.AST, name: str) -> None:
        """A load in a try body whose handler catches NameError: smoke's runtime check trusts
        only a handler that names it (``except NameError``), not a broad one that hides it."""
        if self.exact_name_guard:
            self.guarded_loads.add((node.lineno, name))  # type: ignore[attr-defined]

    def report(self, frame: Frame, name: str, node: ast.AST, bits: int, cross: bool) -> None:
        if self.name_guard:
            self._guarded_by_handler(node, name)
            return
        if cross and not fails_elsewhere(bits):
            return
        if (cross or frame.kind != "function") and name in BUILTIN_NAMES:
            return  # module and class code fall back to builtins
        if name not in self.facts.imports and not bits & MAIN:
            return  # only imports (and __main__-only names) are this check's business
        if bits & OPTIONAL and self.facts.star_imports and \
                not bits & (TYPE_CHECKING | MAIN | DELETED):
            return  # the optional import overrides what a star import bound (ntpath's islink)
        scope = self.module if cross else frame.scope
        bindings = scope.bindings.get(name, [])
        where = self._qualname(self.frame)
        common: dict[str, Any] = {
            "end_line": getattr(node, "end_lineno", None),
            "end_col": (node.end_col_offset + 1  # type: ignore[attr-defined]
                        if getattr(node, "end_col_offset", None) is not None else None),
            "name": name, "key": f"{where}:{name}",
        }
        line, col = node.lineno, node.col_offset + 1  # type: ignore[attr-defined]
        related = _related(self.path, bindings)
        if bits & DELETED:
            deleted = self.deleted_at.get((id(scope), name))
            why = (f"it was deleted with `del` (line {deleted})" if deleted
                   else "it was deleted with `del`")
            finding = m.UsedBeforeBound.at(self.path, line, col, related=related, why=why,
                                           **common)
        elif bits & TYPE_CHECKING:
            tc = [b for b in bindings if b.in_type_checking]
            finding = m.TypeCheckingOnly.at(
                self.path, line, col, related=_related(self.path, tc, "under TYPE_CHECKING")
                + related[len(tc):], **common)
        elif bits & MAIN:
            main = [b for b in bindings if b.in_main]
            finding = m.MainBlockOnly.at(
                self.path, line, col, related=_related(self.path, main, "under __main__"),
                **common)
        elif bits & OPTIONAL:
            finding = m.OptionalImportUnguarded.at(
                self.path, line, col, related=related,
                handler_line=self.optional_handler.get(name, "?"), **common)
        elif bits & BOUND or bits & BRANCH:
            contexts = [b for b in bindings if b.context] or bindings
            first = contexts[0] if contexts else None
            verb = "imported" if first is not None and first.is_import else "bound"
            why = f"it is {verb} {_CONTEXT_WHY.get(first.context, 'only on some paths')}" \
                if first is not None and first.context else f"it is {verb} only on some paths"
            if first is not None:
                why += f" (line {first.line})"
            finding = m.ConditionallyBound.at(self.path, line, col, related=related, why=why,
                                              **common)
        elif self.deftime and frame is not self.frame or self.deftime and frame.kind != "function":
            finding = m.DefinitionTimeUnbound.at(self.path, line, col, related=related,
                                                 what=self.deftime, **common)
        else:
            later = [b for b in bindings if b.line >= line] or bindings
            verb = "imported" if later and later[0].is_import else "bound"
            why = (f"it is {verb} only later in {scope.display()} (line {later[0].line})"
                   if later else "it is not bound yet")
            finding = m.UsedBeforeBound.at(self.path, line, col, related=related, why=why,
                                           **common)
        self.findings.append(finding)

    def _finish_unresolved(self) -> None:
        if not self.unresolved:
            return
        if self.dynamic:
            # one note: these names may come from a namespace we cannot see
            reason = self.dynamic[0]
            found = re.search(r"line (\d+)", reason)
            names = sorted({name for name, _node, _frame in self.unresolved})
            shown = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")
            note = NotChecked.at(self.path, int(found.group(1)) if found else 1, 1,
                                 key="dynamic", reason=f"{reason} may define {shown}")
            stars = [base for base, _level, _node in self.facts.star_imports]
            if len(stars) == len(self.dynamic) and stars and all(stars):
                # only star imports of modules we may find: the cross-file step reads what
                # they export and reports the names none of them defines (else: this note)
                self.star_modules = stars  # type: ignore[assignment]
                self.star_note = note
                saved, self.findings = self.findings, []
                self._report_unresolved()
                self.star_pending, self.findings = self.findings, saved
                return
            self.findings.append(note)
            return
        self._report_unresolved()

    def _report_unresolved(self) -> None:
        bound = self.facts.bound_anywhere | self.expr_bound
        for name, node, frame in self.unresolved:
            where = self._qualname(frame)
            common: dict[str, Any] = {
                "end_line": getattr(node, "end_lineno", None),
                "end_col": (node.end_col_offset + 1  # type: ignore[attr-defined]
                            if getattr(node, "end_col_offset", None) is not None else None),
                "name": name, "key": f"{where}:{name}",
            }
            line, col = node.lineno, node.col_offset + 1  # type: ignore[attr-defined]
            imports = self.facts.imports.get(name)
            if imports:
                classes = self._classes_of(frame)
                in_class = [b for b in imports if b.scope in classes]
                if in_class:
                    cls = in_class[0].scope.qualname
                    self.findings.append(m.ClassBodyImport.at(
                        self.path, line, col, owner=cls,
                        related=_related(self.path, in_class, None, with_scope=True), **common))
                    continue
                scopes: list[str] = []
                for binding in imports:
                    label = binding.scope.display()
                    if label not in scopes:
                        scopes.append(label)
                self.findings.append(m.ImportedInOtherFunction.at(
                    self.path, line, col, where=" and ".join(scopes),
                    related=_related(self.path, imports, None, with_scope=True), **common))
            elif name not in bound:
                self.findings.append(m.UndefinedName.at(self.path, line, col, **common))

    def _classes_of(self, frame: Frame) -> tuple[ClassScope, ...]:
        while frame is not None and frame.kind == "comprehension":
            frame = frame.parent  # type: ignore[assignment]
        if frame is None:
            return ()
        if frame.kind == "class":
            return ()
        return frame.classes

    def _qualname(self, frame: Frame) -> str:
        while frame.kind == "comprehension" and frame.parent is not None:
            frame = frame.parent
        if frame.kind == "module":
            return "<module>"
        return frame.scope.qualname

    # -- functions ----------------------------------------------------------------------------
    def defer(self, node: ast.AST, scope: FunctionScope) -> None:
        """Queue a function/lambda body; remember what the module had bound at the def."""
        frame = self.frame
        enclosing: set[str] = set()
        classes: list[ClassScope] = []
        parent_entry: Deferred | None = None
        current: Frame | None = frame
        while current is not None and current.kind != "module":
            if current.kind == "class":
                if not enclosing and not parent_entry:
                    classes.append(current.scope)  # type: ignore[arg-type]
            elif current.kind == "comprehension":
                enclosing |= current.locals
            else:
                enclosing |= current.locals | current.enclosing
                parent_entry = current.entry
                break
            current = current.parent
        entry = Deferred(node, scope, enclosing, tuple(classes) if not parent_entry else ())
        if parent_entry is not None:
            entry.view = parent_entry.view
            entry.module_level = False
        else:
            entry.module_level = True
            module_state = self.module_frame.state
            entry.def_bits = module_state.bits.copy() if module_state is not None else {}
            current = frame
            while current is not None and current.kind != "module":
                if current.kind == "class" and current.state is not None:
                    for name, value in current.state.bits.items():
                        if value == BOUND and name not in current.locals:
                            entry.def_bits[name] = BOUND
                current = current.parent
            if self.block_defs:
                self.block_defs[-1].append(entry)
        self.deferred.append(entry)

    def _view(self, entry: Deferred) -> dict[str, int]:
        """The module names that may be unbound when this function runs, with why."""
        if entry.view is not None:
            return entry.view
        candidates = self.view_candidates
        if candidates is None:  # the same for every function: the module body's end state
            end = self.end_state.bits
            candidates = []
            for name in self.module_frame.tracked:
                bits = end.get(name, UNBOUND)
                if bits != BOUND and fails_elsewhere(bits):
                    candidates.append((name, bits))
            self.view_candidates = candidates
        view: dict[str, int] = {}
        if not candidates:
            entry.view = view
            return view
        helper = (id(self.module), getattr(entry.node, "name", "")) in self.deleted_at
        for name, bits in candidates:
            if not bits & DELETED or helper:
                if (entry.def_bits and entry.def_bits.get(name) == BOUND) or \
                        (entry.block_bits and entry.block_bits.get(name) == BOUND):
                    continue
            view[name] = bits
        entry.view = view
        return view

    def function_body(self, entry: Deferred) -> None:
        scope = entry.scope
        node = entry.node
        locals_ = scope.local_names
        tracked = locals_ & self.reportable
        view = self._view(entry)
        bits = {n: v for n, v in view.items()
                if n not in locals_ and n not in entry.enclosing}
        state = State(bits, None, self.end_state.facts if self.end_state.facts else None)
        frame = Frame(scope.kind, scope, state, locals_, tracked, None)
        frame.enclosing = entry.enclosing
        frame.entry = entry
        frame.classes = entry.classes
        if tracked:  # usually empty: no import or __main__ name is local here
            for name, bindings in scope.bindings.items():
                if name in tracked and any(type(b).__name__ == "Argument" for b in bindings):
                    state.bits[name] = BOUND
        self.frame = frame
        self.loops, self.accs = [], []
        self.name_guard = self.exact_name_guard = self.attr_guard = 0
        self.deftime = ""
        if type(node) is ast.Lambda:
            self.expr(node.body)  # type: ignore[attr-defined]
        else:
            self.block(node.body)  # type: ignore[attr-defined]
        self.frame = self.module_frame

    # -- helpers ----------------------------------------------------------------------------
    def _module_import_names(self) -> dict[str, str]:
        """Names bound only by ``import pkg`` / ``import pkg.sub``, to the module they hold."""
        out: dict[str, str] = {}
        for name, imports in self.facts.imports.items():
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

    def _imported_modules(self) -> set[str]:
        out: set[str] = set()
        for imports in self.facts.imports.values():
            for binding in imports:
                full = getattr(binding, "full", None) or binding.module
                if not full:
                    continue
                parts = full.split(".")
                for i in range(1, len(parts) + 1):
                    out.add(".".join(parts[:i]))
        for base in [base for base, _level, _node in self.facts.star_imports] + sorted(
                self.dynamic_imports):
            if base:
                parts = base.split(".")
                for i in range(1, len(parts) + 1):
                    out.add(".".join(parts[:i]))
        return out

    def _missing_exports(self) -> list[tuple[str, int, int]]:
        node = self.facts.all_node
        if node is None or self.module_getattr or self.dynamic:
            return []
        exported = _static_all(self.tree.body)
        if exported is None:
            return []
        missing = []
        for name, line, col in exported:
            if name not in self.module_names:
                missing.append((name, line, col))
        return missing


Analyzer._stmt_dispatch = {
    ast.Expr: Analyzer.s_expr, ast.Assign: Analyzer.s_assign,
    ast.AugAssign: Analyzer.s_augassign, ast.AnnAssign: Analyzer.s_annassign,
    ast.Return: Analyzer.s_return, ast.Raise: Analyzer.s_raise, ast.Break: Analyzer.s_break,
    ast.Continue: Analyzer.s_continue, ast.Pass: Analyzer.s_pass, ast.Delete: Analyzer.s_delete,
    ast.Import: Analyzer.s_import, ast.ImportFrom: Analyzer.s_importfrom,
    ast.Assert: Analyzer.s_assert, ast.Global: Analyzer.s_global,
    ast.Nonlocal: Analyzer.s_global, ast.If: Analyzer.s_if, ast.For: Analyzer.s_loop,
    ast.AsyncFor: Analyzer.s_loop, ast.While: Analyzer.s_loop, ast.Try: Analyzer.s_try,
    ast.With: Analyzer.s_with, ast.AsyncWith: Analyzer.s_with,
    ast.FunctionDef: Analyzer.s_functiondef, ast.AsyncFunctionDef: Analyzer.s_functiondef,
    ast.ClassDef: Analyzer.s_classdef,
}
if hasattr(ast, "Match"):
    Analyzer._stmt_dispatch[ast.Match] = Analyzer.s_match
if hasattr(ast, "TryStar"):
    Analyzer._stmt_dispatch[ast.TryStar] = Analyzer.s_try
if hasattr(ast, "TypeAlias"):
    Analyzer._stmt_dispatch[ast.TypeAlias] = Analyzer.s_typealias


# ---------------------------------------------------------------------------------------------
# small pure helpers


def _all_args(args: ast.arguments) -> list[ast.arg]:
    every = [*getattr(args, "posonlyargs", ()), *args.args, *args.kwonlyargs]
    if args.vararg:
        every.append(args.vararg)
    if args.kwarg:
        every.append(args.kwarg)
    return every


def _handler_names(handler: ast.ExceptHandler) -> set[str] | None:
    """Exception class names a handler catches; None for a bare ``except:``."""
    if handler.type is None:
        return None
    nodes = handler.type.elts if type(handler.type) is ast.Tuple else [handler.type]
    out = set()
    for node in nodes:
        if type(node) is ast.Name:
            out.add(node.id)
        elif type(node) is ast.Attribute:
            out.add(node.attr)
    return out


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


def _tests_existence(tests: Sequence[ast.expr]) -> bool:
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


def _dynamic_import(node: ast.Call) -> str | None:
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


def _noreturn_functions(tree: ast.Module, module: ModuleScope) -> frozenset[str]:
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


def _surely_loaded(body: list[ast.stmt]) -> set[str]:
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


def _is_namespace_call(node: ast.AST) -> bool:
    """``globals()`` / ``vars()`` / ``locals()`` with no arguments."""
    return (type(node) is ast.Call and type(node.func) is ast.Name  # type: ignore[attr-defined]
            and node.func.id in ("globals", "vars") and not node.args)  # type: ignore[attr-defined]


def _is_module_object(node: ast.AST) -> bool:
    """``sys.modules[__name__]``."""
    return (type(node) is ast.Subscript and type(node.value) is ast.Attribute  # type: ignore[attr-defined]
            and node.value.attr == "modules"  # type: ignore[attr-defined]
            and type(node.slice) is ast.Name and node.slice.id == "__name__")  # type: ignore[attr-defined]


def _is_module_dict(node: ast.AST) -> bool:
    """``sys.modules[__name__].__dict__`` or ``sys.modules[__name__]``."""
    if type(node) is ast.Attribute and node.attr == "__dict__":  # type: ignore[attr-defined]
        return _is_module_object(node.value)  # type: ignore[attr-defined]
    return _is_module_object(node)


def _related(path: str, bindings: list[Binding], note: str | None = None,
             with_scope: bool = False) -> list[Location]:
    out = []
    imports = [b for b in bindings if b.is_import] + [b for b in bindings if not b.is_import]
    for binding in imports[:5]:
        verb = "imported here" if binding.is_import else "bound here"
        if with_scope:
            verb += f", in {binding.scope.display()}"
        elif note:
            verb += f", {note}"
        out.append(Location(path=path, line=binding.line, col=binding.col, message=verb,
                            end_line=getattr(binding.node, "end_lineno", None),
                            end_col=(binding.node.end_col_offset + 1  # type: ignore[attr-defined]
                                     if getattr(binding.node, "end_col_offset", None)
                                     is not None else None)))
    return out


def block_bound_names(body: list[ast.stmt]) -> set[str]:
    """Names the statements of a block bind (not looking into nested definitions' bodies)."""
    facts = FileFacts()
    scanner = StatementScanner(facts)
    scope = ModuleScope(None, "<block>", None)
    scanner.block(body, scope)
    return set(scope.bindings)


def _static_all(body: list[ast.stmt]) -> list[tuple[str, int, int]] | None:
    """The names ``__all__`` lists at module level, or None when it is not static."""
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


# ---------------------------------------------------------------------------------------------
# public entry points


def analyze_tree(tree: ast.Module, text: str, path: str, package: str | None = None,
                 is_init: bool = False) -> FileReport:
    """Analyse a parsed module; ``package`` resolves relative imports (PM109 only)."""
    analyzer = Analyzer(path, tree, text, package, is_init)
    try:
        return analyzer.run()
    finally:
        analyzer.release()


def analyze_text(text: str, path: str = "<string>", package: str | None = None) -> FileReport:
    """Parse and analyse source text (raises SyntaxError / RecursionError like ``ast.parse``)."""
    tree = ast.parse(text, filename=path)
    return analyze_tree(tree, text, path, package, is_init=path.endswith("__init__.py"))


def analyze_source(source: SourceFile, package: str | None = None) -> FileReport:
    """Analyse one decoded file (see :func:`analyze_text`)."""
    return analyze_text(source.text, source.path, package)
