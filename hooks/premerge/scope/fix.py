"""Safe autofix for import-scoping findings: ``premerge scope --fix`` / ``--diff``.

Fix shapes (one *group* = the findings one import statement causes):

* **hoist** (PM101 imported in another function, PM106 bound only under ``__main__``): the
  import moves to module level, after the leading imports, in its exact form (relative level,
  ``as``), merged into an existing top-level ``from x import ...`` when there is one.  Refused
  when the name clashes with a module-level binding or a builtin, when the import closes an
  import cycle (:mod:`.fix_graph`), when the original is deliberately lazy (under a
  condition or ``try/except ImportError``, or a heavy optional dependency), or when the import
  could fail at module level (it does not resolve in the project's environment, or its package
  is an optional extra there: :class:`.environment.ImportSafety`): then
* **copy**: the import is copied to the top of each *using* function (after its docstring).
* **untype** (PM104, a ``TYPE_CHECKING``-only import used at runtime): the import moves out of
  the block; an emptied block goes, and so does the ``TYPE_CHECKING`` import when nothing
  else uses it.  An import that would close a cycle, or could fail at module level (a
  ``TYPE_CHECKING`` import of an optional package is the usual case), is copied into the using
  function instead.

Every other code has no fix: its message says what to do.

Safety: each group's edit is applied to the text, which must compile; the file is analysed
again and the group's findings must be gone with nothing new reported (findings compared by
code and location-independent key), else the next shape is tried or the group is left alone.
Groups are applied one after another, so a second run finds nothing left to change.  Bytes go
back in the file's encoding, BOM and line endings; the write is atomic (temporary file beside
it, same mode, ``os.replace``) and skipped when the file changed on disk since it was read.
"""

from __future__ import annotations

import ast
import builtins
import difflib
import errno
import os
import stat
import tempfile
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from premerge.config import Config
from premerge.findings import RULES, CheckResult, Finding, Fix, Rule, noqa_codes
from premerge.parsed import parse_text
from premerge.records import Record
from premerge.scope import messages
from premerge.scope.fix_text import (
    Edit,
    OverlappingEdits,
    SourceText,
    apply_edits,
    bound_name,
    function_insertion,
    import_text,
    merge_into_from,
    module_import_anchor,
    module_insertion,
    rewritten_import,
)
from premerge.safefile import FileRefused, read_regular
from premerge.sources import (MAX_SOURCE_BYTES, SourceError, SourceFile, decode_source, read_bytes,
                              relative_to)

#: Codes with a fix shape (each rule says which: ``Rule.fix_shape``).
FIXABLE = frozenset(rule.code for rule in vars(messages).values()
                    if isinstance(rule, type) and issubclass(rule, Rule) and rule.fix_shape)
#: Optional dependencies too heavy to import at module level on purpose: copy, never hoist.
HEAVY_MODULES = frozenset({
    "numpy", "pandas", "scipy", "matplotlib", "seaborn", "plotly", "bokeh", "sklearn",
    "statsmodels", "sympy", "numba", "torch", "torchvision", "torchaudio", "tensorflow",
    "keras", "jax", "jaxlib", "flax", "transformers", "datasets", "tokenizers", "spacy", "nltk",
    "xgboost", "lightgbm", "catboost", "cv2", "skimage", "PIL", "pyarrow", "polars", "dask",
    "pyspark", "ray", "IPython", "tkinter", "PyQt5", "PyQt6", "PySide2", "PySide6", "wx", "gi",
    "boto3", "botocore", "google", "azure", "playwright", "selenium",
})
#: Modules that exist only for type checkers: a runtime import of them always fails.
TYPING_ONLY_MODULES = frozenset({"_typeshed"})
_CATCHES_IMPORT = frozenset({"ImportError", "ModuleNotFoundError", "Exception", "BaseException"})
_CONDITIONAL = (ast.If, ast.For, ast.AsyncFor, ast.While, ast.With, ast.AsyncWith, ast.Try,
                *((ast.TryStar,) if hasattr(ast, "TryStar") else ()),
                *((ast.Match,) if hasattr(ast, "Match") else ()))
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
#: groups tried per file at most (each costs one analysis of the file)
MAX_GROUPS = 200

