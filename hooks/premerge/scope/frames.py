"""The flow pass's running state, as named records: the scope being executed (:class:`Frame`),
a function body queued to run later (:class:`Deferred`), where a loop's paths leave it
(:class:`LoopExits`), what a try body has seen so far (:class:`TryBody`) and the place to
rewind to when a block is walked again (:class:`Mark`).
"""

from __future__ import annotations

#: typing and ast are imported for type checkers only (annotations are never evaluated here)
TYPING_ONLY = False
if TYPING_ONLY:
    import ast

    from premerge.scope.bindings import ClassScope, FunctionScope, Scope
    from premerge.scope.flow import State


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


class LoopExits:
    """The states in which a loop's body leaves it early: by ``break`` and by ``continue``."""

    __slots__ = ("breaks", "continues")

    def __init__(self) -> None:
        self.breaks: list[State] = []
        self.continues: list[State] = []


class TryBody:
    """A try body (or a suppressing ``with``) being walked in ``frame``: ``seen`` joins every
    state met in it, which is where a handler may start."""

    __slots__ = ("frame", "seen")

    def __init__(self, frame: Frame, seen: State) -> None:
        self.frame = frame
        self.seen = seen


class Mark:
    """How long the analyzer's output lists were, so walking a block again (a loop's next
    round, a ``finally`` on the normal path) can drop what the earlier walk added."""

    __slots__ = ("findings", "unresolved", "deferred", "block_defs")

    def __init__(self, findings: int, unresolved: int, deferred: int, block_defs: int) -> None:
        self.findings = findings
        self.unresolved = unresolved
        self.deferred = deferred
        self.block_defs = block_defs
