"""Does an ``except`` handler let a failed file operation pass silently?  (The facts of PM210.)

The founding orchestrator copied CLAUDE.md into every agent's worktree inside
``try: ... except Exception as e: print(f"Warning: ...")``: each copy failed, each failure became
a printed line, and the run ended with status 0.  Given the chain of nodes from the module down to
a read, copy or move of a path, :func:`swallowing_handler` finds the handler that catches its
failure and says what that handler does instead of failing -- or ``None`` when the failure
surfaces: the handler re-raises or raises another error, exits non-zero, returns a value the
caller can tell from success, records the failure in a variable the function tests later, or
does anything else (a recovery such as writing the file from a template).  Precision first:
a statement whose effect is not known to be silent counts as handling the failure.
"""

from __future__ import annotations

import ast
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache

from premerge.records import FrozenRecord, frozen_init

#: What a failed file operation can raise, as far as handlers go (OSError's subclasses one by
#: one, so ``except FileNotFoundError: raise`` before ``except OSError: pass`` is understood).
_NOT_FOUND, _PERMISSION, _IS_DIR, _NOT_DIR, _OS_OTHER, _SHUTIL = (
    "FileNotFoundError", "PermissionError", "IsADirectoryError", "NotADirectoryError",
    "OSError", "shutil.Error")
FILE_FAILURES = frozenset({_NOT_FOUND, _PERMISSION, _IS_DIR, _NOT_DIR, _OS_OTHER, _SHUTIL})
#: a different error the handler raises; SystemExit (only bare except / BaseException catch it)
_OTHER, _EXIT = "other", "SystemExit"

_OS_ERRORS = FILE_FAILURES  # OSError catches shutil.Error too: class Error(OSError)
_CAUGHT_BY: dict[str, frozenset[str]] = {
    "BaseException": FILE_FAILURES | {_OTHER, _EXIT},
    "Exception": FILE_FAILURES | {_OTHER},
    "OSError": _OS_ERRORS, "IOError": _OS_ERRORS, "EnvironmentError": _OS_ERRORS,
    "os.error": _OS_ERRORS, "WindowsError": _OS_ERRORS,
    "FileNotFoundError": frozenset({_NOT_FOUND}),
    "PermissionError": frozenset({_PERMISSION}),
    "IsADirectoryError": frozenset({_IS_DIR}),
    "NotADirectoryError": frozenset({_NOT_DIR}),
    "shutil.Error": frozenset({_SHUTIL}),
}
_EXIT_FUNCS = frozenset({"sys.exit", "builtins.exit", "builtins.quit", "os._exit"})
#: method calls that record a failure in a container (``failed.append(role)``)
_RECORDING_METHODS = frozenset({"append", "add", "extend", "update", "insert", "appendleft",
                                "setdefault", "put", "put_nowait", "__setitem__"})
_LOGGER_LEVELS = {"debug": "logs a message", "info": "logs a message", "log": "logs a message",
                  "warning": "logs a warning", "warn": "logs a warning",
                  "error": "logs an error", "exception": "logs an error",
                  "critical": "logs an error", "fatal": "logs an error"}
_PRINTERS = frozenset({"print", "echo", "secho", "pprint"})
_HELPER_WORDS = frozenset({"log", "logger", "warn", "warning", "print", "echo", "debug",
                           "info", "notify"})
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
_LOOPS = (ast.For, ast.AsyncFor, ast.While)

#: endings, from the weakest to the one the message names first
_FALLS_THROUGH, _CONTINUES, _BREAKS, _RETURNS, _EXITS_ZERO = range(5)


#: resolves a callee or exception class expression to a dotted name (``os.path.join``)
Qualname = Callable[[ast.expr], "str | None"]