Identity = tuple[str, str]


def identity(finding: Finding) -> Identity:
    """What survives edits elsewhere in the file: the code and ``<scope>:<name>``."""
    return (finding.code, finding.key or f"{finding.line}:{finding.name}")


class Step(Record):
    """One applied group: the description and the findings (as first seen) it resolved."""

    __slots__ = _fields = ("description", "resolved")

    def __init__(self, description: str, resolved: list[Identity]) -> None:
        self.description = description
        self.resolved = resolved


class FilePlan(Record):
    """What the fixer would do to one file, computed from the bytes it read."""

    __slots__ = _fields = ("source", "new_text", "steps", "notes")

    def __init__(self, source: SourceFile, new_text: str, steps: list[Step] | None = None,
                 notes: list[str] | None = None) -> None:
        self.source = source
        self.new_text = new_text
        self.steps: list[Step] = [] if steps is None else steps
        self.notes: list[str] = [] if notes is None else notes

    @property
    def path(self) -> str:
        return self.source.path

    @property
    def changed(self) -> bool:
        return self.new_text != self.source.text

    def new_bytes(self) -> bytes:
        """The new text in the file's own encoding (and BOM); raises UnicodeEncodeError."""
        codec = "utf-8" if self.source.encoding == "utf-8-sig" else self.source.encoding
        data = self.new_text.encode(codec)
        return (b"\xef\xbb\xbf" + data) if self.source.bom else data


# ---------------------------------------------------------------------------------------------
# the hook-up: called by ``premerge.scope.run`` when --fix or --diff is given


def apply_fixes(config: Config, result: CheckResult) -> None:
    """Plan fixes for the files with fixable findings; with ``--diff`` put the unified diff in
    ``result.facts["diff"]`` (and a fix description on each finding it resolves); with
    ``--fix`` write the files and report what remains in them."""
    from premerge.scope import package_of
    from premerge.scope.environment import ImportSafety
    from premerge.scope.fix_graph import CycleOracle

    root = config.root.as_posix()
    oracle = CycleOracle(config)
    safety = ImportSafety(config)
    plans: list[FilePlan] = []
    for path in sorted({f.path for f in result.findings if f.code in FIXABLE}):
        try:
            raw = read_bytes(path)
            plan = plan_file(path, raw, package_of(path), oracle.closes_cycle, safety.can_fail)
        except SourceError:
            continue  # its PM0xx finding is already reported
        except Exception as exc:  # a bug in the fixer must not stop the check
            result.notes.append(f"{relative_to(path, root)}: not fixed (internal error: "
                                f"{type(exc).__name__}: {exc})")
            continue
        result.notes.extend(plan.notes)
        if plan.changed:
            plans.append(plan)
    if config.run.diff:
        result.facts["diff"] = unified_diff(plans, root)
        result.findings = _with_fix_descriptions(result.findings, plans)
        return
    written: list[str] = []
    for plan in plans:
        rel = relative_to(plan.path, root)
        try:
            data = plan.new_bytes()
        except UnicodeEncodeError as exc:
            result.notes.append(f"{rel}: not fixed: the fix cannot be written in "
                                f"{plan.source.encoding} ({exc.reason})")
            continue
        try:
            if write_atomic(plan.path, data, plan.source.raw):
                written.append(plan.path)
            else:
                result.notes.append(f"{rel}: not fixed: the file changed on disk while "
                                    "premerge ran")
        except OSError as exc:
            result.notes.append(f"{rel}: not fixed: {exc.strerror or exc}")
    if written:
        _reanalyse(config, result, written)
        count = sum(len(step.resolved) for plan in plans if plan.path in written
                    for step in plan.steps)
        result.notes.append(f"fixed {count} finding{'s' if count != 1 else ''} in "
                            f"{len(written)} file{'s' if len(written) != 1 else ''}")


