"""What the smoke test knows about a file before running it: imports and script effects.

One ``ast`` pass per file gives (a) every import statement, with whether it runs at import
time and whether it is only for type checkers -- the raw material of the import graph and the
preload list -- and (b) the module's *top-level effects*: code outside functions and outside
``if __name__ == "__main__":``.  A top-level call of a function of the same module is followed
(``main()`` without a guard is the classic script).  Effects come in kinds (:func:`effect_kind`):

* what no copy of the repository can contain -- starting processes, talking to the network,
  running as a command-line program (``sys.argv``, ``sys.exit``, ``input()``, argparse),
  looping forever by design: importing would *run* the program, so it is not imported
  (``script_effect``);
* writes -- creating, changing, even deleting files -- never stop an import: it runs in a
  pristine snapshot of the repository, and what it wrote is reported (PM311).  A module whose
  top-level code deletes, renames or rewrites files (``write_effect``) is imported after all
  the others, one at a time, so that it cannot change what another module imports.

Results are plain JSON-able dicts, cached by file content.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from typing import Any

from premerge.imports import is_main_guard
from premerge.imports.references import ImportRef, TreeOrError, collect_imports, parsed_text
from premerge.records import Record

#: Calls (qualified through the file's imports) that make top-level code a script's effect.
EFFECT_CALLS: dict[str, str] = {
    "sys.exit": "calls sys.exit()", "exit": "calls exit()", "quit": "calls quit()",
    "os._exit": "calls os._exit()", "os.abort": "calls os.abort()",
    "input": "reads standard input (input())", "getpass.getpass": "asks for a password",
    "os.system": "runs a shell command (os.system)", "os.popen": "runs a shell command",
    "os.fork": "forks", "os.kill": "sends signals", "pty.spawn": "spawns a process",
    "socket.socket": "opens a socket", "socket.create_connection": "opens a connection",
    "socket.create_server": "opens a server socket",
    "urllib.request.urlopen": "makes a network request",
    "urllib.request.urlretrieve": "downloads a file",
    "webbrowser.open": "opens a web browser",
    "os.remove": "deletes files", "os.unlink": "deletes files", "os.rmdir": "deletes "
    "directories", "os.removedirs": "deletes directories", "os.rename": "renames files",
    "os.renames": "renames files", "os.replace": "replaces files", "os.makedirs":
    "creates directories", "os.mkdir": "creates directories", "os.truncate": "truncates files",
    "os.chmod": "changes file modes", "os.chown": "changes file owners",
    "os.symlink": "creates links", "os.link": "creates links",
    "shutil.rmtree": "deletes a directory tree", "shutil.move": "moves files",
    "shutil.copy": "copies files", "shutil.copy2": "copies files", "shutil.copyfile":
    "copies files", "shutil.copytree": "copies a directory tree", "shutil.make_archive":
    "writes an archive", "shutil.unpack_archive": "unpacks an archive",
    "sqlite3.connect": "opens a database file", "psycopg2.connect": "connects to a database",
    "psycopg.connect": "connects to a database", "pymysql.connect": "connects to a database",
    "MySQLdb.connect": "connects to a database", "mysql.connector.connect":
    "connects to a database", "pymongo.MongoClient": "connects to a database",
    "redis.Redis": "connects to a database", "redis.StrictRedis": "connects to a database",
    "duckdb.connect": "opens a database file", "pyodbc.connect": "connects to a database",
    "oracledb.connect": "connects to a database", "cx_Oracle.connect": "connects to a database",
    "asyncio.run": "runs an event loop", "unittest.main": "runs tests", "pytest.main":
    "runs tests", "uvicorn.run": "starts a server", "smtplib.SMTP": "connects to a mail server",
    "smtplib.SMTP_SSL": "connects to a mail server", "ftplib.FTP": "connects to a server",
    # a setup script under another name (a template, setup_cython.py): setup() parses argv
    "setuptools.setup": "runs a setup script (setuptools.setup())",
    "distutils.core.setup": "runs a setup script (distutils.core.setup())",
}
#: Any call into these modules is an effect (``subprocess.run``, ``requests.get`` ...) --
#: for HTTP clients only the calls that send a request (``requests.Session()`` or an
#: ``HTTPAdapter`` built at import talk to nobody).
EFFECT_MODULES: dict[str, str] = {
    "subprocess": "runs a subprocess", "requests": "makes a network request",
    "httpx": "makes a network request", "paramiko": "opens an SSH connection",
}
_HTTP_CLIENTS = frozenset({"requests", "httpx"})
_HTTP_VERBS = frozenset({"get", "post", "put", "patch", "delete", "head", "options",
                         "request", "stream", "send"})
EFFECT_PREFIXES: tuple[tuple[str, str], ...] = (
    ("os.exec", "replaces the process (os.exec*)"), ("os.spawn", "spawns a process"),
    ("asyncio.create_subprocess_", "runs a subprocess"),
)
#: Method names whose call is an effect whatever the object (pathlib and friends).
EFFECT_METHODS: dict[str, str] = {
    "write_text": "writes files", "write_bytes": "writes files", "touch": "creates files",
    "unlink": "deletes files", "rmdir": "deletes directories", "mkdir": "creates directories",
    "rmtree": "deletes a directory tree", "parse_args": "parses command-line arguments",
    "parse_known_args": "parses command-line arguments",
}
_WRITE_MODES = frozenset("wax+")

#: What each effect (by the start of its reason) is: see :func:`effect_kind`.
_EFFECT_KINDS: tuple[tuple[str, str], ...] = (
    *((phrase, "process") for phrase in (
        "runs a subprocess", "runs a shell command", "forks", "sends signals",
        "spawns a process", "replaces the process", "opens a web browser")),
    *((phrase, "network") for phrase in (
        "opens a socket", "opens a connection", "opens a server socket", "makes a network",
        "downloads a file", "opens an SSH connection", "connects to a", "starts a server")),
    *((phrase, "create") for phrase in (
        "creates directories", "creates files", "opens a file for appending",
        "creates a file")),
    *((phrase, "write") for phrase in (
        "deletes", "renames files", "replaces files", "truncates files", "changes file",
        "moves files", "copies", "writes", "unpacks an archive", "opens a file for writing",
        "opens a database file", "creates links")),
    ("loops forever", "loop"),
)
#: Why a kind of effect keeps a module from being imported (PM312's message).
BLOCKING_KINDS = {
    "process": "starts processes outside the smoke child's control",
    "network": "talks to the network",
    "program": "runs as a command-line program",
    "loop": "never finishes by design",
}
#: the order in which a followed call's effects count (the first kinds stop an import)
_SEVERITY = {"program": 0, "process": 0, "network": 0, "loop": 0, "write": 1, "create": 2}


def effect_kind(reason: str) -> str:
    """"process", "network", "program", "loop", "write" (destructive) or "create"."""
    inner = reason
    while inner.startswith("calls ") and ", which " in inner:
        inner = inner.split(", which ", 1)[1]
    for phrase, kind in _EFFECT_KINDS:
        if inner.startswith(phrase):
            return kind
    return "program"


class FileFacts(Record):
    __slots__ = _fields = ("imports", "script_effect", "parse_error", "write_effect",
                           "class_bases")

    def __init__(self, imports: list[ImportRef] | None = None,
                 script_effect: tuple[int, str] | None = None,
                 parse_error: str | None = None,
                 write_effect: tuple[int, str] | None = None,
                 class_bases: list[str] | None = None) -> None:
        self.imports: list[ImportRef] = [] if imports is None else imports
        #: (line, reason) of the first top-level effect no snapshot contains (a process, the
        #: network, a command-line program, an endless loop); None when importing is safe
        self.script_effect = script_effect
        self.parse_error = parse_error
        #: (line, reason) of the first top-level write that deletes, renames or rewrites
        self.write_effect = write_effect
        #: dotted names (through the file's absolute imports) of the bases of classes defined
        #: at import time: ``pydantic.BaseModel`` (the warm parent subclasses a third-party
        #: one once, see ``child.warm_subclasses``)
        self.class_bases: list[str] = [] if class_bases is None else class_bases

    def to_json(self) -> dict[str, Any]:
        return {"imports": [i.to_json() for i in self.imports],
                "script_effect": list(self.script_effect) if self.script_effect else None,
                "parse_error": self.parse_error,
                "write_effect": list(self.write_effect) if self.write_effect else None,
                "class_bases": self.class_bases}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FileFacts:
        effect = data.get("script_effect")
        write = data.get("write_effect")
        return cls(imports=[ImportRef.from_json(i) for i in data.get("imports", [])],
                   script_effect=(effect[0], effect[1]) if effect else None,
                   parse_error=data.get("parse_error"),
                   write_effect=(write[0], write[1]) if write else None,
                   class_bases=list(data.get("class_bases") or ()))


def facts_from_source(text: str, filename: str = "<unknown>") -> FileFacts:
    """Imports and the first script effect of one file's source."""
    return facts_from_tree(parsed_text(text, filename))