class Trace(FrozenRecord):
    """Where a failure goes in the function it happens in."""

    __slots__ = _fields = ("handler", "behaviour", "escaping")
    handler: ast.ExceptHandler | ast.stmt | None  # the handler that swallows it
    behaviour: str  # what that handler does instead ("only prints a warning and ...")
    escaping: frozenset[str]  # what leaves the function, to its callers (see FILE_FAILURES)

    def __init__(self, handler: ast.ExceptHandler | ast.stmt | None, behaviour: str,
                 escaping: frozenset[str]) -> None:
        frozen_init(self, handler, behaviour, escaping)


def swallowing_handler(stack: Sequence[ast.AST], qualname: Qualname
                       ) -> tuple[ast.ExceptHandler | ast.stmt, str] | None:
    """The handler that lets a failure of the operation at ``stack[-1]`` pass silently, with
    what it does instead ("only prints a warning and the loop goes on"); None when the
    failure surfaces in this function or no handler catches it."""
    trace = trace_failure(stack, qualname)
    return (trace.handler, trace.behaviour) if trace.handler is not None else None


def trace_failure(stack: Sequence[ast.AST], qualname: Qualname,
                  failures: frozenset[str] = FILE_FAILURES) -> Trace:
    """Follow ``failures`` raised at ``stack[-1]`` out through the enclosing handlers.

    Enclosing ``try`` statements (and ``with contextlib.suppress(...)`` blocks, handlers that
    do nothing) are tried from the innermost out, within the innermost function: a handler
    that re-raises hands the failure to the next one out, and what no handler stops escapes
    to the function's callers."""
    scope_index = max((i for i, node in enumerate(stack) if isinstance(node, _SCOPES)),
                      default=0)
    scope = stack[scope_index]
    if isinstance(scope, (ast.Lambda, ast.ClassDef)):
        return Trace(None, "", frozenset())
    pending = failures
    for index in range(len(stack) - 2, scope_index, -1):
        node, child = stack[index], stack[index + 1]
        if isinstance(node, (ast.With, ast.AsyncWith)) and _contains(node.body, child):
            if any(_suppressed(item.context_expr, qualname) & pending for item in node.items):
                goes_on = "the loop goes on" if _in_a_loop(stack[scope_index + 1:index + 1]) \
                    else "execution goes on"
                return Trace(node, f"suppresses it (contextlib.suppress) and {goes_on}",
                             frozenset())
            continue
        if not isinstance(node, ast.Try) or not _contains(node.body, child):
            continue
        raised: set[str] = set()
        remaining = set(pending)
        silent: list[tuple[ast.ExceptHandler, str, frozenset[str]]] = []
        for handler in node.handlers:
            caught = _caught(handler.type, qualname) & remaining
            if not caught:
                continue
            remaining -= caught
            verdict = _Verdict(handler, node, scope, stack[0], stack[scope_index + 1:index],
                               qualname)
            if verdict.raises is not None:
                raised |= caught if verdict.reraises else verdict.raises
            elif verdict.silent:
                silent.append((handler, verdict.behaviour, caught))
        if silent:  # the one a missing file reaches, else the first
            handler, behaviour, _ = next((s for s in silent if _NOT_FOUND in s[2]), silent[0])
            return Trace(handler, behaviour, frozenset())
        pending = frozenset(remaining | raised)
        if not pending:
            break
    return Trace(None, "", pending)


def _suppressed(context: ast.expr, qualname: Qualname) -> frozenset[str]:
    """The failures ``contextlib.suppress(...)`` swallows (nothing for other managers)."""
    if not isinstance(context, ast.Call) or qualname(context.func) != "contextlib.suppress":
        return frozenset()
    found: frozenset[str] = frozenset()
    for arg in context.args:
        found |= _caught(arg, qualname)
    return found


def _in_a_loop(chain: Sequence[ast.AST]) -> bool:
    """The last node of ``chain`` runs once per iteration of a loop in ``chain``."""
    return any(isinstance(node, _LOOPS) and _contains(node.body, chain[i + 1])
               for i, node in enumerate(chain[:-1]))


