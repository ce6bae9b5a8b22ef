"""PM1xx: import scoping.  One class per message; each names *why* the name is unbound here.

Severity policy: ``error`` when some ordinary path raises (a branch, a loop that may run zero
times, a method that is called, the module being imported) for a name an import binds, and for
any name no path binds; ``warning`` when the failure needs the environment to lack an optional
dependency, which the author planned for but did not guard against at this use (PM105), or
when a name bound by something other than an import is bound on some paths only (PM113).

Which rule a load becomes is decided here too, ruff-style: the analyzer describes a load that
fails on some path as a :class:`FailingLoad` (a name bound nowhere it is visible, once the file
is known, as an :class:`UnresolvedLoad`) and asks :func:`verdict`; each rule says whether it
:meth:`~LoadRule.applies` and builds its own finding, and :data:`FAILING_LOAD_RULES` /
:data:`UNRESOLVED_NAME_RULES` give the priority when several causes hold at once.
"""

from __future__ import annotations

from premerge.findings import Location, Rule, Severity
from premerge.records import Record
from premerge.scope.flow import BOUND, BRANCH, DELETED, MAIN, OPTIONAL, PLATFORM, TYPE_CHECKING

#: (``TYPE_CHECKING`` here is flow's cause bit) typing is imported for type checkers only:
#: ~3 ms of start-up where nothing else loads it
TYPING_ONLY = False
if TYPING_ONLY:
    import ast
    from typing import Any

    from premerge.findings import Finding
    from premerge.scope.bindings import Binding, ClassScope, Scope
    from premerge.scope.frames import Frame


class Load(Record):
    """What the PM1xx rules know about a load of a name (:class:`FailingLoad`,
    :class:`UnresolvedLoad`): its position is its node's."""

    __slots__ = ()
    node: ast.AST

    @property
    def line(self) -> int:
        return self.node.lineno  # type: ignore[attr-defined,no-any-return]

    @property
    def col(self) -> int:
        return self.node.col_offset + 1  # type: ignore[attr-defined,no-any-return]


class FailingLoad(Load):
    """A load of ``name`` that raises on some path (``bits``: flow's state of the name there),
    with the facts of the analyzer the rules judge it by.  Built once per failing load, never
    per load: most loads do not fail."""

    __slots__ = _fields = ("path", "name", "node", "bits", "frame", "running", "scope",
                           "bindings", "fields", "imported", "star_imports", "deleted",
                           "unbound_at", "optional_handler", "platform", "handler_try",
                           "definition_time")

    def __init__(self, path: str, name: str, node: ast.AST, bits: int, frame: Frame,
                 running: Frame, scope: Scope, bindings: list[Binding], fields: dict[str, Any],
                 imported: bool, star_imports: bool, deleted: int | None,
                 unbound_at: int | None, optional_handler: int | str,
                 platform: tuple[str, int] | None, handler_try: ast.AST | None,
                 definition_time: str) -> None:
        self.path = path
        self.name = name
        self.node = node
        self.bits = bits
        #: the frame the name resolves in, and the frame whose code runs the load
        self.frame = frame
        self.running = running
        #: the scope whose bindings of the name count here, and those bindings
        self.scope = scope
        self.bindings = bindings
        #: what every PM1xx finding carries besides its position (see ``verdicts``)
        self.fields = fields
        #: an import binds the name somewhere in the file; the file has a star import
        self.imported = imported
        self.star_imports = star_imports
        #: line of the ``del`` that deleted the name, of the ``except ... as`` handler that
        #: unbound it, of the handler that lets its optional import fail ("?" unknown)
        self.deleted = deleted
        self.unbound_at = unbound_at
        self.optional_handler = optional_handler
        #: the platform or version test the name is bound under, and its line
        self.platform = platform
        #: the try statement whose handler's exception expression makes the load
        self.handler_try = handler_try
        #: what is evaluated at definition time (a decorator, a default...), "" at run time
        self.definition_time = definition_time


class UnresolvedLoad(Load):
    """A load of ``name`` that nothing binds where it is visible, judged once the whole file is
    known (no dynamic namespace could define it)."""

    __slots__ = _fields = ("path", "name", "node", "fields", "imports", "classes", "bound")

    def __init__(self, path: str, name: str, node: ast.AST, fields: dict[str, Any],
                 imports: list[Binding], classes: tuple[ClassScope, ...], bound: bool) -> None:
        self.path = path
        self.name = name
        self.node = node
        self.fields = fields
        #: the name's imports anywhere in the file (in other scopes: not visible here)
        self.imports = imports
        #: the classes whose body the load's function is a method of
        self.classes = classes
        #: something binds the name somewhere in the file (not visible here, not an import)
        self.bound = bound


