"""PM3xx: the import smoke test, one class per failure (pyflakes-style messages).

Every finding is reported at the file of the module that was imported, at the line the
traceback points to in that file; the traceback's repository frames (and, for cycles, the
import statements of the cycle) are its related locations.  ``module`` is the dotted name.
"""

from __future__ import annotations

from collections.abc import Sequence

from premerge.findings import Finding, Rule, Severity
from premerge.input_rules import SyntaxErrorInFile


class MissingFirstPartyModule(Rule):
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


class MissingDependency(Rule):
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


class CannotImportName(Rule):
    code = "PM303"
    title = "cannot import name"
    template = "{module} cannot be imported: cannot import name {name!r} from {source!r}"
    help = ("`from X import name` where X exists but does not define `name` (renamed, moved, "
            "removed, or a typo). The whole importing module fails to load.")
    example = "from collections import Mapping   # moved to collections.abc in Python 3.10"
    group_by = ("name", "source")
    group_template = "{count} modules cannot be imported: cannot import name {name} from {source}"
    member_template = "{module} cannot be imported either"


class CircularImport(Rule):
    code = "PM304"
    title = "circular import"
    template = "{module} cannot be imported first: circular import {cycle}"
    help = ("Importing this module first (as a fresh interpreter, a test runner or a script "
            "does) runs into a module that is still half-initialised. One process that imports "
            "everything can hide this when another module happens to be imported first. Move "
            "the import into the function that needs it, import the module instead of names "
            "from it, or break the cycle by moving shared code into a third module.")
    example = "# a.py: import b; X = 1\n# b.py: from a import X"


class SyntaxErrorAtImport(Rule):
    code = "PM305"
    title = "syntax error at import"
    template = "{module} cannot be imported: syntax error in {where}: {reason}"
    help = ("The project's interpreter cannot compile this module (or a module it imports). "
            "This also catches syntax that is valid for premerge's interpreter but not for the "
            "project's (a newer feature on an older Python).")
    example = "match command:   # on Python 3.9"

    @classmethod
    def confirms(cls, static: Finding, runtime: Finding) -> bool:
        """"cannot be imported: syntax error" confirms the parser's finding on that line."""
        return static.code == SyntaxErrorInFile.code


class NameErrorAtImport(Rule):
    code = "PM306"
    title = "NameError at import"
    template = "{module} cannot be imported: NameError: {reason}"
    help = ("Module-level code (a decorator, a default, a base class, an annotation, a "
            "statement) uses a name that is not bound at that point when the module is "
            "imported.")
    example = "@cache\ndef f(): ...   # `from functools import cache` missing"

    @classmethod
    def confirms(cls, static: Finding, runtime: Finding) -> bool:
        """"NameError: name X is not defined" at import confirms a scope finding about X on that
        line (PM108: an annotation or decorator evaluated before its import)."""
        return static.check == "scope" and static.name == runtime.name


class ExceptionAtImport(Rule):
    code = "PM307"
    title = "exception at import"
    template = "{module} cannot be imported: {exc_type}: {reason}"
    help = ("Importing the module raised an exception (other than the classes with their own "
            "code). Module-level code that reads files, the environment or the network, or "
            "that assumes a working directory, usually belongs in a function.")
    example = "CONFIG = json.load(open('config.json'))   # at module level"


class SystemExitAtImport(Rule):
    code = "PM308"
    title = "SystemExit at import"
    template = "{module} exits the interpreter when imported: SystemExit({code}){hint}"
    help = ("Importing the module calls sys.exit() (or exit()), so anything that imports it -- "
            "a test runner, a documentation builder, another module -- stops. Move the call "
            "under `if __name__ == \"__main__\":`.")
    example = "if len(sys.argv) < 2:\n    sys.exit('usage: tool FILE')"


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
