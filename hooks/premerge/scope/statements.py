"""Statement handlers: how each kind of statement moves the flow state (``s_if`` joins its
branches, ``s_try`` starts handlers from every state its body went through, loops run to a fixed
point, ``def`` queues the body to run later).  :class:`StatementHandlers` is one part of
:class:`premerge.scope.analyzer.Analyzer`; ``HANDLERS`` maps a node class to its handler.
"""

from __future__ import annotations

import ast
import re

from premerge.imports import is_main_guard
from premerge.scope.bindings import (
    ClassScope,
    FunctionScope,
    ModuleScope,
    ScopeFacts,
    StatementScanner,
    is_type_checking,
    pattern_names,
    static_truth,
    target_names,
)
from premerge.scope.dynamic import is_module_dict, is_namespace_call
from premerge.scope.flow import (
    BOUND,
    BRANCH,
    DELETED,
    MAIN,
    OPTIONAL,
    PLANNED,
    PLATFORM,
    TYPE_CHECKING,
    UNBOUND,
    State,
    join,
    volatile_bits,
)
from premerge.scope.frames import Frame, LoopExits, TryBody
from premerge.scope.guards import platform_key, surely_loaded

#: (``TYPE_CHECKING`` here is flow's cause bit) typing is imported for type checkers only:
#: ~3 ms of start-up where nothing else loads it
TYPING_ONLY = False
if TYPING_ONLY:
    from typing import Any

    from premerge.scope.flow import TestKey
    from premerge.scope.frames import Deferred

#: handlers that name the failure itself: the code expects the name may be missing.  A broad
#: ``except Exception`` (or ``BaseException``, or bare ``except``) catches the NameError too,
#: but hides a bug rather than handling it: no guard (the message names the handler), and
#: smoke's runtime check confirms such loads (``guarded_loads`` leaves them out).  Likewise
#: only ``AttributeError`` handles a submodule attribute that may be missing (PM109).
_CATCHES_NAME = {"NameError", "UnboundLocalError"}
_BROAD = {"Exception", "BaseException"}
_CATCHES_IMPORT = {"ImportError", "ModuleNotFoundError", "Exception", "BaseException"}
_CATCHES_ATTRIBUTE = {"AttributeError"}
_EXIT_CALLS = {("sys", "exit"), ("os", "_exit"), ("os", "abort"), (None, "exit"),
               (None, "quit"), (None, "skip"), (None, "fail"), (None, "raise_from"),
               (None, "reraise")}
#: imported functions that never return (pytest's skip/fail, six's and future's raise helpers)
_IMPORTED_EXITS = {"skip", "fail", "raise_from", "reraise"}
#: methods that never return (pytest.skip/fail/xfail/exit, unittest's self.skipTest/fail,
#: six.raise_from/reraise)
_EXIT_METHODS = {"skip", "fail", "xfail", "skipTest", "exit", "_exit", "abort", "raise_from",
                 "reraise"}
_Call, _Subscript, _Attribute = ast.Call, ast.Subscript, ast.Attribute
_Name, _Store, _Constant, _AST = ast.Name, ast.Store, ast.Constant, ast.AST
_Compare, _BoolOp, _UnaryOp = ast.Compare, ast.BoolOp, ast.UnaryOp
#: a handler that calls one of these reports the error it caught, and goes on (a pattern re
#: compiles and caches at its first use: compiling it on import cost every run ~0.3 ms)
_LOGGING = r"(?i)log|warn|print|error|exception|debug|info|echo|write"


