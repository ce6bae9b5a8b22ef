"""The dataflow state: for each tracked name, on which paths it is bound here.

``bits[name]`` ORs together what holds on the paths that reach this point: ``BOUND`` on some
path, ``UNBOUND`` on some path; plus *causes* that say why an unbound path exists (so a
message can say "optional import", "TYPE_CHECKING", "after del" ...).  A missing key means
unbound on every path with no cause (not bound yet).  ``None`` instead of a state means the
point is unreachable (after return/raise/break/continue/sys.exit).

``consts`` remembers flags assigned a literal on the current path (``HAS_X = True``) and
``facts`` what a condition guarantees (``HAS_X`` true -> ``x`` bound): that is how guarded
optional imports stay silent.  Both are treated as immutable and replaced on change, so a copy
is one dict copy.
"""

from __future__ import annotations

from collections.abc import Iterable

BOUND = 1
UNBOUND = 2
# causes of an unbound path
DELETED = 4
OPTIONAL = 8       # an `except ImportError` (or broad) handler fell through
TYPE_CHECKING = 16  # bound only under `if TYPE_CHECKING:`
MAIN = 32          # bound only under `if __name__ == "__main__":`
BRANCH = 64        # an if/elif/match/loop/try path that does not bind it
PLANNED = 128      # with OPTIONAL: the handler binds something else (a flag, a fallback)
PLATFORM = 256     # bound only under a platform or version test (`if os.name == "nt":`)
CAUSES = DELETED | OPTIONAL | TYPE_CHECKING | MAIN | BRANCH | PLATFORM
#: ``value & _BRANCH_ONLY == _BOTH``: bound on some path, unbound on another, no cause known
_BOTH = BOUND | UNBOUND
_BRANCH_ONLY = _BOTH | CAUSES


def fails_elsewhere(bits: int) -> bool:
    """Whether a module name in this state is worth reporting from a function body.

    Functions run later, under conditions the module-level branches usually mirror (a feature
    flag): a name bound only in some branches is reported there only when the reason is known
    to bite: TYPE_CHECKING, ``__main__``, a definite ``del``, an optional import (its flag or
    fallback protects only a use where it is tested on the path: the function's own tests
    apply the module's facts), or a platform/version test the use does not repeat.
    """
    if bits & (TYPE_CHECKING | MAIN | OPTIONAL | PLATFORM):
        return True
    return bool(bits & DELETED and not bits & BOUND)

#: A test is known by a key: ("name", flag) for ``if flag:``, ("none", x) for ``x is None``,
#: ("test", ast.dump(test)) for other tests (module level only).  A fact adds the truth value.
TestKey = tuple[str, str]
FactKey = tuple[str, str, bool]


class State:
    __slots__ = ("bits", "consts", "facts")

    def __init__(self, bits: dict[str, int] | None = None,
                 consts: dict[TestKey, bool] | None = None,
                 facts: dict[FactKey, frozenset[str]] | None = None) -> None:
        self.bits: dict[str, int] = {} if bits is None else bits
        #: what is known about tests on this path (a flag's literal value, a test that failed)
        self.consts: dict[TestKey, bool] = consts or {}
        self.facts: dict[FactKey, frozenset[str]] = facts or {}

    def copy(self) -> State:
        return State(self.bits.copy(), self.consts, self.facts)

    def get(self, name: str, default: int = UNBOUND) -> int:
        return self.bits.get(name, default)

    def forget_flag(self, name: str) -> None:
        """``name`` was reassigned: what we knew about it as a flag no longer holds."""
        # Rebuilt only when something changes: an unchanged dict keeps its identity, which
        # lets join() take its shared-dict fast paths (stores are frequent, flags are rare).
        consts = self.consts
        if consts:
            for key in consts:
                if key[1] == name:
                    self.consts = {k: v for k, v in consts.items() if k[1] != name}
                    break
        facts = self.facts
        if facts:
            for key, names in facts.items():
                if key[1] == name or name in names:
                    self.facts = {k: v for k, v in facts.items()
                                  if k[1] != name and name not in v}
                    break

    def know(self, key: TestKey, value: bool) -> None:
        if self.consts.get(key) is value:
            return  # known already: the dict keeps its identity (join's fast paths)
        consts = dict(self.consts)
        consts[key] = value
        self.consts = consts

    def apply_fact(self, key: TestKey, truth: bool) -> None:
        """Entering a branch where the test ``key`` has ``truth``: its guaranteed bindings."""
        names = self.facts.get((key[0], key[1], truth))
        if names:
            for name in names:
                self.bits[name] = BOUND

    def mark_cause(self, names: Iterable[str], cause: int) -> None:
        """Names unbound on some path here without a known cause get ``cause``."""
        bits = self.bits
        for name in names:
            value = bits.get(name, UNBOUND)
            if value & UNBOUND and not value & (CAUSES & ~BRANCH):
                bits[name] = (value & ~BRANCH) | cause


