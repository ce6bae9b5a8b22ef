"""Verdicts: the analyzer's side of turning a load that may fail into its PM1xx finding.

The rules decide (``scope/messages.py``: each says whether it applies and builds its finding,
an ordered table gives the priority); this part filters what is not reported at all (an
``except NameError`` guard, builtins), describes the load for the rules as a named record, and
adds which broad handler would swallow the error.  A name bound nowhere in the file is judged
once the whole file is known (imported in another function or a class body, undefined, or one
PM005 note when the namespace is dynamic).  :class:`Verdicts` is one part of
:class:`premerge.scope.analyzer.Analyzer`.
"""

from __future__ import annotations

import re

from premerge.builtin_names import BUILTIN_NAMES
from premerge.input_rules import NotChecked
from premerge.scope.flow import fails_elsewhere
from premerge.scope.messages import (
    FAILING_LOAD_RULES,
    UNRESOLVED_NAME_RULES,
    FailingLoad,
    UnresolvedLoad,
    verdict,
)

#: typing is imported for type checkers only: ~3 ms of start-up where nothing else loads it
TYPING_ONLY = False
if TYPING_ONLY:
    import ast
    from typing import Any

    from premerge.findings import Finding
    from premerge.scope.bindings import ClassScope
    from premerge.scope.frames import Frame


class Verdicts:
    """The analyzer's part that turns a failing load into its finding."""

    def report(self, frame: Frame, name: str, node: ast.AST, bits: int, cross: bool) -> None:
        """A load of ``name`` that resolves in ``frame`` (``cross``: a function's load of a
        module name) fails on some path: the first rule of ``FAILING_LOAD_RULES`` that
        applies says why."""
        if self.name_guard:  # `except NameError`: the code handles exactly this failure
            self.guarded_loads.add((node.lineno, name))  # type: ignore[attr-defined]
            return
        if cross and not fails_elsewhere(bits):
            return
        if (cross or frame.kind != "function") and name in BUILTIN_NAMES:
            return  # module and class code fall back to builtins
        scope = self.module if cross else frame.scope
        key = (id(scope), name)
        running = self.frame
        load = FailingLoad(
            self.path, name, node, bits, frame, running, scope, scope.bindings.get(name, []),
            _finding_fields(node, name, self._qualname(running)),
            imported=name in self.facts.imports, star_imports=bool(self.facts.star_imports),
            deleted=self.deleted_at.get(key), unbound_at=self.handler_unbound.get(key),
            optional_handler=self.optional_handler.get(name, "?"),
            platform=self.platform_cond.get(name), handler_try=self.handler_type_of,
            definition_time=self.deftime)
        finding = verdict(FAILING_LOAD_RULES, load)
        if finding is not None:
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
        imports = self.facts.imports
        for name, node, frame in self.unresolved:
            load = UnresolvedLoad(self.path, name, node,
                                  _finding_fields(node, name, self._qualname(frame)),
                                  imports.get(name) or [], self._classes_of(frame), name in bound)
            finding = verdict(UNRESOLVED_NAME_RULES, load)
            if finding is None:
                continue
            if id(node) in self.swallowed:
                finding = self._swallowed(finding, frame, name, self.swallowed[id(node)])
            self.findings.append(finding)

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


def _finding_fields(node: ast.AST, name: str, where: str) -> dict[str, Any]:
    """The fields every PM1xx finding at ``node`` carries besides its position: where the load
    ends, the unbound name, and the fix engine's key ``"<scope qualname>:<name>"``."""
    return {
        "end_line": getattr(node, "end_lineno", None),
        "end_col": (node.end_col_offset + 1  # type: ignore[attr-defined]
                    if getattr(node, "end_col_offset", None) is not None else None),
        "name": name, "key": f"{where}:{name}",
    }