class LoadRule(Rule):
    """A PM1xx rule a load may become: it says whether it applies and builds its finding."""

    @classmethod
    def applies(cls, load: Any) -> bool:
        """Whether this rule explains the failure of ``load`` (a :class:`FailingLoad` or an
        :class:`UnresolvedLoad`, after the rules before it in its table did not)."""
        raise NotImplementedError

    @classmethod
    def finding(cls, load: Any) -> Finding | None:
        """The finding for ``load``; None when the code handles this failure after all."""
        raise NotImplementedError


class ImportedInOtherFunction(LoadRule):
    code = "PM101"
    title = "imported only inside another function"
    template = "'{name}' is not defined here: it is imported only inside {where}"
    help = ("The name is imported inside a different function or method, so it is a local "
            "variable there and does not exist here: this line raises NameError when it runs. "
            "Move the import to module level (or import it in this function too).")
    example = ("class Orchestrator:\n    def run(self):\n        from .brief import Briefing\n"
               "    def start(self):\n        return Briefing()   # NameError")
    fix_shape = "hoist"
    disproved_at_runtime = "global_load"

    @classmethod
    def applies(cls, load: UnresolvedLoad) -> bool:
        return bool(load.imports)

    @classmethod
    def finding(cls, load: UnresolvedLoad) -> Finding:
        scopes: list[str] = []
        for binding in load.imports:
            label = binding.scope.display()
            if label not in scopes:
                scopes.append(label)
        return cls.at(load.path, load.line, load.col, where=" and ".join(scopes),
                      related=_related(load.path, load.imports, None, with_scope=True),
                      **load.fields)


class ConditionallyBound(LoadRule):
    code = "PM102"
    title = "imported only on some paths"
    template = "'{name}' may be unbound here: {why}"
    help = ("The name is bound only on some paths that reach this line: inside an if/elif "
            "branch, a loop body that may run zero times, a try body whose handler falls "
            "through, or one match case. On the other paths this raises NameError (at module "
            "level) or UnboundLocalError (in a function, where one import anywhere makes the "
            "name local to the whole function). Import it unconditionally, or on every path.")
    example = ("import json\ndef dump(obj, pretty):\n    if pretty:\n        import json\n"
               "    return json.dumps(obj)   # UnboundLocalError when pretty is false")

    @classmethod
    def applies(cls, load: FailingLoad) -> bool:
        return bool(load.bits & PLATFORM and load.platform
                    or _import_in_handler_try(load) is not None
                    or load.bits & (BOUND | BRANCH))

    @classmethod
    def finding(cls, load: FailingLoad) -> Finding:
        first = _import_in_handler_try(load)
        if load.bits & PLATFORM and load.platform:
            why = _bound_under_platform_test("imported", load.platform)
        elif first is not None:
            why = (f"the handler looks it up when the try body raised, maybe before the import "
                   f"at line {first.line} bound it (or because that import failed)")
        else:
            why = _bound_on_some_paths(load.bindings, say_imported=True)
        return cls.at(load.path, load.line, load.col, related=_related(load.path, load.bindings),
                      why=why, **load.fields)


class UsedBeforeBound(LoadRule):
    code = "PM103"
    title = "used before it is bound, or after del"
    template = "'{name}' is unbound here: {why}"
    help = ("In this scope the name (an import, an assignment, any binding) is bound only "
            "after this line, or it was deleted before it (`del`, or the end of its "
            "`except ... as` handler): every path to this line raises NameError or "
            "UnboundLocalError. Bind it before the use (for an import too). Move the import "
            "above the use, or stop deleting the name.")
    example = "def f():\n    os.getcwd()   # UnboundLocalError\n    import os"
    disproved_at_runtime = "global_load"

    @classmethod
    def applies(cls, load: FailingLoad) -> bool:
        return True  # the last resort: the name is bound, but only later

    @classmethod
    def finding(cls, load: FailingLoad) -> Finding:
        line = load.line
        later = [b for b in load.bindings if b.line >= line] or load.bindings
        verb = "imported" if later and later[0].is_import else "bound"
        why = (f"it is {verb} only later in {load.scope.display()} (line {later[0].line})"
               if later else "it is not bound yet")
        return cls.at(load.path, line, load.col, related=_related(load.path, load.bindings),
                      why=why, **load.fields)