def _reanalyse(config: Config, result: CheckResult, written: list[str]) -> None:
    """Replace the fixed files' findings with a fresh analysis of what was written."""
    from premerge.scope import run

    again = config.replace(run=config.run.replace(fix=False, diff=False))
    fresh = run(again, written).findings
    done = set(written)
    result.findings = [f for f in result.findings if f.path not in done] + fresh


def _with_fix_descriptions(findings: list[Finding], plans: list[FilePlan]) -> list[Finding]:
    described: dict[tuple[str, Identity], str] = {}
    for plan in plans:
        for step in plan.steps:
            for ident in step.resolved:
                described.setdefault((plan.path, ident), step.description)
    out = []
    for finding in findings:
        text = described.get((finding.path, identity(finding)))
        out.append(finding.with_changes(fix=Fix(description=text)) if text else finding)
    return out


# ---------------------------------------------------------------------------------------------
# planning one file


def plan_file(path: str, raw: bytes, package: str | None,
              closes_cycle: Callable[[str, ast.stmt], bool] = lambda path, stmt: True,
              can_fail: Callable[[str, ast.stmt], bool] | None = None) -> FilePlan:
    """Every safe fix for the file's bytes, applied group by group and verified each time.

    ``closes_cycle(path, import_statement)`` says whether hoisting the statement would close
    an import cycle (the default, "always", means: never hoist a first-party import... or any
    other: pass :class:`.fix_graph.CycleOracle`'s answer for the real decision).
    ``can_fail(path, import_statement)`` says whether the import could fail at module level
    (default: anything but the standard library and relative imports; ``apply_fixes`` passes
    :class:`.environment.ImportSafety`'s answer from the project's environment).
    """
    if can_fail is None:
        from premerge.scope.environment import stdlib_only

        can_fail = stdlib_only
    source = decode_source(path, raw)  # raises SourceError
    plan = FilePlan(source=source, new_text=source.text)
    try:
        tree = parse_text(source.text, path)
        findings = _analyse(tree, source.text, path, package)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return plan  # the scope check reports why; nothing to fix safely
    first_seen = list(findings)
    tried: set[Identity] = set()
    for _ in range(MAX_GROUPS):
        text = plan.new_text
        editor = _Editor(SourceText(text, source.newline), tree, path, closes_cycle, can_fail)
        group = editor.next_group(findings, tried)
        if group is None:
            break
        tried.update(identity(f) for f in group.findings)
        for shape in group.shapes:
            attempt = shape()
            if attempt is None:
                continue
            try:
                candidate = apply_edits(text, attempt.edits)
            except OverlappingEdits:
                continue
            verified = _verified(candidate, path, package, findings, attempt.targets)
            if verified is None:
                continue
            plan.new_text, (findings, tree) = candidate, verified
            resolved = {identity(f) for f in attempt.targets}
            plan.steps.append(Step(attempt.description, [identity(f) for f in first_seen
                                                         if identity(f) in resolved]))
            if attempt.unused_flag:
                findings, tree = _drop_unused_import(plan, path, package, findings, tree,
                                                     attempt.unused_flag)
            break
    return plan


def _drop_unused_import(plan: FilePlan, path: str, package: str | None,
                        findings: list[Finding], tree: ast.Module, name: str
                        ) -> tuple[list[Finding], ast.Module]:
    """After an emptied ``if TYPE_CHECKING:`` block went: its flag's import too, when nothing
    else uses the name (a separate edit on the new text, verified like any other)."""
    editor = _Editor(SourceText(plan.new_text, plan.source.newline), tree, path,
                     lambda _path, _stmt: True, lambda _path, _stmt: True)
    edit = editor.unused_import(name)
    if edit is None:
        return findings, tree
    candidate = apply_edits(plan.new_text, [edit])
    verified = _verified(candidate, path, package, findings, [])
    if verified is None:
        return findings, tree
    plan.new_text = candidate
    return verified