class StatementHandlers:
    """The analyzer's part that walks statements, one ``s_<node>`` handler per kind."""

    def block(self, body: list[ast.stmt]) -> None:
        module_level = self.frame is self.module_frame
        if module_level and self.block_defs:
            self.block_defs.append([])
        dispatch = HANDLERS
        for stmt in body:
            if self.frame.state is None:
                break
            handler = dispatch.get(type(stmt))
            if handler is not None:
                handler(self, stmt)
            else:
                self.generic_stmt(stmt)
            if self.try_bodies:
                try_body = self.try_bodies[-1]
                if try_body.frame is self.frame and self.frame.state is not None:
                    try_body.seen = join([try_body.seen, self.frame.state])
        if module_level and len(self.block_defs) > 1:
            inner = self.block_defs.pop()
            self._close_block_list(inner, self.frame.state)
            self.block_defs[-1].extend(inner)

    def guarded_block(self, body: list[ast.stmt], entry: State) -> State:
        """Walk a try body; return the join of every state in it (where a handler starts)."""
        try_body = TryBody(self.frame, entry.copy())
        self.try_bodies.append(try_body)
        self.block(body)
        self.try_bodies.pop()
        seen = try_body.seen
        if self.try_bodies and self.try_bodies[-1].frame is self.frame:
            outer = self.try_bodies[-1]
            outer.seen = join([outer.seen, seen])
        return seen

    def _close_block_list(self, entries: list[Deferred], state: State | None) -> None:
        """Functions defined in a finished block remember what it had bound at its end."""
        if state is None:
            return
        for entry in entries:
            if entry.block_bits is None:
                entry.block_bits = volatile_bits(state, self.volatile)

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
                is_namespace_call(value) or is_module_dict(value)):
            self.dynamic.append(f"the module namespace is kept in a variable at line "
                                f"{node.lineno}")
        single = len(node.targets) == 1 and type(node.targets[0]) is ast.Name
        # a flag: True/False/None/0/1, or any constant given to a name already used as one on
        # this path (`error = None` ... `error = "logged"`); known before the store forgets it
        flag = single and kind is ast.Constant and self.state is not None and (
            value.value in (True, False, None, 0, 1)
            or ("name", node.targets[0].id) in self.state.consts)
        for target in node.targets:
            self.store_target(target)
        if single:
            if kind is ast.Constant:
                state = self.state
                name = node.targets[0].id
                if flag and state is not None:
                    state.know(("name", name), bool(value.value))
                    state.know(("none", name), value.value is None)
            elif self.frame is self.module_frame and (kind is _Compare or kind is _UnaryOp):
                key = platform_key(value)
                if key is not None:  # `_WINDOWS = os.name == "nt"`: the flag is that test
                    self.platform_flags[node.targets[0].id] = key

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
        if self.is_init and node.level == 1 and node.module and \
                self.frame is self.module_frame:
            # in a package's __init__, importing .sub binds `sub` in the package namespace
            self.store(node.module.split(".", 1)[0])
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
        if self.try_bodies and state is not None:
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
        main = frame is self.module_frame and is_main_guard(test)
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
        joined = join([body_exit, else_exit])
        if joined is not None and frame is self.module_frame and truth is None and \
                kind is not ast.Name and platform_key(test) is not None:
            self._mark_platform(joined, test, node)
        frame.state = joined

    def _mark_platform(self, state: State, test: ast.expr, node: ast.If) -> None:
        """Names one branch of a platform/version test binds and the other does not: bound
        only there (functions elsewhere see them unbound unless they repeat the test)."""
        text = ast.unparse(test)
        body, orelse = block_bound_names(node.body), block_bound_names(node.orelse)
        state.mark_cause(body | orelse, PLATFORM)
        for name in body - orelse:
            self.platform_cond.setdefault(name, (f"`{text}`", node.lineno))
        for name in orelse - body:
            self.platform_cond.setdefault(name, (f"`{text}` is false", node.lineno))

    def _branch(self, entry: State, test: ast.expr, truth: bool,
                body: list[ast.stmt]) -> State | None:
        """Run one branch of an ``if`` from ``entry`` where ``test`` had ``truth``: its exit."""
        frame = self.frame
        keys = None
        if entry.consts:
            keys = self.test_keys(test, truth)  # the branch assumes the same keys below
            if self._ruled_out(entry, keys):
                return None  # `error = "logged"` on every path here: `if not error:` never runs
        frame.state = entry.copy()
        self.assume(test, truth, keys)
        self.block(body)
        return frame.state

    def _ruled_out(self, state: State, keys: list[tuple[TestKey, bool]]) -> bool:
        """Whether what this path knows of the test's flags (its ``test_keys``) contradicts
        them (flags no function rebinds: a call cannot change them behind the flow's back)."""
        for key, value in keys:
            known = state.consts.get(key)
            if known is not None and known is not value and \
                    key[1] not in self.global_assigned and key[1] not in self.nonlocal_names:
                return True
        return False

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
        loop = LoopExits()
        end: State | None = None
        loaded: set[str] | None = None
        if truth is False:  # `while False:` never runs its body
            if node.orelse:
                self.block(node.orelse)
            return
        for _attempt in range(3):
            mark = self.mark()
            self.state = head.copy()
            if is_for:
                self.store_target(node.target)  # type: ignore[union-attr]
            elif truth is None:
                self.expr(node.test)  # type: ignore[union-attr]
            loop = LoopExits()
            self.loops.append(loop)
            self.block(node.body)
            self.loops.pop()
            end = join([self.state, *loop.continues])
            new_head = join([entry, end])
            if new_head is None or new_head.bits == head.bits:
                break
            if loaded is None:
                loaded = _loaded_names(node)
            hbits, nbits = head.bits, new_head.bits
            if not any(hbits.get(name) != value for name, value in nbits.items()
                       if name in loaded):
                break  # what changed is never read in the loop: another pass finds nothing
            self.reset(mark)
            head = new_head
        if truth is True:
            normal = None
        elif is_for and end is not None and \
                _nonempty_literal(node.iter):  # type: ignore[union-attr]
            normal = end  # `for name in ("a", "b"):` runs its body at least once
        else:
            normal = join([entry, end])
        if normal is not None and node.orelse:
            self.state = normal.copy()
            self.block(node.orelse)
            normal = self.state
        self.state = join([normal, *loop.breaks])

    def s_try(self, node: ast.Try) -> None:
        entry = self.state
        assert entry is not None
        names = [_handler_names(h) for h in node.handlers]
        guards_name = any(n is not None and n & _CATCHES_NAME for n in names)
        guards_attr = any(n is not None and n & _CATCHES_ATTRIBUTE for n in names)
        broad = None if guards_name else _swallowing_handler(node.handlers, names)
        self.name_guard += guards_name
        self.attr_guard += guards_attr
        if broad is not None:
            self.broad.append(broad)
        self.state = entry.copy()
        handler_entry = self.guarded_block(node.body, entry)
        self.name_guard -= guards_name
        self.attr_guard -= guards_attr
        if broad is not None:
            self.broad.pop()
        body_exit = self.state
        changed = [n for n, v in handler_entry.bits.items() if entry.bits.get(n, UNBOUND) != v]
        imported_in_body = self.facts.try_imports.get(node, ())
        exits: list[State | None] = []
        for handler, caught in zip(node.handlers, names):
            # a handler's exceptions are looked up only when one propagates, wherever the body
            # stopped (an import in it may have failed before binding); inside the handler the
            # names that lookup used are bound
            self.state = handler_entry.copy()
            if handler.type is not None:
                saved, self.handler_type_of = self.handler_type_of, node
                self.expr(handler.type)
                self.handler_type_of = saved
                state = self.state
                if state is not None:
                    bits = state.bits
                    for sub in ast.walk(handler.type):
                        if type(sub) is ast.Name and sub.id in bits:
                            bits[sub.id] = BOUND
            if handler.name:
                self.store(handler.name)
            self.block(handler.body)
            state = self.state
            if state is not None:
                if handler.name:  # Python deletes the name at the end of its handler
                    self.unbind(handler.name, DELETED)
                    self.handler_unbound[(id(self.frame.scope), handler.name)] = handler.lineno
                optional = caught is None or bool(caught & _CATCHES_IMPORT)
                opt_names = [n for n in changed if n in imported_in_body]
                if optional and opt_names:
                    planned = bool(block_bound_names(handler.body) - set(opt_names))
                    state.mark_cause(opt_names, OPTIONAL | (PLANNED if planned else 0))
                    for name in opt_names:
                        self.optional_handler.setdefault(name, handler.lineno)
                state.mark_cause(changed, BRANCH)
            exits.append(state)
        probes = [exit_ for exit_, caught in zip(exits, names)
                  if caught is None or caught & (_CATCHES_NAME | _BROAD)]
        if probes and body_exit is not None and all(exit_ is None for exit_ in probes):
            # `try: get_ipython` / `except NameError: return`: past the try, what the body
            # surely loaded exists
            for name in surely_loaded(node.body):
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
            frame = Frame("class", scope, seed, names, names, self.frame)
            outer = self.frame
            saved_try_bodies, saved_loops = self.try_bodies, self.loops
            self.try_bodies, self.loops = [], []
            self.frame = frame
            saved_deftime = self.deftime
            self.deftime = "a class body"
            self.block(node.body)
            self.deftime = saved_deftime
            self.frame = outer
            self.try_bodies, self.loops = saved_try_bodies, saved_loops
        self.store(node.name)