def join(states: Iterable[State | None]) -> State | None:
    """The state where paths meet: OR of bits; what is known on every path."""
    live = [s for s in states if s is not None]
    if not live:
        return None
    if len(live) == 1:
        return live[0]
    first = live[0]
    bits = first.bits.copy()
    any_consts = bool(first.consts)
    for other in live[1:]:
        obits = other.bits
        if obits != bits:  # paths that bound the same names need no OR
            for name, value in bits.items():
                bits[name] = value | obits.get(name, UNBOUND)
            for name, value in obits.items():
                if name not in bits:
                    bits[name] = value | UNBOUND
        if other.consts:
            any_consts = True
    branch_only = _BRANCH_ONLY  # bound and unbound with no cause yet: a branch's doing
    for name, value in bits.items():
        if value & branch_only == _BOTH:
            bits[name] = value | BRANCH
    consts = first.consts
    for other in live[1:]:
        if consts and consts is not other.consts:
            consts = {k: v for k, v in consts.items() if other.consts.get(k) is v}
    result = State(bits, consts, _join_facts(live))
    if any_consts:
        _learn_flags(live, result)
    return result


def _guaranteed(state: State, key: FactKey, names: frozenset[str]) -> frozenset[str]:
    """Which of ``names`` are bound on this path whenever test ``key`` holds."""
    consts = state.consts
    if consts and consts.get((key[0], key[1]), key[2]) is not key[2]:
        return names  # the test is known to fail on this path: vacuously guaranteed
    known = state.facts.get(key)
    rest = names
    if known is not None:
        if known is names or names <= known:
            return names
        rest = names - known
    bits = state.bits
    lost = [n for n in rest if bits.get(n) != BOUND]
    return names.difference(lost) if lost else names


def _join_facts(live: list[State]) -> dict[FactKey, frozenset[str]]:
    first = live[0].facts
    for state in live:
        if state.facts is not first and state.facts != first:
            break
    else:
        return first  # the same facts on every path: each is guaranteed by its own path
    keys: set[FactKey] = set()
    for state in live:
        keys.update(state.facts)
    out: dict[FactKey, frozenset[str]] = {}
    for key in keys:
        names: frozenset[str] = frozenset()
        for state in live:
            names = names | state.facts.get(key, frozenset())
        for state in live:
            if not names:
                break
            names = _guaranteed(state, key, names)
        if names:
            out[key] = names
    return out


def _learn_flags(live: list[State], result: State) -> None:
    """Where paths that know a test differently meet, remember what each outcome guarantees.

    ``try: import x; HAS_X = True`` / ``except ImportError: HAS_X = False`` -> ``HAS_X`` true
    implies ``x`` bound; a handler that raises when ``sys.platform == "win32"`` -> that test
    true implies the names the try body bound.
    """
    maybe = frozenset([n for n, v in result.bits.items() if v & BOUND and v & UNBOUND])
    if not maybe:
        return
    keys: set[TestKey] = set()
    for state in live:
        keys.update(state.consts)
    facts = result.facts
    copied = False  # copied on the first new fact: an unchanged dict keeps its identity
    for key in keys:
        seen_true = seen_false = False
        for state in live:
            known = state.consts.get(key)
            if known is True:
                seen_true = True
            elif known is False:
                seen_false = True
        for truth in (True, False):
            # a fact is learned only where some path knows the other outcome (vacuous there;
            # what consts know is always True or False)
            if not (seen_false if truth else seen_true):
                continue
            fact = (key[0], key[1], truth)
            names = maybe
            for state in live:
                known = state.consts.get(key)
                if known is not None and known is not truth:
                    continue
                names = _guaranteed(state, fact, names)
                if not names:
                    break
            if names:
                if not copied:
                    facts = dict(facts)
                    copied = True
                facts[fact] = names | facts.get(fact, frozenset())
    result.facts = facts


def volatile_bits(state: State | None, volatile: set[str]) -> dict[str, int]:
    """The bits of the names that may be unbound somewhere (copying every name's, per def,
    cost more than the rest of a large module's analysis grew by)."""
    if state is None:
        return {}
    bits = state.bits
    if len(bits) < len(volatile):  # whichever is smaller drives the loop (the same dict)
        return {name: value for name, value in bits.items() if name in volatile}
    return {name: bits[name] for name in volatile if name in bits}
