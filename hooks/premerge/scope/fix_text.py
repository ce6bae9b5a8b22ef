"""Text surgery for the scope autofix: where an import goes, how it is written, and how an
existing import statement grows or shrinks -- as character-offset edits on the decoded source.

Everything here is pure (text and ``ast`` in, edits out), so the fix engine can try an edit,
re-analyse the result and throw it away.  Lines are counted the way the tokenizer counts them
(``\\n``, ``\\r\\n`` and ``\\r`` end a line; form feeds do not), columns from ``ast`` are UTF-8
byte offsets and are converted to characters here, in one place.
"""

from __future__ import annotations

import ast
import re

from premerge.records import FrozenRecord, frozen_init

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")
_BLANK = re.compile(r"[ \t\f]*\Z")
_COMMENT_OR_BLANK = re.compile(r"[ \t\f]*(?:#.*)?\Z")


class Edit(FrozenRecord):
    """Replace ``text[start:end]`` with ``new`` (an insertion when ``start == end``)."""

    __slots__ = _fields = ("start", "end", "new")
    start: int
    end: int
    new: str

    def __init__(self, start: int, end: int, new: str) -> None:
        frozen_init(self, start, end, new)


class OverlappingEdits(ValueError):
    """Two edits touch the same characters: the caller drops that fix."""


class SourceText:
    """The decoded source with line offsets, and the file's own line ending for new lines."""

    def __init__(self, text: str, newline: str = "\n") -> None:
        self.text = text
        self.newline = newline
        self.lines = _LINE.findall(text)  # with their line endings
        self.starts = [0]
        for line in self.lines:
            self.starts.append(self.starts[-1] + len(line))

    def line(self, lineno: int) -> str:
        """Line ``lineno`` (1-based) without its line ending; "" past the end."""
        if 1 <= lineno <= len(self.lines):
            return self.lines[lineno - 1].rstrip("\r\n")
        return ""

    def has_newline(self, lineno: int) -> bool:
        return 1 <= lineno <= len(self.lines) and self.lines[lineno - 1].endswith(("\n", "\r"))

    def line_start(self, lineno: int) -> int:
        """Offset of the first character of ``lineno``; the end of the text past the last."""
        if lineno <= 1:
            return 0
        if lineno > len(self.lines):
            return len(self.text)
        return self.starts[lineno - 1]

    def offset(self, lineno: int, byte_col: int) -> int:
        """Character offset of an ``ast`` position (1-based line, UTF-8 byte column)."""
        line = self.line(lineno)
        chars = len(line.encode("utf-8")[:byte_col].decode("utf-8", errors="ignore"))
        return self.line_start(lineno) + chars

    def position(self, offset: int) -> tuple[int, int]:
        """(1-based line, 1-based character column) of a character offset."""
        lineno = 1
        for index, start in enumerate(self.starts[1:], start=1):
            if start > offset:
                break
            lineno = index + 1
        lineno = min(lineno, max(1, len(self.lines)))
        return lineno, offset - self.line_start(lineno) + 1

    def indent(self, lineno: int) -> str:
        line = self.line(lineno)
        return line[: len(line) - len(line.lstrip(" \t\f"))]

    def is_blank(self, lineno: int) -> bool:
        return bool(_BLANK.match(self.line(lineno)))

    def segment(self, node: ast.AST) -> str:
        start = self.offset(node.lineno, node.col_offset)  # type: ignore[attr-defined]
        end = self.offset(node.end_lineno, node.end_col_offset)  # type: ignore[attr-defined]
        return self.text[start:end]

    def owns_lines(self, node: ast.stmt) -> bool:
        """Whether the statement is alone on its lines (nothing but a comment after it), so
        deleting its lines deletes nothing else."""
        before = self.line(node.lineno)[: self._char_col(node.lineno, node.col_offset)]
        after = self.line(node.end_lineno or node.lineno)[  # type: ignore[arg-type]
            self._char_col(node.end_lineno or node.lineno, node.end_col_offset or 0):]
        return bool(_BLANK.match(before)) and bool(_COMMENT_OR_BLANK.match(after))

    def starts_own_line(self, node: ast.stmt) -> bool:
        before = self.line(node.lineno)[: self._char_col(node.lineno, node.col_offset)]
        return bool(_BLANK.match(before))

    def _char_col(self, lineno: int, byte_col: int) -> int:
        return self.offset(lineno, byte_col) - self.line_start(lineno)

    # -- edits -------------------------------------------------------------------------------
    def insert_after_line(self, lineno: int, body: str, blank_before: bool = False,
                          blank_after: bool = False) -> Edit:
        """Insert ``body`` (one or more lines, no final line ending) as new lines after line
        ``lineno``; a file without a final line ending keeps lacking one."""
        nl = self.newline
        if lineno < 1:
            return Edit(0, 0, body + nl + (nl if blank_after else ""))
        if self.has_newline(lineno) or lineno > len(self.lines):
            at = self.line_start(lineno + 1)
            return Edit(at, at, (nl if blank_before else "") + body + nl
                        + (nl if blank_after else ""))
        at = len(self.text)
        return Edit(at, at, nl + (nl if blank_before else "") + body)

    def delete_lines(self, first: int, last: int) -> Edit:
        """Delete whole lines ``first``..``last``; at the end of a file without a final line
        ending, the line ending before them goes instead, so the file still lacks one.  When
        blank lines surround them, one of those goes too (no widening gap)."""
        if first > 1 and self.is_blank(first - 1) and last < len(self.lines) and \
                self.is_blank(last + 1):
            first -= 1
        start, end = self.line_start(first), self.line_start(last + 1)
        if not self.has_newline(last) and first > 1:
            previous = self.lines[first - 2]
            start -= len(previous) - len(previous.rstrip("\r\n"))
        return Edit(start, end, "")

    def replace_node(self, node: ast.AST, new: str) -> Edit:
        start = self.offset(node.lineno, node.col_offset)  # type: ignore[attr-defined]
        end = self.offset(node.end_lineno, node.end_col_offset)  # type: ignore[attr-defined]
        return Edit(start, end, new)