HANDLERS: dict[type, Any] = {
    ast.Expr: StatementHandlers.s_expr, ast.Assign: StatementHandlers.s_assign,
    ast.AugAssign: StatementHandlers.s_augassign, ast.AnnAssign: StatementHandlers.s_annassign,
    ast.Return: StatementHandlers.s_return, ast.Raise: StatementHandlers.s_raise, ast.Break: StatementHandlers.s_break,
    ast.Continue: StatementHandlers.s_continue, ast.Pass: StatementHandlers.s_pass, ast.Delete: StatementHandlers.s_delete,
    ast.Import: StatementHandlers.s_import, ast.ImportFrom: StatementHandlers.s_importfrom,
    ast.Assert: StatementHandlers.s_assert, ast.Global: StatementHandlers.s_global,
    ast.Nonlocal: StatementHandlers.s_global, ast.If: StatementHandlers.s_if, ast.For: StatementHandlers.s_loop,
    ast.AsyncFor: StatementHandlers.s_loop, ast.While: StatementHandlers.s_loop, ast.Try: StatementHandlers.s_try,
    ast.With: StatementHandlers.s_with, ast.AsyncWith: StatementHandlers.s_with,
    ast.FunctionDef: StatementHandlers.s_functiondef, ast.AsyncFunctionDef: StatementHandlers.s_functiondef,
    ast.ClassDef: StatementHandlers.s_classdef,
}
if hasattr(ast, "Match"):
    HANDLERS[ast.Match] = StatementHandlers.s_match