def _contains(body: Sequence[ast.stmt], node: ast.AST) -> bool:
    return any(statement is node for statement in body)


def _caught(kind: ast.expr | None, qualname: Qualname) -> frozenset[str]:
    """The failures an ``except`` clause's type catches (bare: everything)."""
    if kind is None:
        return _CAUGHT_BY["BaseException"]
    if isinstance(kind, ast.Tuple):
        found: frozenset[str] = frozenset()
        for item in kind.elts:
            found |= _caught(item, qualname)
        return found
    name = qualname(kind) or ""
    name = name.removeprefix("builtins.")
    if name in _CAUGHT_BY:
        return _CAUGHT_BY[name]
    if isinstance(kind, ast.Attribute) and kind.attr == "Error" and name.endswith("shutil.Error"):
        return _CAUGHT_BY["shutil.Error"]
    return frozenset()


def _walk_scope(nodes: Iterable[ast.AST]) -> Iterable[ast.AST]:
    """Every node below ``nodes`` that runs in the same function (nested defs left out)."""
    todo = list(nodes)
    while todo:
        node = todo.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if not isinstance(child, _SCOPES):
                todo.append(child)


class _Verdict:
    """What one handler does with the failure it catches.

    ``raises``: the failures it passes on (``reraises``: the caught ones themselves);
    ``silent``: it only logs, prints, warns, passes, continues, or returns/exits as if the
    operation had succeeded, described by ``behaviour``.  Neither: it handles the failure.
    """

    def __init__(self, handler: ast.ExceptHandler, try_node: ast.Try, scope: ast.AST,
                 module: ast.AST, between: Sequence[ast.AST], qualname: Qualname) -> None:
        self.handler = handler
        self.try_node = try_node
        self.scope = scope
        self.module = module
        self.qualname = qualname
        self.in_loop = _in_a_loop([*between, try_node])
        self.raises: set[str] | None = None
        self.reraises = False
        self.silent = False
        self.behaviour = ""
        self.acts: list[str] = []
        self.ending = _FALLS_THROUGH
        self._judge()

    # the verdict -------------------------------------------------------------------------

    def _judge(self) -> None:
        for node in _walk_scope(self.handler.body):
            if isinstance(node, ast.Raise):
                self._raise(node)
        if self.raises is not None:
            return
        if self._success_flag():
            return
        if all(self._quiet(statement) for statement in self.handler.body):
            self.silent = True
            self.behaviour = self._describe()

    def _raise(self, node: ast.Raise) -> None:
        exc = node.exc
        if exc is None or (isinstance(exc, ast.Name) and exc.id == self.handler.name):
            self.reraises = True
            self.raises = set()
            return
        call = exc if isinstance(exc, ast.Call) else None
        name = (self.qualname(call.func if call else exc) or "").removeprefix("builtins.")
        if name == "SystemExit":
            if call is None or _zero_status(call.args):
                self.ending = max(self.ending, _EXITS_ZERO)  # SystemExit(0): a quiet success
                return
            self.raises = (self.raises or set()) | {_EXIT}
            return
        self.raises = (self.raises or set()) | {_OTHER}

    def _success_flag(self) -> bool:
        """``ok = True`` after the operation in the try body, tested later: the failure is
        recorded by the flag's staying false."""
        for statement in self.try_node.body:
            if isinstance(statement, ast.Assign) and isinstance(statement.value, ast.Constant) \
                    and isinstance(statement.value.value, bool):
                names = [t.id for t in statement.targets if isinstance(t, ast.Name)]
                if any(_read_outside(name, self.scope, self.try_node) for name in names):
                    return True
        return False

    def _quiet(self, statement: ast.stmt) -> bool:
        """The statement neither surfaces nor handles the failure."""
        if isinstance(statement, (ast.Pass, ast.Global, ast.Nonlocal, ast.Delete, ast.Import,
                                  ast.ImportFrom)):
            return True
        if isinstance(statement, ast.Continue):
            self.ending = max(self.ending, _CONTINUES)
            return True
        if isinstance(statement, ast.Break):
            self.ending = max(self.ending, _BREAKS)
            return True
        if isinstance(statement, ast.Raise):
            return True  # SystemExit(0), judged by _raise
        if isinstance(statement, ast.Expr):
            value = statement.value
            if isinstance(value, ast.Constant):
                return True
            return isinstance(value, ast.Call) and self._quiet_call(value)
        if isinstance(statement, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = statement.targets if isinstance(statement, ast.Assign) else [
                statement.target]
            return all(self._dead_store(target) for target in targets)
        if isinstance(statement, ast.Return):
            return self._quiet_return(statement)
        if isinstance(statement, ast.If):
            return all(self._quiet(s) for s in (*statement.body, *statement.orelse))
        if isinstance(statement, (ast.With, ast.AsyncWith, ast.For, ast.AsyncFor, ast.While)):
            return all(self._quiet(s) for s in statement.body) and \
                all(self._quiet(s) for s in getattr(statement, "orelse", ()))
        if isinstance(statement, ast.Try):
            return all(self._quiet(s) for s in (*statement.body, *statement.orelse,
                                                  *statement.finalbody)) and \
                all(self._quiet(s) for h in statement.handlers for s in h.body)
        return False

    def _quiet_call(self, call: ast.Call) -> bool:
        func = call.func
        name = (self.qualname(func) or "").removeprefix("builtins.")
        if name in _EXIT_FUNCS or name in ("exit", "quit"):
            if not _zero_status(call.args):
                return False  # exits non-zero: the failure surfaces
            self.ending = max(self.ending, _EXITS_ZERO)
            return True
        act = self._logging_act(func, name)
        if act is not None:
            self.acts.append(act)
            return True
        if isinstance(func, ast.Attribute) and func.attr in _RECORDING_METHODS:
            return self._dead_store(func.value)
        return False

    def _logging_act(self, func: ast.expr, name: str) -> str | None:
        """What a call that only reports does ("prints a warning"), or None."""
        if name in ("print", "pprint.pprint"):
            return "prints a warning"
        if name == "warnings.warn":
            return "issues a warning"
        if name in ("traceback.print_exc", "traceback.print_exception"):
            return "prints the traceback"
        if name in ("sys.stderr.write", "sys.stdout.write"):
            return "prints a warning"
        if isinstance(func, ast.Attribute):
            receiver = _last_name(func.value).lower()
            if func.attr in _PRINTERS:
                return "prints a warning"
            level = _LOGGER_LEVELS.get(func.attr)
            if level is not None and ("log" in receiver or func.attr in ("warning", "warn")):
                return level
            return None
        if isinstance(func, ast.Name) and not name.startswith(("sys.", "os.")) \
                and _words(func.id) & _HELPER_WORDS and not self._helper_surfaces(func.id):
            return f"calls {func.id}()"
        return None

    def _helper_surfaces(self, name: str) -> bool:
        """A function defined in this module that raises or exits: calling it surfaces."""
        for node in getattr(self.module, "body", ()):
            if isinstance(node, _FUNCTIONS) and node.name == name:
                return any(isinstance(n, ast.Raise) or (
                    isinstance(n, ast.Call) and (self.qualname(n.func) or "").removeprefix(
                        "builtins.") in _EXIT_FUNCS | {"exit", "quit"})
                    for n in _walk_scope(node.body))
        return False

    def _dead_store(self, target: ast.expr) -> bool:
        """A store the rest of the function never reads: ``msg = f"..."`` only to print it.
        Stores into parameters, globals or attributes may be seen elsewhere: not dead."""
        if isinstance(target, (ast.Tuple, ast.List)):
            return all(self._dead_store(item) for item in target.elts)
        if isinstance(target, (ast.Subscript, ast.Starred)):
            return self._dead_store(target.value)
        if not isinstance(target, ast.Name):
            return False
        if target.id == self.handler.name:
            return True
        if not self._is_local(target.id):
            return False
        return not _read_outside(target.id, self.scope, self.handler)

    def _quiet_return(self, statement: ast.Return) -> bool:
        """A return the caller cannot tell from the success path's: the same constant (a bare
        ``return`` where success falls off the end, or returns None too)."""
        if not isinstance(self.scope, _FUNCTIONS):
            return False
        failure = statement.value
        if failure is not None and not isinstance(failure, ast.Constant):
            return False  # a computed value: a fallback, or an error object
        failed = None if failure is None else failure.value
        successes = [node.value for node in _function_facts(self.scope)[0]
                     if not _inside(node, self.handler)]
        for value in successes or [None]:
            if value is not None and not isinstance(value, ast.Constant):
                return False
            success = None if value is None else value.value
            if type(success) is not type(failed) or success != failed:
                return False  # `return False` beside `return True` (or beside None)
        self.ending = max(self.ending, _RETURNS)
        return True

    # names -------------------------------------------------------------------------------

    def _is_local(self, name: str) -> bool:
        scope = self.scope
        if not isinstance(scope, _FUNCTIONS):
            return True  # module level: the module is the scope that reads it later
        args = scope.args
        params = {a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs,
                                  args.vararg, args.kwarg) if a is not None}
        if name in params:
            return False
        return name not in _function_facts(scope)[1]

    # the message -------------------------------------------------------------------------

    def _describe(self) -> str:
        acts = list(dict.fromkeys(self.acts))
        what = "only " + " and ".join(acts) + " and " if acts else ""
        if self.ending == _EXITS_ZERO:
            return f"{what}exits with status 0"
        if self.ending == _RETURNS:
            return f"{what}returns as if it had succeeded"
        if self.ending == _BREAKS:
            return f"{what}leaves the loop"
        what = what or "does nothing and "
        return f"{what}the loop goes on" if self.in_loop else f"{what}execution goes on"