def apply_edits(text: str, edits: list[Edit]) -> str:
    """The text with every edit applied; insertions at one place keep their order."""
    ordered = sorted(enumerate(edits), key=lambda item: (item[1].start, item[1].end, item[0]))
    out: list[str] = []
    position = 0
    for _index, edit in ordered:
        if edit.start < position:
            raise OverlappingEdits(f"edits overlap at offset {edit.start}")
        out.append(text[position:edit.start])
        out.append(edit.new)
        position = edit.end
    out.append(text[position:])
    return "".join(out)


# ---------------------------------------------------------------------------------------------
# writing import statements


def alias_text(alias: ast.alias) -> str:
    return f"{alias.name} as {alias.asname}" if alias.asname else alias.name


def bound_name(alias: ast.alias) -> str:
    """The name an alias binds: ``import a.b`` binds ``a``; ``as`` wins."""
    return alias.asname or alias.name.split(".", 1)[0]


def import_head(stmt: ast.Import | ast.ImportFrom) -> str:
    if isinstance(stmt, ast.Import):
        return "import "
    return f"from {'.' * stmt.level}{stmt.module or ''} import "


def import_text(stmt: ast.Import | ast.ImportFrom, aliases: list[ast.alias]) -> str:
    """The statement again, in its exact form (relative level, ``as``), with only ``aliases``."""
    return import_head(stmt) + ", ".join(alias_text(a) for a in aliases)


def rewritten_import(source: SourceText, stmt: ast.Import | ast.ImportFrom,
                     aliases: list[ast.alias]) -> Edit | None:
    """An edit that leaves ``stmt`` importing only ``aliases``; None when the statement holds
    comments (rewriting would lose them)."""
    segment = source.segment(stmt)
    if "#" in segment:
        return None
    if isinstance(stmt, ast.ImportFrom) and "(" in segment and "\n" in segment.replace(
            "\r", "\n"):
        nl = source.newline
        inner = source.indent(stmt.lineno) + "    "
        body = "".join(f"{inner}{alias_text(a)},{nl}" for a in aliases)
        new = f"{import_head(stmt)}({nl}{body}{source.indent(stmt.lineno)})"
    else:
        new = import_text(stmt, aliases)
    return source.replace_node(stmt, new)


