"""Verdicts: which PM1xx finding a load that may fail becomes (deleted, TYPE_CHECKING-only,
``__main__``-only, optional import, conditional, definition time, used before bound), and what a
name bound nowhere in the file becomes once the whole file is known (imported in another
function or a class body, undefined, or one PM005 note when the namespace is dynamic).
:class:`Verdicts` is one part of :class:`premerge.scope.analyzer.Analyzer`.
"""

from __future__ import annotations

import re

from premerge.findings import Location
from premerge.input_rules import NotChecked
from premerge.scope import messages as m
from premerge.scope.builtin_names import BUILTIN_NAMES
from premerge.scope.flow import (
    BOUND,
    BRANCH,
    DELETED,
    MAIN,
    OPTIONAL,
    PLATFORM,
    TYPE_CHECKING,
    fails_elsewhere,
)

#: (``TYPE_CHECKING`` here is flow's cause bit) typing is imported for type checkers only:
#: ~3 ms of start-up where nothing else loads it
TYPING_ONLY = False
if TYPING_ONLY:
    import ast
    from typing import Any

    from premerge.findings import Finding
    from premerge.scope.bindings import Binding, ClassScope
    from premerge.scope.frames import Frame

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


class Verdicts:
    """The analyzer's part that turns a failing load into its finding."""

    def report(self, frame: Frame, name: str, node: ast.AST, bits: int, cross: bool) -> None:
        if self.name_guard:  # `except NameError`: the code handles exactly this failure
            self.guarded_loads.add((node.lineno, name))  # type: ignore[attr-defined]
            return
        if cross and not fails_elsewhere(bits):
            return
        if (cross or frame.kind != "function") and name in BUILTIN_NAMES:
            return  # module and class code fall back to builtins
        if bits & BOUND and not bits & (TYPE_CHECKING | MAIN) and \
                name not in self.facts.imports:
            self._report_some_paths(frame, name, node, bits, cross)
            return
        if bits & OPTIONAL and self.facts.star_imports and \
                not bits & (TYPE_CHECKING | MAIN | DELETED):
            return  # the optional import overrides what a star import bound (ntpath's islink)
        scope = self.module if cross else frame.scope
        bindings = scope.bindings.get(name, [])
        common = _finding_fields(node, name, self._qualname(self.frame))
        line, col = node.lineno, node.col_offset + 1  # type: ignore[attr-defined]
        related = _related(self.path, bindings)
        if bits & DELETED:
            deleted = self.deleted_at.get((id(scope), name))
            unbound_at = self.handler_unbound.get((id(scope), name))
            if unbound_at and not deleted:
                why = (f"Python unbinds it at the end of its `except ... as {name}` handler "
                       f"(line {unbound_at})")
            else:
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
        elif bits & PLATFORM and name in self.platform_cond:
            condition, at = self.platform_cond[name]
            finding = m.ConditionallyBound.at(
                self.path, line, col, related=related,
                why=f"it is imported only when {condition} (line {at}), which this use does "
                    f"not test", **common)
        elif self.handler_type_of is not None and any(
                b.is_import and _inside(b.node, self.handler_type_of) for b in bindings):
            first = next(b for b in bindings
                         if b.is_import and _inside(b.node, self.handler_type_of))
            finding = m.ConditionallyBound.at(
                self.path, line, col, related=related,
                why=f"the handler looks it up when the try body raised, maybe before the import "
                    f"at line {first.line} bound it (or because that import failed)", **common)
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
        self.findings.append(self._swallowed(finding, frame, name))

    def _swallowed(self, finding: Finding, frame: Frame, name: str,
                   handler: tuple[str, int] | None = None) -> Finding:
        """The finding, saying which broad handler would catch the error and hide it."""
        handler = handler or (self.broad[-1] if self.broad else None)
        if handler is None:
            return finding
        label, line = handler
        error = "UnboundLocalError" if frame.kind == "function" and name in frame.locals \
            else "NameError"
        verb = "only logged" if label.endswith(" logged") else "silently ignored"
        label = label.removesuffix(" logged")
        return finding.with_changes(message=f"{finding.message}, and the {error} would be "
                                            f"caught by {label} at line {line} and {verb}")

    def _report_some_paths(self, frame: Frame, name: str, node: ast.AST, bits: int,
                           cross: bool) -> None:
        """A name bound by something other than an import, on some paths only: PM113, a
        warning (a definitely unbound one stays an error, whatever bound it)."""
        scope = self.module if cross else frame.scope
        bindings = scope.bindings.get(name, [])
        line, col = node.lineno, node.col_offset + 1  # type: ignore[attr-defined]
        unbound_at = self.handler_unbound.get((id(scope), name))
        deleted = self.deleted_at.get((id(scope), name))
        if bits & PLATFORM and name in self.platform_cond:
            condition, at = self.platform_cond[name]
            why = f"it is bound only when {condition} (line {at}), which this use does not test"
        elif bits & DELETED and deleted:
            why = f"it is deleted with `del` on some paths (line {deleted})"
        elif bits & DELETED and unbound_at:
            why = (f"Python unbinds it at the end of its `except ... as {name}` handler "
                   f"(line {unbound_at}), and that handler may have run")
        else:
            contexts = [b for b in bindings if b.context] or bindings
            first = contexts[0] if contexts else None
            why = f"it is bound {_CONTEXT_WHY.get(first.context, 'only on some paths')}" \
                if first is not None and first.context else "it is bound only on some paths"
            if first is not None:
                why += f" (line {first.line})"
        finding = m.BoundOnSomePaths.at(
            self.path, line, col, related=_related(self.path, bindings), why=why,
            **_finding_fields(node, name, self._qualname(self.frame)))
        self.findings.append(self._swallowed(finding, frame, name))

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
            common = _finding_fields(node, name, self._qualname(frame))
            line, col = node.lineno, node.col_offset + 1  # type: ignore[attr-defined]
            imports = self.facts.imports.get(name)
            before = len(self.findings)
            self._report_unresolved_one(name, node, frame, imports, bound, line, col, common)
            if len(self.findings) > before and id(node) in self.swallowed:
                self.findings[-1] = self._swallowed(self.findings[-1], frame, name,
                                                    self.swallowed[id(node)])

    def _report_unresolved_one(self, name: str, node: ast.AST, frame: Frame, imports: Any,
                               bound: set[str], line: int, col: int,
                               common: dict[str, Any]) -> None:
        """One name bound nowhere it is visible: imported in a class body or another function,
        or not at all."""
        if imports:
            classes = self._classes_of(frame)
            in_class = [b for b in imports if b.scope in classes]
            if in_class:
                cls = in_class[0].scope.qualname
                self.findings.append(m.ClassBodyImport.at(
                    self.path, line, col, owner=cls,
                    related=_related(self.path, in_class, None, with_scope=True), **common))
                return
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


def _inside(inner: ast.AST, outer: ast.AST) -> bool:
    """Whether ``inner`` lies within ``outer``'s lines (an import inside a try statement)."""
    line = getattr(inner, "lineno", 0)
    return outer.lineno <= line <= (outer.end_lineno or outer.lineno)  # type: ignore[attr-defined]


def _finding_fields(node: ast.AST, name: str, where: str) -> dict[str, Any]:
    """The fields every PM1xx finding at ``node`` carries besides its position: where the load
    ends, the unbound name, and the fix engine's key ``"<scope qualname>:<name>"``."""
    return {
        "end_line": getattr(node, "end_lineno", None),
        "end_col": (node.end_col_offset + 1  # type: ignore[attr-defined]
                    if getattr(node, "end_col_offset", None) is not None else None),
        "name": name, "key": f"{where}:{name}",
    }
