"""The one model every check produces and every reporter consumes.

A *rule* is a class (pyflakes-style: one class per message, with its template) that lives next to
the logic that emits it.  Defining the class registers its code, so README's table and SARIF's
rules are generated from one registry and never written twice.
"""

from __future__ import annotations

import enum
import importlib
import re

from premerge.records import FrozenRecord, Record, frozen_init

#: typing.TYPE_CHECKING without importing typing: its names serve annotations only, and
#: the import costs ~3 ms of start-up where nothing else has loaded it
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any, ClassVar

#: Modules that define rules; imported by :func:`all_rules` (lazily, so a one-file run stays fast).
#: Named, not imported: the model sits below the checks and must not import them.
RULE_MODULES = (
    "premerge.input_rules",
    "premerge.scope.messages",
    "premerge.files.messages",
    "premerge.smoke.messages",
)


class Severity(str, enum.Enum):
    """How bad a finding is; ``--fail-on`` compares against this order."""

    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"

    @property
    def rank(self) -> int:
        return {"error": 3, "warning": 2, "note": 1}[self.value]


class Location(FrozenRecord):
    """A place that explains a finding: where a name *is* bound, a frame of a traceback, ..."""

    __slots__ = _fields = ("path", "line", "col", "message", "end_line", "end_col")
    path: str
    line: int | None
    col: int | None
    message: str
    end_line: int | None
    end_col: int | None

    def __init__(self, path: str, line: int | None = None, col: int | None = None,
                 message: str = "", end_line: int | None = None,
                 end_col: int | None = None) -> None:
        frozen_init(self, path, line, col, message, end_line, end_col)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"path": self.path, "line": self.line, "col": self.col,
                                "message": self.message}
        if self.end_line is not None:
            data["end_line"] = self.end_line
            data["end_col"] = self.end_col
        return data


#: the related location that names another module a failure also stops from importing (smoke
#: folds a failure that starts in one module into that module's finding)
ALSO_STOPS = "also stops {module} from importing"


def stops_importing(message: str) -> bool:
    """Whether a related location's message is an :data:`ALSO_STOPS` line."""
    head, _, tail = ALSO_STOPS.partition("{module}")
    return message.startswith(head) and message.endswith(tail)


#: the related location a runtime finding becomes when it confirms a static one on its line
CONFIRMED_AT_RUNTIME = "confirmed at runtime ({code}): {message}"


def confirmed_at_runtime(message: str) -> bool:
    """Whether a related location's message is a :data:`CONFIRMED_AT_RUNTIME` line."""
    return message.startswith(CONFIRMED_AT_RUNTIME.partition("{code}")[0])


class Fix(FrozenRecord):
    """A safe edit: replace ``text`` over [start, end) (1-based line, 1-based col) ranges.

    ``edits`` is a tuple of ``(line, col, end_line, end_col, new_text)``; an insertion has
    ``(line, col) == (end_line, end_col)``.
    """

    __slots__ = _fields = ("description", "edits")
    description: str
    edits: tuple[tuple[int, int, int, int, str], ...]

    def __init__(self, description: str,
                 edits: tuple[tuple[int, int, int, int, str], ...] = ()) -> None:
        frozen_init(self, description, edits)

    def to_json(self) -> dict[str, Any]:
        return {
            "description": self.description,
            "edits": [
                {"line": ln, "col": c, "end_line": eln, "end_col": ec, "text": text}
                for ln, c, eln, ec, text in self.edits
            ],
        }