def merge_into_from(source: SourceText, stmt: ast.ImportFrom,
                    aliases: list[ast.alias]) -> Edit | None:
    """Add ``aliases`` to an existing ``from x import ...`` statement, in its own style:
    one more line in a parenthesised one-per-line list, else ``, name`` after the last name
    (which also works across backslash continuations)."""
    last = stmt.names[-1]
    if getattr(last, "end_lineno", None) is None:
        return None  # Python < 3.10 gives aliases no positions
    end = source.offset(last.end_lineno, last.end_col_offset)  # type: ignore[arg-type]
    stmt_end = source.offset(stmt.end_lineno, stmt.end_col_offset)  # type: ignore[arg-type]
    tail = source.text[end:stmt_end]
    segment = source.segment(stmt)
    multi_line = "(" in segment and last.end_lineno != stmt.end_lineno
    if multi_line and tail.lstrip(" \t").startswith(","):
        # one name per line with a trailing comma: add lines after the last name's line
        line = last.end_lineno  # type: ignore[assignment]
        if last.lineno != line:
            return None
        indent = source.indent(line)
        body = source.newline.join(f"{indent}{alias_text(a)}," for a in aliases)
        return source.insert_after_line(line, body)
    return Edit(end, end, "".join(f", {alias_text(a)}" for a in aliases))


# ---------------------------------------------------------------------------------------------
# where things go


def is_docstring(stmt: ast.stmt) -> bool:
    return (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)
            and isinstance(stmt.value.value, str))


def first_line(stmt: ast.stmt) -> int:
    """A statement's first line, decorators included."""
    lines = [stmt.lineno]
    for decorator in getattr(stmt, "decorator_list", ()):
        lines.append(decorator.lineno)
    return min(lines)


def module_import_anchor(tree: ast.Module, before_line: int | None = None
                         ) -> tuple[ast.stmt | None, ast.stmt | None]:
    """(docstring, last top-level import of the leading block [ending before ``before_line``]).

    The leading block is everything before the first ``def``/``class`` or the ``__main__``
    block: module-level setup between imports (``sys.path`` edits, an ``if TYPE_CHECKING:``
    block) stays above the new import, so a hoisted import never runs before it.
    """
    from premerge.imports import is_main_guard

    body = tree.body
    docstring = body[0] if body and is_docstring(body[0]) else None
    last_import = None
    for stmt in body[1 if docstring else 0:]:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            break
        if isinstance(stmt, ast.If) and is_main_guard(stmt.test):
            break
        if before_line is not None and (stmt.end_lineno or stmt.lineno) >= before_line:
            break
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            last_import = stmt
    return docstring, last_import


def module_insertion(source: SourceText, tree: ast.Module, body: str,
                     before_line: int | None = None) -> Edit:
    """Insert the statement(s) ``body`` at module level after the existing top-level imports
    (after the docstring and ``from __future__`` imports, which are imports too); with
    ``before_line``, after the last of them that ends above that line."""
    docstring, last_import = module_import_anchor(tree, before_line)
    if last_import is not None:
        return source.insert_after_line(last_import.end_lineno or last_import.lineno, body)
    if docstring is not None:
        end = docstring.end_lineno or docstring.lineno
        following = end + 1
        blank_after = following <= len(source.lines) and not source.is_blank(following)
        return source.insert_after_line(end, body, blank_before=True, blank_after=blank_after)
    if not tree.body:
        return source.insert_after_line(len(source.lines), body)
    line = first_line(tree.body[0])
    # keep a comment that belongs to the first statement with it (unless it is the file header)
    above = line - 1
    while above >= 1 and source.line(above).lstrip().startswith("#"):
        above -= 1
    if above >= 1:
        line = above + 1
    return source.insert_after_line(line - 1, body, blank_after=not source.is_blank(line))


def function_insertion(source: SourceText, function: ast.FunctionDef | ast.AsyncFunctionDef,
                       body: str) -> Edit | None:
    """Insert ``body`` as the first statement of ``function`` (after its docstring), indented
    like its first statement; None for a body on the ``def`` line."""
    first = function.body[0]
    if not source.starts_own_line(first) or first.lineno == function.lineno:
        return None
    indent = source.indent(first.lineno)
    text = source.newline.join(indent + line for line in body.split("\n"))
    if is_docstring(first):
        return source.insert_after_line(first.end_lineno or first.lineno, text)
    return source.insert_after_line(first_line(first) - 1, text)