def facts_from_tree(tree: TreeOrError) -> FileFacts:
    """Imports and the first script effect of one file's tree (or why it did not parse)."""
    if isinstance(tree, BaseException):
        return FileFacts(parse_error=f"{type(tree).__name__}: {tree}")
    facts = FileFacts()
    nodes: list[ast.Import | ast.ImportFrom] = []
    try:
        collect_imports(tree.body, facts.imports, nodes, in_function=False, typing_only=False)
        effects = _ScriptEffects(tree, nodes)
        facts.script_effect = effects.first_effect(BLOCKING_KINDS)
        facts.write_effect = effects.first_effect(("write",))
        facts.class_bases = effects.class_bases()
    except RecursionError:
        facts.script_effect = facts.write_effect = None
    return facts


# ---------------------------------------------------------------------------------------------
# imports


# ---------------------------------------------------------------------------------------------
# script effects


class _ScriptEffects:
    """Finds the first effect of code that runs at import time (guards and defs excluded)."""

    def __init__(self, tree: ast.Module, imports: list[ast.Import | ast.ImportFrom]) -> None:
        self.tree = tree
        self.aliases: dict[str, str] = {}
        self.functions: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = {}
        for node in imports:
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname:
                        self.aliases[alias.asname] = alias.name
                    else:
                        top = alias.name.split(".")[0]
                        self.aliases.setdefault(top, top)
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                for alias in node.names:
                    if alias.name != "*":
                        self.aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        for stmt in tree.body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self.functions[stmt.name] = stmt

    def class_bases(self) -> list[str]:
        """Dotted names of the bases of the classes module-level code defines (in ``if`` and
        ``try`` blocks too, not in functions), resolved through the file's imports."""
        found: list[str] = []
        stack = list(reversed(self.tree.body))
        while stack:
            stmt = stack.pop()
            if isinstance(stmt, ast.ClassDef):
                for base in stmt.bases:
                    name = self._dotted(base)
                    if name and "." in name and name not in found:
                        found.append(name)
                continue
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for field in ("body", "orelse", "finalbody", "handlers", "cases"):
                block = getattr(stmt, field, None)
                if isinstance(block, list):
                    stack.extend(reversed(block))
        return found

    def _dotted(self, expr: ast.expr) -> str | None:
        """``BaseModel`` -> ``pydantic.BaseModel`` through the imports; None when not a name."""
        parts: list[str] = []
        while isinstance(expr, ast.Attribute):
            parts.append(expr.attr)
            expr = expr.value
        if not isinstance(expr, ast.Name) or expr.id not in self.aliases:
            return None
        return ".".join([self.aliases[expr.id], *reversed(parts)])

    def first_effect(self, kinds: Iterable[str]) -> tuple[int, str] | None:
        """The first top-level effect of one of these kinds."""
        kinds = set(kinds)
        for line, reason in self._block(self.tree.body, followed=set()):
            if effect_kind(reason) in kinds:
                return line, reason
        return None

    # statements -------------------------------------------------------------------------
    def _block(self, body: list[ast.stmt], followed: set[str]) -> Iterator[tuple[int, str]]:
        for stmt in body:
            yield from self._statement(stmt, followed)

    def _statement(self, stmt: ast.stmt, followed: set[str]) -> Iterator[tuple[int, str]]:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for expr in stmt.decorator_list:
                yield from self._expression(expr, followed)
            # `def main(argv=sys.argv[1:])` only reads sys.argv for a later call: no script
            for expr in [*stmt.args.defaults, *(d for d in stmt.args.kw_defaults if d)]:
                yield from self._expression(expr, followed, argv_reads=False)
            return
        if isinstance(stmt, ast.ClassDef):
            for expr in [*stmt.decorator_list, *stmt.bases, *(k.value for k in stmt.keywords)]:
                yield from self._expression(expr, followed)
            yield from self._block(stmt.body, followed)
            return
        if isinstance(stmt, ast.Assert) and is_main_guard(stmt.test, ast.Eq):
            yield stmt.lineno, "refuses to be imported (assert __name__ == '__main__')"
            return
        if isinstance(stmt, ast.If) and is_main_guard(stmt.test, ast.NotEq) and stmt.body and \
                isinstance(stmt.body[-1], ast.Raise):
            yield stmt.lineno, "refuses to be imported (raises unless run as __main__)"
            return
        if isinstance(stmt, ast.If):
            if is_main_guard(stmt.test) or _requires_main(stmt.test):
                yield from self._block(stmt.orelse, followed)
                return
            yield from self._expression(stmt.test, followed)
            yield from self._block(stmt.body, followed)
            yield from self._block(stmt.orelse, followed)
            return
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            return
        if isinstance(stmt, ast.While) and _always_true(stmt.test) and not _breaks(stmt.body):
            yield stmt.lineno, "loops forever (`while True` without a break at module level)"
        blocks = [getattr(stmt, name) for name in ("body", "orelse", "finalbody")
                  if isinstance(getattr(stmt, name, None), list)]
        handlers = getattr(stmt, "handlers", None) or []
        cases = getattr(stmt, "cases", None) or []
        if blocks or handlers or cases:
            for name, value in ast.iter_fields(stmt):
                if name in ("body", "orelse", "finalbody", "handlers", "cases"):
                    continue
                for node in _expressions(value):
                    yield from self._expression(node, followed)
            for block in blocks:
                yield from self._block(block, followed)
            for handler in handlers:
                yield from self._block(handler.body, followed)
            for case in cases:
                yield from self._block(case.body, followed)
            return
        yield from self._expression(stmt, followed)

    # expressions ------------------------------------------------------------------------
    def qualname(self, node: ast.AST) -> str | None:
        if isinstance(node, ast.Name):
            return self.aliases.get(node.id, node.id)
        if isinstance(node, ast.Attribute):
            base = self.qualname(node.value)
            return f"{base}.{node.attr}" if base else None
        return None

    def _expression(self, root: ast.AST, followed: set[str],
                    argv_reads: bool = True) -> Iterator[tuple[int, str]]:
        stack = [root]
        while stack:
            node = stack.pop()
            if isinstance(node, ast.Lambda):
                continue
            effect = self._effect(node, followed)
            if effect is not None and not argv_reads and effect[1] == "reads sys.argv":
                effect = None
            if effect is not None:
                yield effect
                continue
            stack.extend(reversed(list(ast.iter_child_nodes(node))))

    def _effect(self, node: ast.AST, followed: set[str]) -> tuple[int, str] | None:
        line = getattr(node, "lineno", 0)
        if isinstance(node, (ast.Attribute, ast.Name)) and isinstance(node.ctx, ast.Load):
            if self.qualname(node) == "sys.argv":
                return line, "reads sys.argv"
            return None
        if not isinstance(node, ast.Call):
            return None
        func = node.func
        name = self.qualname(func)
        if name is not None:
            if name in EFFECT_CALLS and not (isinstance(func, ast.Name)
                                             and func.id in self.functions):
                return line, EFFECT_CALLS[name]
            top = name.split(".")[0]
            if top in EFFECT_MODULES and "." in name and (
                    top not in _HTTP_CLIENTS or name.rsplit(".", 1)[-1] in _HTTP_VERBS):
                return line, f"{EFFECT_MODULES[top]} ({name})"
            for prefix, reason in EFFECT_PREFIXES:
                if name.startswith(prefix):
                    return line, reason
            if name in ("open", "io.open", "codecs.open"):
                mode = _write_mode(node)
                if mode:
                    return line, mode
        if isinstance(func, ast.Attribute) and func.attr in EFFECT_METHODS:
            return line, EFFECT_METHODS[func.attr]
        if isinstance(func, ast.Name) and func.id in self.functions and func.id not in followed:
            target = self.functions[func.id]
            if any(_is_cli_decorator(self.qualname(d.func if isinstance(d, ast.Call) else d))
                   for d in target.decorator_list):
                return line, f"runs the command-line interface {func.id}()"
            inner_followed = followed | {func.id}
            inner = list(self._block(target.body, inner_followed))
            if inner:  # the effect that matters most: one that stops the import, if any
                inner_line, reason = min(inner, key=lambda e: _SEVERITY[effect_kind(e[1])])
                return line, f"calls {func.id}(), which {reason} (line {inner_line})"
        return None