def _inside(node: ast.AST, container: ast.AST) -> bool:
    first, last = getattr(container, "lineno", 0), getattr(container, "end_lineno", 0)
    line = getattr(node, "lineno", -1)
    return first <= line <= last


def _read_outside(name: str, scope: ast.AST, part: ast.AST) -> bool:
    """``scope`` (nested functions included: a closure reads it too) reads ``name`` outside
    ``part``.  Counted once per scope, so judging many handlers in one big function or module
    stays linear."""
    return _reads(scope)[name] > _reads(part)[name]


@lru_cache(maxsize=64)
def _function_facts(function: ast.AST) -> tuple[list[ast.Return], frozenset[str]]:
    """A function's own returns, and the names it declares global or nonlocal."""
    returns: list[ast.Return] = []
    declared: set[str] = set()
    for node in _walk_scope(getattr(function, "body", ())):
        if isinstance(node, ast.Return):
            returns.append(node)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            declared.update(node.names)
    return returns, frozenset(declared)


@lru_cache(maxsize=64)
def _reads(node: ast.AST) -> Counter[str]:
    """How many times each name is read below ``node``."""
    return Counter(n.id for n in ast.walk(node)
                   if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load))


def _zero_status(args: Sequence[ast.expr]) -> bool:
    """``exit()``, ``exit(0)``, ``exit(None)``, ``exit(False)``: a successful exit status."""
    if not args:
        return True
    first = args[0]
    return isinstance(first, ast.Constant) and first.value in (None, 0, False) and \
        not isinstance(first.value, str)


def _last_name(node: ast.expr) -> str:
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Call):
        return _last_name(node.func)  # logging.getLogger(__name__).warning(...)
    return ""


def _words(name: str) -> set[str]:
    """``warn_user`` -> {warn, user}; ``logWarning`` -> {log, warning}."""
    spaced = "".join(f"_{ch.lower()}" if ch.isupper() else ch for ch in name)
    return {word for word in spaced.split("_") if word}