class Finding(FrozenRecord):
    """One problem at one place.  ``path`` is absolute (POSIX); reporters make it relative."""

    __slots__ = _fields = ("code", "message", "path", "line", "col", "end_line", "end_col",
                           "severity", "name", "module", "related", "fix", "key")
    #: ``key`` is left out of equality and hashing
    _compared = _fields[:-1]
    code: str
    message: str
    path: str
    line: int | None
    col: int | None
    end_line: int | None
    end_col: int | None
    severity: Severity
    name: str | None
    module: str | None
    related: tuple[Location, ...]
    fix: Fix | None
    #: a stable, location-independent identity used for de-duplication and SARIF fingerprints
    key: str

    def __init__(self, code: str, message: str, path: str, line: int | None = None,
                 col: int | None = None, end_line: int | None = None,
                 end_col: int | None = None, severity: Severity = Severity.ERROR,
                 name: str | None = None, module: str | None = None,
                 related: tuple[Location, ...] = (), fix: Fix | None = None,
                 key: str = "") -> None:
        frozen_init(self, code, message, path, line, col, end_line, end_col, severity, name,
                    module, related, fix, key)

    @property
    def check(self) -> str:
        """The check family of the code: input, scope, files or smoke."""
        return family_of(self.code)

    def sort_key(self) -> tuple[str, int, int, str, str]:
        return (self.path, self.line or 0, self.col or 0, self.code, self.message)

    def with_changes(self, **changes: Any) -> Finding:
        return self.replace(**changes)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Finding:
        """Inverse of :meth:`to_json` (used by the cache)."""
        fix = data.get("fix")
        return cls(
            code=data["code"], message=data["message"], path=data["path"],
            line=data.get("line"), col=data.get("col"), end_line=data.get("end_line"),
            end_col=data.get("end_col"), severity=Severity(data.get("severity", "error")),
            name=data.get("name"), module=data.get("module"),
            related=tuple(Location(path=r["path"], line=r.get("line"), col=r.get("col"),
                                   message=r.get("message", ""), end_line=r.get("end_line"),
                                   end_col=r.get("end_col"))
                          for r in data.get("related", ())),
            fix=Fix(description=fix["description"],
                    edits=tuple((e["line"], e["col"], e["end_line"], e["end_col"], e["text"])
                                for e in fix.get("edits", ()))) if fix else None,
            key=data.get("key", ""),
        )

    def to_json(self, display_path: str | None = None,
                related_paths: list[str] | None = None) -> dict[str, Any]:
        related = [loc.to_json() for loc in self.related]
        if related_paths is not None:
            for item, rel in zip(related, related_paths):
                item["path"] = rel
        return {
            "code": self.code,
            "severity": self.severity.value,
            "path": display_path if display_path is not None else self.path,
            "line": self.line,
            "col": self.col,
            "end_line": self.end_line,
            "end_col": self.end_col,
            "name": self.name,
            "module": self.module,
            "message": self.message,
            "related": related,
            "fix": self.fix.to_json() if self.fix else None,
            **({"key": self.key} if display_path is None and self.key else {}),
        }


class CheckResult(Record):
    """What one check returns: its findings and how many files it looked at.

    Part of the model (not of the orchestration in ``check.py``), so a check depends on
    nothing that runs it."""

    __slots__ = _fields = ("findings", "files", "facts", "notes")

    def __init__(self, findings: list[Finding] | None = None, files: int = 0,
                 facts: dict[str, object] | None = None,
                 notes: list[str] | None = None) -> None:
        self.findings: list[Finding] = [] if findings is None else findings
        self.files = files
        #: facts one check offers another (smoke's runtime namespaces refine scope findings)
        self.facts: dict[str, object] = {} if facts is None else facts
        #: one-line remarks for the user (e.g. "worktree check skipped: not a git repository")
        self.notes: list[str] = [] if notes is None else notes


#: compiled (and cached by ``re``) on the first line that mentions noqa: most runs have none,
#: and compiling it cost every one-file run ~0.5 ms of start-up
_NOQA = r"#\s*noqa(?::\s*(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*))?"


def noqa_codes(line: str) -> set[str] | None:
    """Codes a ``# noqa`` comment on this line suppresses; ``{"*"}`` for a bare one; None."""
    if "noqa" not in line.lower():
        return None
    match = re.search(_NOQA, line, re.IGNORECASE)
    if match is None:
        return None
    codes = match.group("codes")
    if not codes:
        return {"*"}
    return {c.upper() for c in re.split(r"[,\s]+", codes) if c}


_FAMILIES = {"0": "input", "1": "scope", "2": "files", "3": "smoke"}


def family_of(code: str) -> str:
    return _FAMILIES.get(code[2:3], "other")


#: code -> rule class, filled in by ``Rule.__init_subclass__``.
RULES: dict[str, type[Rule]] = {}