def _always_true(test: ast.expr) -> bool:
    return isinstance(test, ast.Constant) and bool(test.value)


def _breaks(body: list[ast.stmt]) -> bool:
    """A ``break`` (or ``return``/``raise``) that leaves this loop, not a nested one's."""
    stack: list[ast.AST] = list(body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.Break, ast.Return, ast.Raise)):
            return True
        if isinstance(node, (ast.For, ast.AsyncFor, ast.While)):
            stack.extend(node.orelse)
            continue
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda,
                             ast.expr)):
            continue
        stack.extend(ast.iter_child_nodes(node))
    return False


def _requires_main(test: ast.expr) -> bool:
    """``sys.platform != "win32" and __name__ == "__main__"``: the body runs only as a script."""
    return isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And) and any(
        is_main_guard(value) or _requires_main(value) for value in test.values)


def _is_cli_decorator(name: str | None) -> bool:
    return bool(name) and name.rsplit(".", 1)[-1] in ("command", "group")  # click, typer


def _write_mode(call: ast.Call) -> str | None:
    """How an ``open()`` call writes ("opens a file for writing/appending", "creates a
    file"); None when it only reads."""
    mode: ast.expr | None = call.args[1] if len(call.args) > 1 else None
    for keyword in call.keywords:
        if keyword.arg == "mode":
            mode = keyword.value
    if mode is None:
        return None
    if not (isinstance(mode, ast.Constant) and isinstance(mode.value, str)):
        return "opens a file for writing"  # a computed mode: assume the worst
    letters = set(mode.value)
    if not _WRITE_MODES & letters:
        return None
    if "w" in letters:
        return "opens a file for writing"
    if "x" in letters:
        return "creates a file"
    if "a" in letters:
        return "opens a file for appending"
    return "opens a file for writing"  # "r+": rewrites in place


def _expressions(value: object) -> Iterator[ast.AST]:
    if isinstance(value, ast.AST):
        yield value
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, ast.AST):
                yield item