class UsedAfterDel(UsedBeforeBound):
    """PM103's other cause, which outranks every other: a ``del``, or the end of the
    ``except ... as`` handler that bound the name, unbound it (same code, registered once)."""

    @classmethod
    def applies(cls, load: FailingLoad) -> bool:
        return bool(load.bits & DELETED)

    @classmethod
    def finding(cls, load: FailingLoad) -> Finding:
        if load.unbound_at and not load.deleted:
            why = _unbound_by_handler(load.name, load.unbound_at)
        else:
            why = (f"it was deleted with `del` (line {load.deleted})" if load.deleted
                   else "it was deleted with `del`")
        return cls.at(load.path, load.line, load.col, related=_related(load.path, load.bindings),
                      why=why, **load.fields)


class TypeCheckingOnly(LoadRule):
    code = "PM104"
    title = "TYPE_CHECKING-only import used at runtime"
    template = ("'{name}' is imported only under `if TYPE_CHECKING:`, which never runs, but it "
                "is evaluated at runtime here")
    help = ("Imports under `if TYPE_CHECKING:` exist only for type checkers. This use is "
            "evaluated when the code runs (not a string annotation, not under `from __future__ "
            "import annotations`), so it raises NameError. Import it for real, quote the "
            "annotation, or add `from __future__ import annotations` when it is an annotation.")
    example = ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from decimal import "
               "Decimal\ndef half(x):\n    return Decimal(x) / 2   # NameError")
    fix_shape = "untype"
    disproved_at_runtime = "global_load"

    @classmethod
    def applies(cls, load: FailingLoad) -> bool:
        return bool(load.bits & TYPE_CHECKING)

    @classmethod
    def finding(cls, load: FailingLoad) -> Finding:
        typing_only = [b for b in load.bindings if b.in_type_checking]
        related = _related(load.path, typing_only, "under TYPE_CHECKING") + \
            _related(load.path, load.bindings)[len(typing_only):]
        return cls.at(load.path, load.line, load.col, related=related, **load.fields)


class OptionalImportUnguarded(LoadRule):
    code = "PM105"
    title = "optional import used unguarded"
    template = ("'{name}' may be unbound here: its import is optional (the handler at line "
                "{handler_line} lets the failure pass) and this use is not guarded")
    severity = Severity.WARNING
    help = ("The import sits in `try:` with an `except ImportError:` that neither binds the "
            "name, nor raises, nor exits. Where the dependency is missing this use raises "
            "NameError. Bind a fallback in the handler (`x = None`) and test it, or guard the "
            "use with a flag set in the same try/except.")
    example = ("try:\n    import yaml\nexcept ImportError:\n    pass\ndef load(text):\n"
               "    return yaml.safe_load(text)   # NameError without PyYAML")
    group_by = ("handler_line",)
    group_in_file = True
    group_template = ("{names} may be unbound: imported in one optional `try` block (the handler "
                      "at line {handler_line} lets the failure pass) and used unguarded {uses} "
                      "times")
    member_template = "'{name}' used here"

    @classmethod
    def applies(cls, load: FailingLoad) -> bool:
        return bool(load.bits & OPTIONAL)

    @classmethod
    def finding(cls, load: FailingLoad) -> Finding | None:
        if load.star_imports:
            return None  # the optional import overrides what a star import bound (ntpath's islink)
        return cls.at(load.path, load.line, load.col, related=_related(load.path, load.bindings),
                      handler_line=load.optional_handler, **load.fields)


class MainBlockOnly(LoadRule):
    code = "PM106"
    title = "bound only under if __name__ == '__main__'"
    template = ("'{name}' is bound only under `if __name__ == \"__main__\":`, so it is unbound "
                "here whenever the module is imported rather than run")
    help = ("The name is bound at module level only inside the `__main__` block. Functions and "
            "classes of the module see it only when the file runs as a script; imported (by a "
            "test, a console-script entry point, another module) they raise NameError. Move "
            "the import above the block.")
    example = ("def main():\n    return argparse.ArgumentParser()   # NameError when imported\n"
               "if __name__ == '__main__':\n    import argparse\n    main()")
    fix_shape = "hoist"
    disproved_at_runtime = "global_load"

    @classmethod
    def applies(cls, load: FailingLoad) -> bool:
        return bool(load.bits & MAIN)

    @classmethod
    def finding(cls, load: FailingLoad) -> Finding:
        main = [b for b in load.bindings if b.in_main]
        return cls.at(load.path, load.line, load.col,
                      related=_related(load.path, main, "under __main__"), **load.fields)