class Rule:
    """Base of every message class.  Subclasses set the class attributes and get registered.

    ``template`` is formatted with the keyword arguments given to :meth:`at`; ``help`` is the
    longer text shown in README and SARIF; ``example`` is a short snippet that triggers it.
    """

    code: ClassVar[str] = ""
    title: ClassVar[str] = ""
    template: ClassVar[str] = ""
    severity: ClassVar[Severity] = Severity.ERROR
    help: ClassVar[str] = ""
    example: ClassVar[str] = ""
    #: Text output folds this rule's findings that share one cause into one (JSON and SARIF
    #: keep each): those whose messages agree on these template fields ...
    group_by: ClassVar[tuple[str, ...]] = ()
    #: ... and, when true, sit in the same file (an optional-import ``try`` block) rather than
    #: anywhere in the run (a missing package)
    group_in_file: ClassVar[bool] = False
    #: the folded finding's message: the template's fields plus ``{names}`` (the findings'
    #: names, quoted), ``{uses}`` (how many findings) and ``{count}`` (modules affected)
    group_template: ClassVar[str] = ""
    #: the related line for each further finding of a group (``{name}``, ``{module}``)
    member_template: ClassVar[str] = ""
    #: the repair ``scope --fix`` applies to this rule's findings: "" (none), ``"hoist"`` (the
    #: import moves to module level) or ``"untype"`` (out of ``if TYPE_CHECKING:``)
    fix_shape: ClassVar[str] = ""
    #: when smoke's runtime namespace of the module holds the finding's name, it disproves the
    #: finding: ``"global_load"`` if the line loads the name as a global inside a function (the
    #: claim is "not in the module namespace when the function runs"), ``"namespace"`` by the
    #: name's presence alone, "" never (a claim about some path or platform, or no name)
    disproved_at_runtime: ClassVar[str] = ""
    #: smoke: a failure that starts in another module of the run is folded into that module's
    #: finding (one finding, the importers as related lines); False where each importer's own
    #: failure is the point (a circular import: the order each module is imported in)
    folds_into_origin: ClassVar[bool] = True

    @classmethod
    def group_head(cls, members: Sequence[Finding]) -> Finding:
        """The finding of a group text shows first, its location the group's: the first."""
        return members[0]

    @classmethod
    def confirms(cls, static: Finding, runtime: Finding) -> bool:
        """Whether ``runtime``, a finding of this (runtime) rule on the same file and line as the
        static finding ``static``, says the same thing: then one annotation carries both."""
        return False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "code" not in vars(cls) or not cls.code:
            # an abstract intermediate base, or another cause of the rule it subclasses
            # (scope's UsedAfterDel): registered once, by the rule
            return
        existing = RULES.get(cls.code)
        if existing is not None and existing.__qualname__ != cls.__qualname__:
            raise RuntimeError(f"rule code {cls.code} defined twice: {existing} and {cls}")
        RULES[cls.code] = cls

    @classmethod
    def at(
        cls,
        path: str,
        line: int | None = None,
        col: int | None = None,
        *,
        end_line: int | None = None,
        end_col: int | None = None,
        name: str | None = None,
        module: str | None = None,
        related: tuple[Location, ...] | list[Location] = (),
        fix: Fix | None = None,
        severity: Severity | None = None,
        key: str = "",
        **fmt: Any,
    ) -> Finding:
        """Build the finding for this rule at a place; ``fmt`` fills the template."""
        if name is not None:
            fmt.setdefault("name", name)
        if module is not None:
            fmt.setdefault("module", module)
        return Finding(
            code=cls.code,
            message=cls.template.format(**fmt),
            path=path,
            line=line,
            col=col,
            end_line=end_line,
            end_col=end_col,
            severity=severity or cls.severity,
            name=name,
            module=module,
            related=tuple(related),
            fix=fix,
            key=key or (name or module or ""),
        )


    @classmethod
    def fields_of(cls, message: str) -> dict[str, str] | None:
        """The template's fields as they appear in ``message`` (inverse of :meth:`at`'s
        formatting, conversions such as ``!r`` included); None when it does not match."""
        pattern = _TEMPLATE_PATTERNS.get(cls.template)
        if pattern is None:
            pattern = _TEMPLATE_PATTERNS[cls.template] = _template_pattern(cls.template)
        match = pattern.fullmatch(message)
        return match.groupdict() if match else None


_TEMPLATE_PATTERNS: dict[str, re.Pattern[str]] = {}
#: what ``repr()`` of a string looks like
_REPR = r"'(?:[^'\\]|\\.)*'" + '|' + r'"(?:[^"\\]|\\.)*"'


def _template_pattern(template: str) -> re.Pattern[str]:
    """A regular expression matching what ``template.format(...)`` produces."""
    import string  # noqa: PLC0415  (only text output's grouping needs it)

    parts: list[str] = []
    seen: set[str] = set()
    for literal, field, _spec, conversion in string.Formatter().parse(template):
        parts.append(re.escape(literal))
        if field is None:
            continue
        name = field.split(".")[0].split("[")[0]
        # a repr is one quoted string, so a field beside it cannot take part of it
        value = _REPR if conversion == "r" else ".*?"
        parts.append(f"(?P={name})" if name in seen else f"(?P<{name}>{value})")
        seen.add(name)
    return re.compile("".join(parts), re.DOTALL)


def all_rules() -> dict[str, type[Rule]]:
    """Every registered rule, sorted by code (imports every rule module once)."""
    for module in RULE_MODULES:
        importlib.import_module(module)
    return dict(sorted(RULES.items()))


def rule_for(code: str) -> type[Rule] | None:
    if code not in RULES:
        all_rules()
    return RULES.get(code)
