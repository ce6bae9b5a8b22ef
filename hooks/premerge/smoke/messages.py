"""PM3xx: the import smoke test, one class per failure (pyflakes-style messages).

Every finding is reported at the file of the module that was imported, at the line the
traceback points to in that file; the traceback's repository frames (and, for cycles, the
import statements of the cycle) are its related locations.  ``module`` is the dotted name.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from premerge.findings import Finding, Location, Rule, Severity
from premerge.input_rules import SyntaxErrorInFile
from premerge.records import Record
from premerge.sources import relative_to

#: typing and the classifier's context are imported for type checkers only
TYPING_ONLY = False
if TYPING_ONLY:
    from typing import Any, ClassVar

    from premerge.imports.discovery import ProjectModule
    from premerge.smoke.classify import Context


class Classified(Record):
    """A finding, and the module path its failure comes from (for folding)."""

    __slots__ = _fields = ("finding", "origin")

    def __init__(self, finding: Finding, origin: str | None = None) -> None:
        self.finding = finding
        self.origin = origin  # module path the failure comes from (for folding)


class ImportFailure(Record):
    """An import that raised, as the child reported it, with what the rules judge it by: the
    exception (``kind``, its class's ``bases`` by name, ``message``), the traceback's repository
    frames, the line of the module's file it points to and the other frames as related
    locations.  Built by :func:`premerge.smoke.classify.classify` for each failed import."""

    __slots__ = _fields = ("module", "exc", "kind", "bases", "message", "frames", "line",
                           "related", "origin", "platform_hint", "last_output", "ctx")

    def __init__(self, module: ProjectModule, exc: dict[str, Any], kind: str, bases: list[str],
                 message: str, frames: list[tuple[str, int, str]], line: int | None,
                 related: list[Location], origin: str | None, platform_hint: str,
                 last_output: str, ctx: Context) -> None:
        self.module = module
        self.exc = exc
        self.kind = kind
        self.bases = bases
        self.message = message
        #: (path, line, function) of the traceback's frames in the repository, outermost first
        self.frames = frames
        self.line = line
        self.related = related
        #: the module path the failure starts in (the last repository frame's)
        self.origin = origin
        #: why the failure is a module for another platform refusing this one ("" if not)
        self.platform_hint = platform_hint
        #: the last line the import wrote to stderr
        self.last_output = last_output
        self.ctx = ctx

    @property
    def first_line(self) -> str:
        """The exception message's first line."""
        return first_line(self.message)

    def common(self) -> dict[str, Any]:
        """What most findings of a failed import carry: the module, the other repository frames,
        and a note's severity for a module written for another platform."""
        fields: dict[str, Any] = {"module": self.module.name, "related": self.related}
        if self.platform_hint:
            # a module written for another platform refuses this one on purpose: worth knowing,
            # not a defect this run can show (run the smoke test on that platform)
            fields["severity"] = Severity.NOTE
        return fields


class ImportFailureRule(Rule):
    """A PM3xx rule a failed import may become: it says whether it applies and classifies it."""

    #: the exception class (by name: it or one of its bases) the rule is about, if one is
    exception: ClassVar[str] = ""

    @classmethod
    def applies(cls, failure: ImportFailure) -> bool:
        return bool(cls.exception) and cls.exception in failure.bases

    @classmethod
    def classify(cls, failure: ImportFailure) -> Classified:
        raise NotImplementedError


def first_line(message: str) -> str:
    """An exception message's first line, for a one-line finding; a line that only announces
    what follows (``OpenAI error:`` then, after a blank line, ``missing `numpy```) takes the
    next line with it, so the finding says what went wrong."""
    lines = [line.strip() for line in message.strip().splitlines() if line.strip()]
    if not lines:
        return ""
    head = lines[0]
    for line in lines[1:3]:
        if not head.endswith(":"):
            break
        head = f"{head} {line}"
    return head


class MissingFirstPartyModule(ImportFailureRule):
    code = "PM301"
    title = "missing first-party module"
    template = "{module} cannot be imported: {missing!r} {problem}{hint}"
    help = ("The module imports a module of this project that does not exist: a relative "
            "import, or a submodule of one of the repository's own packages, that no file "
            "provides (renamed, deleted, or never committed). Every fresh checkout fails with "
            "ModuleNotFoundError. Add the file, or fix the import. When the package *is* in "
            "the repository but the importing file runs with script semantics from inside "
            "the package tree (its own directory first on sys.path) while the project is not "
            "installed, the message says so: install the project into the interpreter smoke "
            "uses, or list the package's source root in `smoke.source_roots`.")
    example = "from .helpers import load   # but pkg/helpers.py does not exist"
    group_by = ("missing",)
    group_template = "{count} modules cannot be imported: {missing} {problem}{hint}"
    member_template = "{module} cannot be imported either"

    @classmethod
    def applies(cls, failure: ImportFailure) -> bool:
        """A missing module is the project's own when its package is, or the import is
        relative."""
        missing = failure.exc.get("name")
        if "ModuleNotFoundError" not in failure.bases or not missing:
            return False
        if str(missing).split(".")[0] in failure.ctx.graph.first_party_tops:
            return True
        if failure.frames:
            path, line, _name = failure.frames[-1]
            info = failure.ctx.facts.get(path)
            if info is not None:
                return any(ref.line == line and ref.level for ref in info.imports)
        return False

    @classmethod
    def classify(cls, failure: ImportFailure) -> Classified:
        missing = str(failure.exc["name"])
        module = failure.module
        problem = cls._unreachable_package(missing, failure)
        hint = ""
        if problem is None:
            problem = "is not in the repository"
            if failure.line is not None:
                hint = " (imported here)"
            hint += failure.platform_hint
        return Classified(cls.at(module.path, failure.line, missing=missing, problem=problem,
                                 hint=hint, key=f"{module.name}:{missing}", **failure.common()),
                          failure.origin)

    @classmethod
    def _unreachable_package(cls, missing: str, failure: ImportFailure) -> str | None:
        """Why a package that IS in the repository cannot be found, or None when it is not
        there.

        A file run with script semantics (its own directory first on ``sys.path``, as ``python
        path/to/file.py`` runs it) inside a package tree finds the package only when the
        project is installed: say that, and the two fixes, instead of "not in the repository".
        """
        ctx = failure.ctx
        top = missing.split(".")[0]
        owners = sorted({mod.import_root for mod in ctx.graph.modules.values()
                         if mod.kind == "package" and mod.top == top})
        if not owners:
            return None
        importer = ctx.graph.modules.get(failure.frames[-1][0]) if failure.frames else None
        importer = importer or failure.module
        if importer.import_root in owners:
            return None  # reachable: the submodule itself is missing
        source_root = relative_to(owners[0], ctx.root)
        source_root = "." if source_root in ("", ctx.root) else source_root
        where = relative_to(importer.path, ctx.root)
        return (f"is in the repository (under {source_root}/), but {where} runs with script "
                f"semantics (its own directory first on sys.path) and the project is not "
                f"installed, so {top!r} cannot be found; install the project into "
                f"{ctx.python.split(' (')[0]} (pip install -e .), or list {source_root!r} in "
                f"smoke.source_roots in premerge.yaml")


class MissingDependency(ImportFailureRule):
    code = "PM302"
    title = "missing third-party dependency"
    template = "{module} cannot be imported: no module named {missing!r}{hint}"
    help = ("The module imports a package that is not installed in the interpreter that runs "
            "the project (see `--python`) and that the repository does not provide. Declare "
            "the distribution in the project's dependencies and install it, or guard the "
            "import if it is optional.")
    example = "import requests   # requests is not installed"
    group_by = ("missing", "hint")
    group_template = "{count} modules cannot be imported: no module named {missing}{hint}"
    member_template = "{module} cannot be imported either"

    @classmethod
    def applies(cls, failure: ImportFailure) -> bool:
        return "ModuleNotFoundError" in failure.bases and bool(failure.exc.get("name"))

    @classmethod
    def classify(cls, failure: ImportFailure) -> Classified:
        missing = str(failure.exc["name"])
        top = missing.split(".")[0]
        dist = failure.exc.get("distribution") or KNOWN_DISTRIBUTIONS.get(missing) \
            or KNOWN_DISTRIBUTIONS.get(top)
        hint = f" (distribution {dist!r})" if dist else ""
        hint += failure.platform_hint or f"; not installed for {failure.ctx.python}"
        module = failure.module
        return Classified(cls.at(module.path, failure.line, missing=missing, hint=hint,
                                 key=f"{module.name}:{missing}", **failure.common()),
                          failure.origin)


class CannotImportName(ImportFailureRule):
    code = "PM303"
    title = "cannot import name"
    template = "{module} cannot be imported: cannot import name {name!r} from {source!r}{hint}"
    help = ("`from X import name` where X exists but does not define `name` (renamed, moved, "
            "removed, or a typo). The whole importing module fails to load.")
    example = "from collections import Mapping   # moved to collections.abc in Python 3.10"
    group_by = ("name", "source")
    group_template = ("{count} modules cannot be imported: cannot import name {name} from "
                      "{source}{hint}")
    member_template = "{module} cannot be imported either"

    @classmethod
    def applies(cls, failure: ImportFailure) -> bool:
        return "ImportError" in failure.bases and failure.message.startswith("cannot import name")

    @classmethod
    def classify(cls, failure: ImportFailure) -> Classified:
        message, module = failure.message, failure.module
        match = _CANNOT_IMPORT.search(message) or _CANNOT_IMPORT_OLD.search(message)
        name = match.group(1) if match else "?"
        source = match.group(2) if match and match.lastindex == 2 \
            else str(failure.exc.get("name") or "?")
        return Classified(cls.at(module.path, failure.line, name=name, source=source,
                                 hint=failure.platform_hint, key=f"{module.name}:{source}:{name}",
                                 **failure.common()), failure.origin)


class CircularImport(ImportFailureRule):
    code = "PM304"
    title = "circular import"
    template = "{module} cannot be imported first: circular import {cycle}"
    help = ("Importing this module first (as a fresh interpreter, a test runner or a script "
            "does) runs into a module that is still half-initialised. One process that imports "
            "everything can hide this when another module happens to be imported first. Move "
            "the import into the function that needs it, import the module instead of names "
            "from it, or break the cycle by moving shared code into a third module.")
    example = "# a.py: import b; X = 1\n# b.py: from a import X"
    folds_into_origin = False

    @classmethod
    def applies(cls, failure: ImportFailure) -> bool:
        return "circular import" in failure.message or bool(_PARTIAL.search(failure.message))

    @classmethod
    def classify(cls, failure: ImportFailure) -> Classified:
        module, ctx, related = failure.module, failure.ctx, failure.related
        partial = _PARTIAL.search(failure.message)
        via = None
        if partial:
            target = ctx.graph.find(partial.group(1), module)
            via = target.path if target else None
        cycle = ctx.graph.cycle_through(module.path, via)
        if cycle:
            names = [ctx.graph.modules[cycle[0].source].name]
            names += [ctx.graph.modules[edge.target].name for edge in cycle]
            text = " -> ".join(names)
            related = [Location(edge.source, edge.line, edge.col,
                                message=f"imports {ctx.graph.modules[edge.target].name}")
                       for edge in cycle]
        else:
            text = f"({failure.first_line})"
        return Classified(cls.at(module.path, failure.line, module=module.name, related=related,
                                 cycle=text, key=f"{module.name}:cycle"), failure.origin)


class SyntaxErrorAtImport(ImportFailureRule):
    code = "PM305"
    title = "syntax error at import"
    template = "{module} cannot be imported: syntax error in {where}: {reason}"
    help = ("The project's interpreter cannot compile this module (or a module it imports). "
            "This also catches syntax that is valid for premerge's interpreter but not for the "
            "project's (a newer feature on an older Python).")
    example = "match command:   # on Python 3.9"
    exception = "SyntaxError"

    @classmethod
    def classify(cls, failure: ImportFailure) -> Classified:
        module, ctx = failure.module, failure.ctx
        line, related, origin = failure.line, failure.related, failure.origin
        syntax = failure.exc.get("syntax") or {}
        filename = str(syntax.get("filename") or module.path)
        lineno = syntax.get("lineno")
        offset = syntax.get("offset")
        reason = str(syntax.get("msg") or failure.message)
        col = None
        if ctx.inside(filename) and ctx.same_file(filename, module.path):
            line, col = lineno if isinstance(lineno, int) else line, offset
            origin = module.path
        elif ctx.inside(filename):
            origin = ctx.module_path(filename)
            related = [*related, Location(origin, lineno if isinstance(lineno, int) else None,
                                          message=f"syntax error: {reason}")]
        where = (f"{ctx.display(filename)}:{lineno}" if ctx.inside(filename)
                 else f"{filename}:{lineno}")
        return Classified(cls.at(module.path, line, col if isinstance(col, int) else None,
                                 module=module.name, related=related, where=where,
                                 reason=reason), origin)

    @classmethod
    def confirms(cls, static: Finding, runtime: Finding) -> bool:
        """"cannot be imported: syntax error" confirms the parser's finding on that line."""
        return static.code == SyntaxErrorInFile.code


class NameErrorAtImport(ImportFailureRule):
    code = "PM306"
    title = "NameError at import"
    template = "{module} cannot be imported: NameError: {reason}"
    help = ("Module-level code (a decorator, a default, a base class, an annotation, a "
            "statement) uses a name that is not bound at that point when the module is "
            "imported.")
    example = "@cache\ndef f(): ...   # `from functools import cache` missing"
    exception = "NameError"

    @classmethod
    def confirms(cls, static: Finding, runtime: Finding) -> bool:
        """"NameError: name X is not defined" at import confirms a scope finding about X on that
        line (PM108: an annotation or decorator evaluated before its import)."""
        return static.check == "scope" and static.name == runtime.name

    @classmethod
    def classify(cls, failure: ImportFailure) -> Classified:
        module = failure.module
        return Classified(cls.at(module.path, failure.line, reason=failure.first_line,
                                 name=failure.exc.get("name") or None, module=module.name,
                                 related=failure.related), failure.origin)


class ExceptionAtImport(ImportFailureRule):
    code = "PM307"
    title = "exception at import"
    template = "{module} cannot be imported: {exc_type}: {reason}"
    help = ("Importing the module raised an exception (other than the classes with their own "
            "code). Module-level code that reads files, the environment or the network, or "
            "that assumes a working directory, usually belongs in a function.")
    example = "CONFIG = json.load(open('config.json'))   # at module level"

    @classmethod
    def applies(cls, failure: ImportFailure) -> bool:
        return True  # what no other rule explains

    @classmethod
    def classify(cls, failure: ImportFailure) -> Classified:
        return Classified(cls.at(failure.module.path, failure.line, exc_type=failure.kind,
                                 reason=(failure.first_line or "(no message)")
                                 + failure.platform_hint, **failure.common()), failure.origin)


class MissingDistribution(ExceptionAtImport):
    """PM307 for ``importlib.metadata``'s PackageNotFoundError (same code, registered once).

    It subclasses ModuleNotFoundError, but what is missing is an installed distribution's
    metadata (``version("myproject")`` in a package that is not installed), not a module:
    calling it a missing module of the repository would send the user after a file that
    exists."""

    exception = "PackageNotFoundError"

    @classmethod
    def applies(cls, failure: ImportFailure) -> bool:
        return cls.exception in failure.bases  # not the fallback's "always"

    @classmethod
    def classify(cls, failure: ImportFailure) -> Classified:
        dist = failure.exc.get("name") or failure.first_line
        return Classified(cls.at(
            failure.module.path, failure.line, exc_type=failure.kind,
            reason=(f"no installed distribution {dist!r} for {failure.ctx.python} "
                    f"(importlib.metadata reads installed metadata; install the distribution, "
                    f"or the project itself with pip install -e ., into that interpreter)"),
            **failure.common()), failure.origin)


class SystemExitAtImport(ImportFailureRule):
    code = "PM308"
    title = "SystemExit at import"
    template = "{module} exits the interpreter when imported: SystemExit({code}){hint}"
    help = ("Importing the module calls sys.exit() (or exit()), so anything that imports it -- "
            "a test runner, a documentation builder, another module -- stops. Move the call "
            "under `if __name__ == \"__main__\":`.")
    example = "if len(sys.argv) < 2:\n    sys.exit('usage: tool FILE')"
    exception = "SystemExit"

    @classmethod
    def classify(cls, failure: ImportFailure) -> Classified:
        last = failure.last_output
        return Classified(cls.at(failure.module.path, failure.line,
                                 code=repr(failure.exc.get("code")),
                                 hint=f": {last}" if last else "", **failure.common()),
                          failure.origin)


class ImportTimeout(Rule):
    code = "PM309"
    title = "import hangs"
    template = ("{module} did not finish importing within {seconds:g} s{where}; it was killed "
                "with everything it started")
    help = ("The import ran longer than the per-module timeout (`--timeout`, `smoke.timeout`, "
            "default 20 s): a blocking call, a server, an infinite loop or a slow network call "
            "at module level. The line shown is where it was when the timeout fired.")
    example = "while True:\n    poll()   # at module level"


class ImportCrash(Rule):
    code = "PM310"
    title = "crash at import"
    template = "{module} crashed while importing: {reason}"
    help = ("The interpreter died while importing the module: a signal (segmentation fault in "
            "an extension, out of memory against the address-space limit, file-size limit) or "
            "os._exit() at module level, so no Python exception was raised.")
    example = "os._exit(3)   # at module level"


class WroteRepositoryFiles(Rule):
    code = "PM311"
    title = "import writes into the repository"
    template = "importing {module} wrote inside the repository: {files}"
    severity = Severity.WARNING
    help = ("Importing the module created, changed or deleted files inside the repository "
            "(byte-code caches are not counted). Imports should have no effects on the "
            "working tree: caches, logs and generated files belong in a temporary or user "
            "directory, or in a function that is called explicitly.")
    example = "open('log.txt', 'a').write('imported\\n')   # at module level"
    #: one log file configured at import is written by every module that imports its module:
    #: text shows one line for the write, counting the modules
    group_by = ("files",)
    group_template = "importing {count} modules wrote inside the repository: {files}"
    member_template = "importing {module} wrote the same"

    @classmethod
    def group_head(cls, members: Sequence[Finding]) -> Finding:
        """The module whose own body wrote (its finding has the line that did, see
        ``execute._own_write_line``), not the first by path: that one may only import it."""
        return next((f for f in members if f.line is not None), members[0])


class ScriptNotImported(Rule):
    code = "PM312"
    title = "script not imported"
    template = ("{module} was not imported: {reason}; list it in smoke.run_scripts to import "
                "it anyway")
    severity = Severity.NOTE
    help = ("At module level, outside an `if __name__ == \"__main__\":` guard, the file does "
            "what no copy of the repository can contain: it starts processes (subprocess, "
            "os.system, fork), talks to the network (sockets, HTTP, database servers), runs "
            "as a command-line program (reads sys.argv, argparse, sys.exit, input()) or loops "
            "forever by design -- or it is a package's `__main__.py`. Importing it would *run* "
            "the program, so the smoke test skips it (the message says which effect) and "
            "checks its functions' globals statically instead (PM313). Writing, creating or "
            "deleting files at import (a log file) is no reason to skip: the module is "
            "imported in the pristine snapshot and the writes reported (PM311). Guard the "
            "effects, or opt in with `smoke.run_scripts` in premerge.yaml.")
    example = "import sys\nprint(open(sys.argv[1]).read())"


class UndefinedGlobalAtRuntime(Rule):
    code = "PM313"
    title = "function uses a global that does not exist"
    template = "calling {function} raises NameError: {name!r} does not exist in module {module}"
    help = ("After a successful import, the bytecode of every function and method the module "
            "defines was checked against the module's real namespace: this global name is in "
            "neither the namespace nor builtins, nor bound by any module-level statement or "
            "`global` statement of the file. The typical cause is a name imported inside "
            "another function. Silent for modules with `__getattr__` or functions that write to "
            "globals(); star imports and globals() updates at import time are seen as they are.")
    example = ("class Orchestrator:\n    def setup(self):\n        from briefing import "
               "BriefingSystem\n    def run(self):\n        return BriefingSystem()")

    @classmethod
    def confirms(cls, static: Finding, runtime: Finding) -> bool:
        """"calling f raises NameError: X does not exist" confirms a scope finding about X."""
        return static.check == "scope" and static.name == runtime.name


class UncommittedModule(Rule):
    code = "PM314"
    title = "imports an uncommitted file"
    template = ("{module} imports {missing!r} from {file}, which is not committed: a clean "
                "checkout fails with ModuleNotFoundError")
    help = ("The import only works in this working tree: the module it loads is a file git "
            "does not track (and does not ignore). Commit it, or the push/CI checkout breaks.")
    example = "import helpers   # helpers.py exists locally but was never `git add`ed"


class InterpreterUnusable(Rule):
    code = "PM315"
    title = "no interpreter for the smoke test"
    template = "cannot import the project's modules: {reason}"
    help = ("No interpreter that can run the smoke child was found (`--python`, "
            "`smoke.python`, `$VIRTUAL_ENV`, `.venv/bin/python`, `python3` on PATH), or the "
            "one found is too old (Python 3.7 or newer is needed; 3.9+ runs the fast warm-"
            "parent mode). Nothing was imported.")
    example = "smoke:\n  python: .venv/bin/python   # a virtualenv that was never created"


class ImportAttackedItsRunner(Rule):
    code = "PM316"
    title = "import attacks the process that runs it"
    template = ("importing {module} {action}; premerge ended the import and everything it "
                "started")
    help = ("Module-level code killed or stopped its parent process (the warm parent or the "
            "supervisor premerge puts between itself and every import), typically through "
            "os.getppid(). premerge survives that and reports it: no module has a reason to "
            "signal the process that imports it, and under a test runner or an application it "
            "kills that process.")
    example = "os.kill(os.getppid(), signal.SIGKILL)   # at module level"


#: The rules a failed import may become, tried in this order: the first that applies
#: classifies it.  Most specific first: the exception classes that subclass others
#: (PackageNotFoundError is a ModuleNotFoundError), a missing module of the repository before a
#: missing dependency; what none explains is PM307.
IMPORT_FAILURE_RULES: tuple[type[ImportFailureRule], ...] = (
    SystemExitAtImport,
    SyntaxErrorAtImport,
    MissingDistribution,
    MissingFirstPartyModule,
    MissingDependency,
    CircularImport,
    CannotImportName,
    NameErrorAtImport,
    ExceptionAtImport,
)


def classified(failure: ImportFailure) -> Classified:
    """The failed import's finding, from the first rule of :data:`IMPORT_FAILURE_RULES` that
    applies."""
    for rule in IMPORT_FAILURE_RULES:
        if rule.applies(failure):
            return rule.classify(failure)
    raise AssertionError("ExceptionAtImport applies to every failure")


#: Import names whose distribution is named differently (the common surprises).
KNOWN_DISTRIBUTIONS = {
    "yaml": "PyYAML", "git": "GitPython", "PIL": "Pillow", "cv2": "opencv-python",
    "sklearn": "scikit-learn", "skimage": "scikit-image", "bs4": "beautifulsoup4",
    "dateutil": "python-dateutil", "dotenv": "python-dotenv", "jwt": "PyJWT",
    "Crypto": "pycryptodome", "OpenSSL": "pyOpenSSL", "attr": "attrs", "serial": "pyserial",
    "magic": "python-magic", "docx": "python-docx", "pptx": "python-pptx",
    "MySQLdb": "mysqlclient", "zmq": "pyzmq", "usb": "pyusb", "jose": "python-jose",
    "multipart": "python-multipart", "slugify": "python-slugify", "gi": "PyGObject",
    "win32api": "pywin32", "win32con": "pywin32", "fitz": "PyMuPDF", "nacl": "PyNaCl",
    "ruamel": "ruamel.yaml", "markdown": "Markdown", "pkg_resources": "setuptools",
    "google.protobuf": "protobuf", "telegram": "python-telegram-bot", "Levenshtein":
    "python-Levenshtein", "psycopg2": "psycopg2-binary", "websocket": "websocket-client",
}

_CANNOT_IMPORT = re.compile(r"cannot import name '([^']+)' from '([^']+)'")
_CANNOT_IMPORT_OLD = re.compile(r"cannot import name '([^']+)'")
_PARTIAL = re.compile(r"partially initialized module '([^']+)'")