class ClassBodyImport(LoadRule):
    code = "PM107"
    title = "class-body import used in a method"
    template = ("'{name}' is imported in the body of class {owner}, which its methods cannot see")
    help = ("A class body is not an enclosing scope for its methods: names bound there are "
            "class attributes, reachable only as `self.<name>` or `<Class>.<name>`. The bare name "
            "raises NameError when the method runs. Import it at module level.")
    example = ("class Loader:\n    import json\n    def load(self, text):\n"
               "        return json.loads(text)   # NameError")
    disproved_at_runtime = "global_load"

    @classmethod
    def applies(cls, load: UnresolvedLoad) -> bool:
        return any(b.scope in load.classes for b in load.imports)

    @classmethod
    def finding(cls, load: UnresolvedLoad) -> Finding:
        in_class = [b for b in load.imports if b.scope in load.classes]
        return cls.at(load.path, load.line, load.col, owner=in_class[0].scope.qualname,
                      related=_related(load.path, in_class, None, with_scope=True),
                      **load.fields)


class DefinitionTimeUnbound(LoadRule):
    code = "PM108"
    title = "evaluated at definition time before it is bound"
    template = "'{name}' is evaluated here, at definition time ({what}), before it is bound"
    help = ("Decorators, default values, class bases and keywords, class bodies and (without "
            "`from __future__ import annotations`) annotations are evaluated when the `def` or "
            "`class` statement runs, not when it is called. The name is bound only later, so "
            "the definition itself raises NameError. Move the import above the definition.")
    example = "def f(x: Path) -> None:   # NameError while defining f\n    ...\nfrom pathlib import Path"
    disproved_at_runtime = "global_load"

    @classmethod
    def applies(cls, load: FailingLoad) -> bool:
        return bool(load.definition_time) and (load.frame is not load.running
                                               or load.frame.kind != "function")

    @classmethod
    def finding(cls, load: FailingLoad) -> Finding:
        return cls.at(load.path, load.line, load.col, related=_related(load.path, load.bindings),
                      what=load.definition_time, **load.fields)


class SubmoduleNotImported(Rule):
    code = "PM109"
    title = "submodule attribute never imported"
    template = ("'{name}' is a submodule this file never imports: `import {package}` does not "
                "load '{name}'")
    help = ("Importing a package does not import its submodules unless the package's "
            "`__init__` does. Accessing the submodule as an attribute works only when some "
            "other code happened to import it first, else it raises AttributeError. Import the "
            "submodule itself (`import {name}`).")
    example = "import importlib\nspec = importlib.util.find_spec('x')   # AttributeError"


class UndefinedExport(Rule):
    code = "PM110"
    title = "__all__ names an undefined name"
    template = "'{name}' is listed in __all__ but this module never defines it"
    help = ("`from module import *` looks up every name in `__all__` and raises AttributeError "
            "for one the module does not define. Define it, import it, or drop it from "
            "`__all__`.")
    example = "__all__ = ['load', 'dump']\ndef load(): ...   # 'dump' is missing"
    disproved_at_runtime = "namespace"


class UndefinedName(LoadRule):
    code = "PM111"
    title = "undefined name (missing import)"
    template = "'{name}' is not defined anywhere in this file (a missing import?)"
    help = ("Nothing in the file binds this name and it is not a builtin, so this line raises "
            "NameError when it runs. Usually an import was forgotten or removed.")
    example = "def now():\n    return datetime.now()   # no `import datetime` / `from datetime ...`"
    disproved_at_runtime = "global_load"

    @classmethod
    def applies(cls, load: UnresolvedLoad) -> bool:
        return not load.imports and not load.bound

    @classmethod
    def finding(cls, load: UnresolvedLoad) -> Finding:
        return cls.at(load.path, load.line, load.col, **load.fields)


class NotInFirstPartyModule(Rule):
    code = "PM112"
    title = "imported from a first-party module that does not define it"
    template = ("'{name}' is not defined in {module} ({where}): `from {module} import {name}` "
                "raises ImportError")
    help = ("The module is in this repository and every name it binds at module level is known "
            "statically (no star import, no module `__getattr__`, no writes to `globals()`), "
            "and this name is not one of them, nor a submodule: the import raises ImportError "
            "when it runs, usually after the name was renamed or moved. Import the new name, or "
            "define it in the module.")
    example = "# jobs.py defines JobRunner\nfrom jobs import Runner   # ImportError"


