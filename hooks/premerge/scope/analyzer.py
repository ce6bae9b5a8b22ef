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

This module is the driver: it sets up the frames, runs the module body and then the queued
function bodies, and builds the :class:`FileReport`.  :class:`Analyzer` is put together from one
part per idea, each in its own module of this package:

* ``statements`` - a handler per statement kind (how each moves the flow state);
* ``expressions`` - the expression walker and name resolution (the hot path);
* ``guards`` - what a branch's test proves (facts, names proved bound);
* ``dynamic`` - code that adds module names no statement shows;
* ``verdicts`` - a failing or unresolved load described for the rules (``messages``),
  which decide its finding;
* ``frames`` - the named records of the running state; ``file_report`` - the cache records;
  ``module_summary`` - whole-module facts computed once; ``premerge.builtin_names`` (shared
  with smoke) - what needs no binding.
"""

from __future__ import annotations

import ast

from premerge.scope.bindings import Argument, FunctionScope, ScopeFacts, StatementScanner
from premerge.scope.dynamic import DynamicNamespace
from premerge.scope.expressions import ExpressionWalker
from premerge.scope.file_report import FileReport
from premerge.scope.flow import (
    BOUND,
    DELETED,
    UNBOUND,
    State,
    fails_elsewhere,
    volatile_bits,
)
from premerge.scope.frames import Deferred, Frame, Mark
from premerge.scope.guards import GuardFacts
from premerge.scope.module_summary import (
    import_bound_modules,
    imported_modules,
    module_deletes,
    noreturn_functions,
    static_all,
)
from premerge.scope.statements import StatementHandlers
from premerge.scope.verdicts import Verdicts

#: typing is imported for type checkers only: ~3 ms of start-up where nothing else loads it
TYPING_ONLY = False
if TYPING_ONLY:
    from premerge.findings import Finding
    from premerge.scope.bindings import ClassScope
    from premerge.scope.file_report import SubmoduleUse
    from premerge.scope.frames import LoopExits, TryBody
    from premerge.sources import SourceFile


class Analyzer(StatementHandlers, ExpressionWalker, GuardFacts, DynamicNamespace, Verdicts):
    """One file's flow pass; its parts live in the modules this module's docstring names."""

    def __init__(self, path: str, tree: ast.Module, text: str, package: str | None,
                 is_init: bool) -> None:
        self.path = path
        self.tree = tree
        self.is_init = is_init
        facts = ScopeFacts()
        facts.package = package
        facts.has_walrus = ":=" in text
        facts.is_init = is_init
        StatementScanner(facts).scan_module(tree)
        self.facts = facts
        module = facts.module
        self.module = module
        self.global_assigned: set[str] = set()
        #: names some nested function rebinds through ``nonlocal``
        self.nonlocal_names: set[str] = set()
        for scope in facts.scopes.values():
            if getattr(scope, "nonlocals", None):
                self.nonlocal_names |= scope.nonlocals
            if isinstance(scope, FunctionScope) and scope.globals:
                self.global_assigned |= scope.globals & set(scope.bindings)
        self.module_names = set(module.bindings) | self.global_assigned | facts.type_params
        if is_init:
            self.module_names.add("__path__")
        # every name's paths are followed, not only imports' (issue 11)
        module_tracked = set(module.bindings) - self.global_assigned
        #: module names a function may see unbound (a binding in a branch, loop, try, under
        #: TYPE_CHECKING or __main__, an import, a del): what a def remembers of the module
        #: state; the rest are bound wherever a function can run
        self.volatile = set(facts.imports) | module_deletes(tree.body) | {
            name for name, bindings in module.bindings.items()
            if any(b.context or b.in_type_checking or b.in_main for b in bindings)}
        self.module_frame = Frame("module", module, State(), set(module.bindings),
                                  module_tracked, None)
        self.frame = self.module_frame
        self.findings: list[Finding] = []
        self.unresolved: list[tuple[str, ast.AST, Frame]] = []
        self.deferred: list[Deferred] = []
        self.block_defs: list[list[Deferred]] = []
        self.submodule_uses: dict[tuple[str, ...], SubmoduleUse] = {}
        self.module_imports = import_bound_modules(facts)
        self.loops: list[LoopExits] = []
        #: the try bodies being walked, innermost last (where their handlers start)
        self.try_bodies: list[TryBody] = []
        self.name_guard = 0
        self.attr_guard = 0
        #: broad handlers around the current try body, innermost last: (``except ...``, line)
        self.broad: list[tuple[str, int]] = []
        #: id(load node) -> the broad handler that would swallow its NameError
        self.swallowed: dict[int, tuple[str, int]] = {}
        #: name -> (the platform/version test it is bound under, line): for messages
        self.platform_cond: dict[str, tuple[str, int]] = {}
        #: module flags assigned a platform test (``_WINDOWS = os.name == "nt"``) -> its key
        self.platform_flags: dict[str, tuple[str, bool]] = {}
        #: (scope id, name) -> line of the ``except ... as name`` handler that unbound it
        self.handler_unbound: dict[tuple[int, str], int] = {}
        #: the try statement whose handler's exception expression is being evaluated
        self.handler_type_of: ast.AST | None = None
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
        self.noreturn = noreturn_functions(tree, module)
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
    def mark(self) -> Mark:
        return Mark(len(self.findings), len(self.unresolved), len(self.deferred),
                    len(self.block_defs[-1]) if self.block_defs else 0)

    def reset(self, mark: Mark) -> None:
        del self.findings[mark.findings:]
        del self.unresolved[mark.unresolved:]
        del self.deferred[mark.deferred:]
        if self.block_defs:
            del self.block_defs[-1][mark.block_defs:]

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
        self._close_block_list(self.block_defs.pop(), end)
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
        report.imported_modules = sorted(imported_modules(self.facts, self.dynamic_imports))
        report.missing_exports = self._missing_exports()
        report.injected_builtins = sorted(self.injected_builtins)
        report.guarded_loads = self.guarded_loads
        if self.star_modules:
            report.star_modules = self.star_modules
            report.star_pending = self.star_pending
            report.star_note = self.star_note
        return report

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
            entry.def_bits = volatile_bits(module_state, self.volatile)
            current = frame
            while current is not None and current.kind != "module":
                if current.kind == "class" and current.state is not None:
                    # a class state's names are mostly its methods: set difference, not a
                    # loop over them (a def per method made that quadratic in a class's size)
                    class_bits = current.state.bits
                    for name in class_bits.keys() - current.locals:
                        if class_bits[name] == BOUND:
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
            if helper and bits & DELETED and name not in self.facts.imports:
                continue  # a helper deleted at import runs only before its names are deleted
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
        tracked = locals_
        view = self._view(entry)
        bits = {n: v for n, v in view.items()
                if n not in locals_ and n not in entry.enclosing}
        state = State(bits, None, self.end_state.facts if self.end_state.facts else None)
        frame = Frame(scope.kind, scope, state, locals_, tracked, None)
        frame.enclosing = entry.enclosing
        frame.entry = entry
        frame.classes = entry.classes
        for name, bindings in scope.bindings.items():
            # arguments are bound at entry; a lambda's walrus target is local with no binding
            # record yet (its list is empty until the walrus runs)
            if bindings and type(bindings[0]) is Argument:
                state.bits[name] = BOUND
        self.frame = frame
        self.loops, self.try_bodies = [], []
        self.name_guard = self.attr_guard = 0
        self.broad = []
        self.deftime = ""
        if type(node) is ast.Lambda:
            self.expr(node.body)  # type: ignore[attr-defined]
        else:
            self.block(node.body)  # type: ignore[attr-defined]
        self.frame = self.module_frame

    # -- exports ----------------------------------------------------------------------------
    def _missing_exports(self) -> list[tuple[str, int, int]]:
        """Names a static ``__all__`` lists that the module does not bind (PM110 candidates)."""
        node = self.facts.all_node
        if node is None or self.module_getattr or self.dynamic:
            return []
        exported = static_all(self.tree.body, partial=True)
        if exported is None:
            return []
        missing = []
        for name, line, col in exported:
            if name not in self.module_names:
                missing.append((name, line, col))
        return missing


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
    from premerge.parsed import parse_text  # noqa: PLC0415 - scope's runs parse in __init__

    tree = parse_text(text, path)
    return analyze_tree(tree, text, path, package, is_init=path.endswith("__init__.py"))


def analyze_source(source: SourceFile, package: str | None = None) -> FileReport:
    """Analyse one decoded file (see :func:`analyze_text`)."""
    return analyze_text(source.text, source.path, package)