def _analyse(tree: ast.Module, text: str, path: str, package: str | None) -> list[Finding]:
    from premerge.scope.analyzer import analyze_tree

    return analyze_tree(tree, text, path, package,
                        is_init=path.endswith("/__init__.py")).findings


def _verified(text: str, path: str, package: str | None, before: list[Finding],
              targets: list[Finding]) -> tuple[list[Finding], ast.Module] | None:
    """The findings (and tree) of the edited text when it compiles, the targets are gone and
    nothing new appeared; else None.  One parse serves the compiler and the analysis."""
    try:
        tree = parse_text(text, path)
        compile(tree, path, "exec", dont_inherit=True)  # what parsing alone lets through
        after = _analyse(tree, text, path, package)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    gone = {identity(f) for f in targets}
    after_ids = Counter(identity(f) for f in after)
    if any(ident in after_ids for ident in gone):
        return None
    allowed = Counter(identity(f) for f in before if identity(f) not in gone)
    if after_ids - allowed:
        return None
    return after, tree


# ---------------------------------------------------------------------------------------------
# fix shapes

class Attempt(Record):
    """One shape's edits for a group, and the findings they resolve."""

    __slots__ = _fields = ("description", "edits", "targets", "unused_flag")

    def __init__(self, description: str, edits: list[Edit], targets: list[Finding],
                 unused_flag: str | None = None) -> None:
        self.description = description
        self.edits = edits
        self.targets = targets
        #: a name whose import may be unused once this is applied (the TYPE_CHECKING flag)
        self.unused_flag = unused_flag


class Group(Record):
    """Findings one fix resolves together, and the shapes to try for them, in order."""

    __slots__ = _fields = ("findings", "shapes")

    def __init__(self, findings: list[Finding],
                 shapes: list[Callable[[], Attempt | None]]) -> None:
        self.findings = findings
        self.shapes = shapes


