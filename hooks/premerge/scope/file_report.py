"""What one file's scope analysis hands on: the cache record (:class:`FileReport`) and the
PM109 candidates in it (:class:`SubmoduleUse`).

Plain classes, not dataclasses: building dataclasses costs start-up time every one-file run pays.
"""

from __future__ import annotations

from premerge.findings import Finding

#: typing is imported for type checkers only: ~3 ms of start-up where nothing else loads it
TYPING_ONLY = False
if TYPING_ONLY:
    from typing import Any


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

    def to_json(self) -> dict[str, Any]:
        return {"module": self.module, "attrs": self.attrs, "line": self.line, "col": self.col,
                "end_line": self.end_line, "end_col": self.end_col, "scope": self.scope}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SubmoduleUse:
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

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "findings": [f.to_json() for f in self.findings],
                "submodule_uses": [u.to_json() for u in self.submodule_uses],
                "imported_modules": self.imported_modules,
                "missing_exports": [list(x) for x in self.missing_exports],
                "injected_builtins": self.injected_builtins,
                "star_modules": self.star_modules,
                "star_pending": [f.to_json() for f in self.star_pending],
                "star_note": self.star_note.to_json() if self.star_note else None}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FileReport:
        report = cls(data["path"], [Finding.from_json(f) for f in data["findings"]])
        report.submodule_uses = [SubmoduleUse.from_json(u) for u in data["submodule_uses"]]
        report.imported_modules = list(data["imported_modules"])
        report.missing_exports = [(n, ln, c) for n, ln, c in data["missing_exports"]]
        report.injected_builtins = list(data.get("injected_builtins", ()))
        report.star_modules = list(data.get("star_modules", ()))
        report.star_pending = [Finding.from_json(f) for f in data.get("star_pending", ())]
        note = data.get("star_note")
        report.star_note = Finding.from_json(note) if note else None
        return report