class BoundOnSomePaths(LoadRule):
    code = "PM113"
    title = "bound only on some paths (not an import)"
    template = "'{name}' may be unbound here: {why}"
    severity = Severity.WARNING
    help = ("The name is assigned (or defined, or bound by a loop, `with`, `except ... as`) "
            "only on some of the paths that reach this line: an if branch, a loop that may run "
            "zero times, a try body that may stop early, a platform test. On the others this "
            "raises NameError (module level) or UnboundLocalError (in a function). A warning: "
            "the code often rules those paths out in ways a static check cannot see; bind a "
            "default before the branch when it does not.")
    example = "def pick(flag):\n    if flag:\n        y = 1\n    return y   # UnboundLocalError"

    @classmethod
    def applies(cls, load: FailingLoad) -> bool:
        """Bound by something other than an import (a definitely unbound name stays an
        error, whatever bound it)."""
        return bool(load.bits & BOUND and not load.bits & (TYPE_CHECKING | MAIN)
                    and not load.imported)

    @classmethod
    def finding(cls, load: FailingLoad) -> Finding:
        bits = load.bits
        if bits & PLATFORM and load.platform:
            why = _bound_under_platform_test("bound", load.platform)
        elif bits & DELETED and load.deleted:
            why = f"it is deleted with `del` on some paths (line {load.deleted})"
        elif bits & DELETED and load.unbound_at:
            why = _unbound_by_handler(load.name, load.unbound_at) + ", and that handler may have run"
        else:
            why = _bound_on_some_paths(load.bindings, say_imported=False)
        return cls.at(load.path, load.line, load.col, related=_related(load.path, load.bindings),
                      why=why, **load.fields)


#: The rules a failing load may become, tried in this order: the first that applies gives the
#: verdict.  A name bound only by non-imports on some paths is a warning whatever the cause; a
#: ``del`` outranks the other causes; "bound only later" is what is left.
FAILING_LOAD_RULES: tuple[type[LoadRule], ...] = (
    BoundOnSomePaths,
    UsedAfterDel,
    TypeCheckingOnly,
    MainBlockOnly,
    OptionalImportUnguarded,
    ConditionallyBound,
    DefinitionTimeUnbound,
    UsedBeforeBound,
)

#: The rules a name bound nowhere it is visible may become, in this order; none applies when
#: something else in the file binds it (an unresolved load then raises, but no rule says why).
UNRESOLVED_NAME_RULES: tuple[type[LoadRule], ...] = (
    ClassBodyImport,
    ImportedInOtherFunction,
    UndefinedName,
)


def verdict(rules: tuple[type[LoadRule], ...], load: Load) -> Finding | None:
    """The finding of the first rule of ``rules`` that applies to ``load``; None if none does
    (or it finds that the code handles the failure)."""
    for rule in rules:
        if rule.applies(load):
            return rule.finding(load)
    return None


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


def _bound_on_some_paths(bindings: list[Binding], say_imported: bool) -> str:
    """Why: where the first binding that sits in a branch (a loop, a try...) is."""
    contexts = [b for b in bindings if b.context] or bindings
    first = contexts[0] if contexts else None
    verb = "imported" if say_imported and first is not None and first.is_import else "bound"
    why = f"it is {verb} {_CONTEXT_WHY.get(first.context, 'only on some paths')}" \
        if first is not None and first.context else f"it is {verb} only on some paths"
    if first is not None:
        why += f" (line {first.line})"
    return why


def _bound_under_platform_test(verb: str, platform: tuple[str, int]) -> str:
    condition, line = platform
    return f"it is {verb} only when {condition} (line {line}), which this use does not test"


def _unbound_by_handler(name: str, line: int) -> str:
    return f"Python unbinds it at the end of its `except ... as {name}` handler (line {line})"


def _import_in_handler_try(load: FailingLoad) -> Binding | None:
    """The first import of the name inside the try statement whose handler makes the load
    (the handler runs when the try body raised, maybe before that import)."""
    statement = load.handler_try
    if statement is None:
        return None
    first = statement.lineno  # type: ignore[attr-defined]
    last = statement.end_lineno or first  # type: ignore[attr-defined]
    return next((b for b in load.bindings
                 if b.is_import and first <= getattr(b.node, "lineno", 0) <= last), None)


def _related(path: str, bindings: list[Binding], note: str | None = None,
             with_scope: bool = False) -> list[Location]:
    """Where the name is bound, imports first (five at most)."""
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