if hasattr(ast, "TryStar"):
    HANDLERS[ast.TryStar] = StatementHandlers.s_try
if hasattr(ast, "TypeAlias"):
    HANDLERS[ast.TypeAlias] = StatementHandlers.s_typealias


def _all_args(args: ast.arguments) -> list[ast.arg]:
    every = [*getattr(args, "posonlyargs", ()), *args.args, *args.kwonlyargs]
    if args.vararg:
        every.append(args.vararg)
    if args.kwarg:
        every.append(args.kwarg)
    return every


def _loaded_names(loop: ast.For | ast.AsyncFor | ast.While) -> set[str]:
    """Names the loop's test and body may read with the value they had at the loop's head
    (loads, ``x += 1``, ``del x``, before any unconditional assignment in the body): only a
    change to one of them at the head can make another pass report something new."""
    out: set[str] = set()
    assigned: set[str] = set()
    if type(loop) is ast.While:
        out.update(_reads(loop.test))  # type: ignore[union-attr]
    else:
        assigned.update(n.id for n in target_names(loop.target))  # type: ignore[union-attr]
    for stmt in loop.body:
        out.update(name for name in _reads(stmt) if name not in assigned)
        if type(stmt) is ast.Assign:
            for target in stmt.targets:  # type: ignore[attr-defined]
                assigned.update(n.id for n in target_names(target))
        elif type(stmt) is ast.AnnAssign and stmt.value is not None and \
                type(stmt.target) is ast.Name:  # type: ignore[attr-defined]
            assigned.add(stmt.target.id)  # type: ignore[attr-defined]
    return out


def _reads(node: ast.AST) -> list[str]:
    """Every name ``node`` or any node below it loads or deletes, and ``x`` of ``x += 1``.

    A loop that changed a name at its head walks its whole body with this: a stack, not
    ``ast.walk`` (whose generators cost more than the rest of the check), and no descent into
    names and constants, which have nothing below them to read."""
    out = []
    stack = [node]
    pop, push, extend = stack.pop, stack.append, stack.extend
    while stack:
        sub = pop()
        kind = type(sub)
        if kind is _Name:
            if type(sub.ctx) is not _Store:  # type: ignore[attr-defined]
                out.append(sub.id)  # type: ignore[attr-defined]
            continue
        if kind is _Constant:
            continue
        if kind is ast.AugAssign and type(sub.target) is _Name:  # type: ignore[attr-defined]
            out.append(sub.target.id)  # type: ignore[attr-defined]
        for field in sub._fields:
            value = getattr(sub, field, None)
            if type(value) is list:
                extend([item for item in value if isinstance(item, _AST)])
            elif isinstance(value, _AST):
                push(value)
    return out


def _nonempty_literal(node: ast.expr) -> bool:
    """``("a", "b")``, ``[1, 2]``, ``{"k": 1}``, ``"abc"``: an iterable with items."""
    kind = type(node)
    if kind is ast.Tuple or kind is ast.List or kind is ast.Set:
        return bool(node.elts) and not any(  # type: ignore[attr-defined]
            type(e) is ast.Starred for e in node.elts)  # type: ignore[attr-defined]
    if kind is ast.Dict:
        return bool(node.keys) and None not in node.keys  # type: ignore[attr-defined]
    return kind is ast.Constant and isinstance(node.value, (str, bytes)) and \
        bool(node.value)  # type: ignore[attr-defined]


def _swallowing_handler(handlers: list[ast.ExceptHandler],
                        names: list[set[str] | None]) -> tuple[str, int] | None:
    """The first broad handler (``except Exception``/``BaseException``/bare) that does not
    re-raise: (its label, line).  The label ends with " logged" when it logs or prints."""
    for handler, caught in zip(handlers, names):
        if caught is not None and not caught & _BROAD:
            continue
        if any(type(stmt) is ast.Raise for stmt in handler.body):
            continue  # the error propagates: nothing is hidden
        label = "a bare `except:`" if handler.type is None else \
            f"`except {ast.unparse(handler.type)}`"
        logs = any(type(sub) is ast.Call and
                   re.search(_LOGGING, ast.unparse(sub.func))  # type: ignore[attr-defined]
                   for stmt in handler.body for sub in ast.walk(stmt))
        return (label + (" logged" if logs else ""), handler.lineno)
    return None


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


def block_bound_names(body: list[ast.stmt]) -> set[str]:
    """Names the statements of a block bind (not looking into nested definitions' bodies)."""
    facts = ScopeFacts()
    scanner = StatementScanner(facts)
    scope = ModuleScope(None, "<block>", None)
    scanner.block(body, scope)
    return set(scope.bindings)