class _Editor:
    """Fix shapes for one state of the text (rebuilt after every applied group)."""

    def __init__(self, source: SourceText, tree: ast.Module, path: str,
                 closes_cycle: Callable[[str, ast.stmt], bool],
                 can_fail: Callable[[str, ast.stmt], bool]) -> None:
        self.source = source
        self.tree = tree
        self.path = path
        self.closes_cycle = closes_cycle
        self.can_fail = can_fail
        self._parents: dict[ast.AST, ast.AST] | None = None
        self.imports: dict[tuple[int, int], ast.Import | ast.ImportFrom] = {
            (node.lineno, node.col_offset + 1): node for node in ast.walk(tree)
            if isinstance(node, (ast.Import, ast.ImportFrom))}

    @property
    def parents(self) -> dict[ast.AST, ast.AST]:
        """Child -> parent, built on first need (most files never need it)."""
        if self._parents is None:
            self._parents = {child: node for node in ast.walk(self.tree)
                             for child in ast.iter_child_nodes(node)}
        return self._parents

    # -- choosing what to fix next ------------------------------------------------------------
    def next_group(self, findings: Sequence[Finding], tried: set[Identity]) -> Group | None:
        def open_(finding: Finding) -> bool:
            if finding.code not in FIXABLE or identity(finding) in tried:
                return False
            codes = noqa_codes(self.source.line(finding.line or 0))
            return codes is None or not ("*" in codes or finding.code in codes)

        candidates = sorted((f for f in findings if open_(f)), key=Finding.sort_key)
        for finding in candidates:
            stmt = self._statement(finding)
            if stmt is None:
                tried.add(identity(finding))
                continue
            group = [f for f in candidates if self._statement(f) is stmt]
            return Group(group, self._shapes(stmt, group))
        return None

    def _statement(self, finding: Finding) -> ast.Import | ast.ImportFrom | None:
        """The import statement that binds the finding's name (``related[0]``)."""
        if not finding.related or not finding.name:
            return None
        where = finding.related[0]
        stmt = self.imports.get((where.line or 0, where.col or 0))
        if stmt is None or not any(bound_name(a) == finding.name for a in stmt.names):
            return None
        return stmt

    def _shapes(self, stmt: ast.Import | ast.ImportFrom, group: list[Finding]
                ) -> list[Callable[[], Attempt | None]]:
        names = {f.name for f in group if f.name}
        aliases = [a for a in stmt.names if bound_name(a) in names]
        if isinstance(stmt, ast.Import):
            tops = {a.name.split(".")[0] for a in aliases}
        else:
            tops = {"" if stmt.level else (stmt.module or "").split(".")[0]}
        if tops & TYPING_ONLY_MODULES:
            return []
        heavy = bool(tops & HEAVY_MODULES)

        def copy() -> Attempt | None:
            return self.copy_into_functions(stmt, aliases, group)

        type_checking = self._type_checking_block(stmt)
        if RULES[group[0].code].fix_shape == "untype":
            if type_checking is None or heavy or self.can_fail(self.path, stmt) or \
                    self.closes_cycle(self.path, stmt):
                return [copy]
            return [lambda: self.move_out_of_type_checking(stmt, aliases, group,
                                                           type_checking), copy]
        if heavy or self._unsafe_to_hoist(stmt, names):
            return [copy]
        first_use = min(f.line or 1 for f in group)
        return [lambda: self.hoist(stmt, aliases, group),
                lambda: self.hoist(stmt, aliases, group, before_line=first_use), copy]

    def _unsafe_to_hoist(self, stmt: ast.Import | ast.ImportFrom, names: set[str]) -> bool:
        if names & (self._module_names(exclude=stmt) | set(dir(builtins))):
            return True  # the name clashes with another module-level binding or a builtin
        if self._deliberately_lazy(stmt) or self.can_fail(self.path, stmt):
            return True
        return self.closes_cycle(self.path, stmt)

    def _deliberately_lazy(self, stmt: ast.stmt) -> bool:
        """Under a condition, a loop, ``with`` or ``try`` (``except ImportError`` above all) in
        its function, other than the ``__main__`` block itself."""
        from premerge.imports import is_main_guard

        node: ast.AST = stmt
        while node in self.parents:
            parent = self.parents[node]
            if isinstance(parent, (*_FUNCTIONS, ast.ClassDef, ast.Module, ast.Lambda)):
                return False
            if isinstance(parent, ast.If) and is_main_guard(parent.test) and \
                    isinstance(self.parents.get(parent), ast.Module):
                node = parent
                continue
            if isinstance(parent, _CONDITIONAL):
                return True
            node = parent
        return False

    def _type_checking_block(self, stmt: ast.stmt) -> ast.If | None:
        from premerge.scope.bindings import is_type_checking

        parent = self.parents.get(stmt)
        if isinstance(parent, ast.If) and is_type_checking(parent.test) and \
                stmt in parent.body and isinstance(self.parents.get(parent), ast.Module):
            return parent
        return None

    def _module_names(self, exclude: ast.stmt) -> set[str]:
        """Names bound at module level (also via ``global`` in functions), but not by
        ``exclude``."""
        names: set[str] = set()
        stack: list[ast.AST] = [s for s in self.tree.body if s is not exclude]
        while stack:
            node = stack.pop()
            if node is exclude:
                continue
            if isinstance(node, (*_FUNCTIONS, ast.ClassDef)):
                names.add(node.name)
                continue
            if isinstance(node, (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp,
                                 ast.GeneratorExp)):
                continue
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names.update(bound_name(a) for a in node.names)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
            elif isinstance(node, ast.ExceptHandler) and node.name:
                names.add(node.name)
            elif type(node).__name__ in ("MatchAs", "MatchStar") and getattr(node, "name", None):
                names.add(node.name)  # type: ignore[attr-defined]
            stack.extend(ast.iter_child_nodes(node))
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Global):
                names.update(node.names)
        return names

    # -- the shapes ---------------------------------------------------------------------------
    def hoist(self, stmt: ast.Import | ast.ImportFrom, aliases: list[ast.alias],
              group: list[Finding], before_line: int | None = None) -> Attempt | None:
        """Module level, after the leading imports; with ``before_line`` (module code above
        the last of them uses the name) after the last import above that line."""
        edits: list[Edit] = []
        merged = self._merge_target(stmt, before_line)
        if merged is not None:
            edit = merge_into_from(self.source, merged, aliases)
            if edit is None:
                return None
            edits.append(edit)
            description = (f"import {', '.join(a.asname or a.name for a in aliases)} at module "
                           f"level, in `{import_text(merged, merged.names)}` "
                           f"(line {merged.lineno})")
        else:
            text = import_text(stmt, aliases)
            edits.append(module_insertion(self.source, self.tree, text, before_line))
            description = f"import at module level: `{text}`"
        removal = self._remove_from_original(stmt, aliases)
        if removal is not None:
            edits.append(removal)
        return Attempt(description, edits, group)

    def copy_into_functions(self, stmt: ast.Import | ast.ImportFrom, aliases: list[ast.alias],
                            group: list[Finding]) -> Attempt | None:
        by_function: dict[ast.AST, list[Finding]] = {}
        for finding in group:
            function = self._using_function(finding)
            if function is not None:
                by_function.setdefault(function, []).append(finding)
        if not by_function:
            return None
        edits: list[Edit] = []
        targets: list[Finding] = []
        labels: list[str] = []
        for function, found in by_function.items():
            wanted = {f.name for f in found}
            text = import_text(stmt, [a for a in aliases if bound_name(a) in wanted])
            edit = function_insertion(self.source, function, text)  # type: ignore[arg-type]
            if edit is None:
                continue
            edits.append(edit)
            targets.extend(found)
            labels.append(f"{function.name}()")  # type: ignore[attr-defined]
        if not edits:
            return None
        return Attempt(f"import it where it is used, in {', '.join(labels)}: "
                       f"`{import_text(stmt, aliases)}`", edits, targets)

    def move_out_of_type_checking(self, stmt: ast.Import | ast.ImportFrom,
                                  aliases: list[ast.alias], group: list[Finding],
                                  block: ast.If) -> Attempt | None:
        edits: list[Edit] = []
        merged = self._merge_target(stmt)
        text = import_text(stmt, aliases)
        if merged is not None:
            edit = merge_into_from(self.source, merged, aliases)
            if edit is None:
                return None
            edits.append(edit)
        else:
            edits.append(module_insertion(self.source, self.tree, text))
        remaining = [a for a in stmt.names if a not in aliases]
        flag = None
        if remaining:
            edit = rewritten_import(self.source, stmt, remaining)
            if edit is None:
                return None
            edits.append(edit)
        elif len(block.body) > 1:
            if not self.source.owns_lines(stmt):
                return None
            edits.append(self.source.delete_lines(stmt.lineno, stmt.end_lineno or stmt.lineno))
        else:
            if block.orelse or not self.source.owns_lines(block):
                return None
            edits.append(self.source.delete_lines(block.lineno, block.end_lineno or block.lineno))
            test = block.test
            flag = test.id if isinstance(test, ast.Name) else (
                test.value.id if isinstance(test, ast.Attribute)
                and isinstance(test.value, ast.Name) else None)
        return Attempt(f"move `{text}` out of `if TYPE_CHECKING:`", edits, group, flag)

    # -- helpers ------------------------------------------------------------------------------
    def _merge_target(self, stmt: ast.Import | ast.ImportFrom,
                      before_line: int | None = None) -> ast.ImportFrom | None:
        """A top-level ``from <same module> import ...`` in the leading block to merge into."""
        if not isinstance(stmt, ast.ImportFrom):
            return None
        _docstring, last = module_import_anchor(self.tree, before_line)
        if last is None:
            return None
        for node in self.tree.body:
            if node.lineno > last.lineno:
                break
            if (isinstance(node, ast.ImportFrom) and node is not stmt
                    and node.module == stmt.module and node.level == stmt.level
                    and node.module != "__future__"
                    and not any(a.name == "*" for a in node.names)):
                return node
        return None

    def _remove_from_original(self, stmt: ast.Import | ast.ImportFrom,
                              aliases: list[ast.alias]) -> Edit | None:
        """Drop the hoisted names from the original statement (now redundant), when that
        leaves its block non-empty and loses no comment; else leave it as it is."""
        remaining = [a for a in stmt.names if a not in aliases]
        if remaining:
            return rewritten_import(self.source, stmt, remaining)
        parent = self.parents.get(stmt)
        body = next((getattr(parent, f) for f in ("body", "orelse", "finalbody")
                     if stmt in getattr(parent, f, ())), None)
        if not body or len(body) < 2 or not self.source.owns_lines(stmt):
            return None
        return self.source.delete_lines(stmt.lineno, stmt.end_lineno or stmt.lineno)

    def unused_import(self, name: str) -> Edit | None:
        """Remove the top-level import binding ``name`` when nothing loads the name."""
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Name) and node.id == name:
                return None  # still used
        for node in self.tree.body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                keep = [a for a in node.names if bound_name(a) != name]
                if len(keep) == len(node.names):
                    continue
                if keep:
                    return rewritten_import(self.source, node, keep)
                if not self.source.owns_lines(node):
                    return None
                return self.source.delete_lines(node.lineno, node.end_lineno or node.lineno)
        return None

    def _using_function(self, finding: Finding) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
        """The innermost ``def`` whose *body* holds the finding's line."""
        line = finding.line or 0
        best: Any = None
        for node in ast.walk(self.tree):
            if isinstance(node, _FUNCTIONS) and node.body:
                from premerge.scope.fix_text import first_line

                if first_line(node.body[0]) <= line <= (node.end_lineno or node.lineno):
                    if best is None or node.lineno > best.lineno:
                        best = node
        return best


# ---------------------------------------------------------------------------------------------
# output


def unified_diff(plans: Sequence[FilePlan], root: str) -> str:
    """``git diff``-style unified diffs (``--- a/path`` / ``+++ b/path``, repository-relative),
    with git's marker for a last line that has no line ending."""
    out: list[str] = []
    for plan in plans:
        rel = relative_to(plan.path, root)
        before = SourceText(plan.source.text).lines
        after = SourceText(plan.new_text).lines
        for line in difflib.unified_diff(before, after, f"a/{rel}", f"b/{rel}"):
            if not line.endswith(("\n", "\r")):
                line += "\n\\ No newline at end of file\n"
            out.append(line)
    return "".join(out)


def write_atomic(path: str, data: bytes, expected: bytes) -> bool:
    """Replace the file's bytes with ``data`` unless they are no longer ``expected``.

    The new bytes go to a temporary file in the same directory (same mode), then
    ``os.replace`` swaps it in, so a reader sees the old file or the new one, never half of
    one.  A symlink is never written through (it may lead out of the repository): OSError
    (ELOOP); the file it names is fixed under its own name.  Returns False (writing nothing)
    when the file changed since it was read.
    """
    info = os.lstat(path)
    if stat.S_ISLNK(info.st_mode):
        raise OSError(errno.ELOOP, "it is a symbolic link, and --fix never writes through "
                                   "one (fix the file it points to)")
    if _read(path) != expected:
        return False
    mode = stat.S_IMODE(info.st_mode)
    directory, name = os.path.split(path)
    handle, temporary = tempfile.mkstemp(prefix=f".{name}.", suffix=".premerge", dir=directory)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, mode)
        if _read(path) != expected:  # last look, right before the swap
            os.unlink(temporary)
            return False
        os.replace(temporary, path)  # replaces the name itself: never writes through a link
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
    return True


def _read(path: str) -> bytes | None:
    """The file's bytes, None when it is not (or no longer) a regular file of bounded size,
    or has become a symlink."""
    try:
        return read_regular(path, MAX_SOURCE_BYTES, follow_symlinks=False)
    except FileRefused:
        return None
