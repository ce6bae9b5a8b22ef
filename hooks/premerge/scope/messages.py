"""PM1xx: import scoping.  One class per message; each names *why* the name is unbound here.

Severity policy: ``error`` when some ordinary path raises (a branch, a loop that may run zero
times, a method that is called, the module being imported) for a name an import binds, and for
any name no path binds; ``warning`` when the failure needs the environment to lack an optional
dependency, which the author planned for but did not guard against at this use (PM105), or
when a name bound by something other than an import is bound on some paths only (PM113).
"""

from __future__ import annotations

from premerge.findings import Rule, Severity


class ImportedInOtherFunction(Rule):
    code = "PM101"
    title = "imported only inside another function"
    template = "'{name}' is not defined here: it is imported only inside {where}"
    help = ("The name is imported inside a different function or method, so it is a local "
            "variable there and does not exist here: this line raises NameError when it runs. "
            "Move the import to module level (or import it in this function too).")
    example = ("class Orchestrator:\n    def run(self):\n        from .brief import Briefing\n"
               "    def start(self):\n        return Briefing()   # NameError")
    fix_shape = "hoist"
    disproved_at_runtime = "global_load"


class ConditionallyBound(Rule):
    code = "PM102"
    title = "imported only on some paths"
    template = "'{name}' may be unbound here: {why}"
    help = ("The name is bound only on some paths that reach this line: inside an if/elif "
            "branch, a loop body that may run zero times, a try body whose handler falls "
            "through, or one match case. On the other paths this raises NameError (at module "
            "level) or UnboundLocalError (in a function, where one import anywhere makes the "
            "name local to the whole function). Import it unconditionally, or on every path.")
    example = ("import json\ndef dump(obj, pretty):\n    if pretty:\n        import json\n"
               "    return json.dumps(obj)   # UnboundLocalError when pretty is false")


class UsedBeforeBound(Rule):
    code = "PM103"
    title = "used before it is bound, or after del"
    template = "'{name}' is unbound here: {why}"
    help = ("In this scope the name (an import, an assignment, any binding) is bound only "
            "after this line, or it was deleted before it (`del`, or the end of its "
            "`except ... as` handler): every path to this line raises NameError or "
            "UnboundLocalError. Bind it before the use (for an import too). Move the import "
            "above the use, or stop deleting the name.")
    example = "def f():\n    os.getcwd()   # UnboundLocalError\n    import os"
    disproved_at_runtime = "global_load"


class TypeCheckingOnly(Rule):
    code = "PM104"
    title = "TYPE_CHECKING-only import used at runtime"
    template = ("'{name}' is imported only under `if TYPE_CHECKING:`, which never runs, but it "
                "is evaluated at runtime here")
    help = ("Imports under `if TYPE_CHECKING:` exist only for type checkers. This use is "
            "evaluated when the code runs (not a string annotation, not under `from __future__ "
            "import annotations`), so it raises NameError. Import it for real, quote the "
            "annotation, or add `from __future__ import annotations` when it is an annotation.")
    example = ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from decimal import "
               "Decimal\ndef half(x):\n    return Decimal(x) / 2   # NameError")
    fix_shape = "untype"
    disproved_at_runtime = "global_load"


class OptionalImportUnguarded(Rule):
    code = "PM105"
    title = "optional import used unguarded"
    template = ("'{name}' may be unbound here: its import is optional (the handler at line "
                "{handler_line} lets the failure pass) and this use is not guarded")
    severity = Severity.WARNING
    help = ("The import sits in `try:` with an `except ImportError:` that neither binds the "
            "name, nor raises, nor exits. Where the dependency is missing this use raises "
            "NameError. Bind a fallback in the handler (`x = None`) and test it, or guard the "
            "use with a flag set in the same try/except.")
    example = ("try:\n    import yaml\nexcept ImportError:\n    pass\ndef load(text):\n"
               "    return yaml.safe_load(text)   # NameError without PyYAML")
    group_by = ("handler_line",)
    group_in_file = True
    group_template = ("{names} may be unbound: imported in one optional `try` block (the handler "
                      "at line {handler_line} lets the failure pass) and used unguarded {uses} "
                      "times")
    member_template = "'{name}' used here"


class MainBlockOnly(Rule):
    code = "PM106"
    title = "bound only under if __name__ == '__main__'"
    template = ("'{name}' is bound only under `if __name__ == \"__main__\":`, so it is unbound "
                "here whenever the module is imported rather than run")
    help = ("The name is bound at module level only inside the `__main__` block. Functions and "
            "classes of the module see it only when the file runs as a script; imported (by a "
            "test, a console-script entry point, another module) they raise NameError. Move "
            "the import above the block.")
    example = ("def main():\n    return argparse.ArgumentParser()   # NameError when imported\n"
               "if __name__ == '__main__':\n    import argparse\n    main()")
    fix_shape = "hoist"
    disproved_at_runtime = "global_load"


class ClassBodyImport(Rule):
    code = "PM107"
    title = "class-body import used in a method"
    template = ("'{name}' is imported in the body of class {owner}, which its methods cannot see")
    help = ("A class body is not an enclosing scope for its methods: names bound there are "
            "class attributes, reachable only as `self.<name>` or `<Class>.<name>`. The bare name "
            "raises NameError when the method runs. Import it at module level.")
    example = ("class Loader:\n    import json\n    def load(self, text):\n"
               "        return json.loads(text)   # NameError")
    disproved_at_runtime = "global_load"


class DefinitionTimeUnbound(Rule):
    code = "PM108"
    title = "evaluated at definition time before it is bound"
    template = "'{name}' is evaluated here, at definition time ({what}), before it is bound"
    help = ("Decorators, default values, class bases and keywords, class bodies and (without "
            "`from __future__ import annotations`) annotations are evaluated when the `def` or "
            "`class` statement runs, not when it is called. The name is bound only later, so "
            "the definition itself raises NameError. Move the import above the definition.")
    example = "def f(x: Path) -> None:   # NameError while defining f\n    ...\nfrom pathlib import Path"
    disproved_at_runtime = "global_load"


class SubmoduleNotImported(Rule):
    code = "PM109"
    title = "submodule attribute never imported"
    template = ("'{name}' is a submodule this file never imports: `import {package}` does not "
                "load '{name}'")
    help = ("Importing a package does not import its submodules unless the package's "
            "`__init__` does. Accessing the submodule as an attribute works only when some "
            "other code happened to import it first, else it raises AttributeError. Import the "
            "submodule itself (`import {name}`).")
    example = "import importlib\nspec = importlib.util.find_spec('x')   # AttributeError"


class UndefinedExport(Rule):
    code = "PM110"
    title = "__all__ names an undefined name"
    template = "'{name}' is listed in __all__ but this module never defines it"
    help = ("`from module import *` looks up every name in `__all__` and raises AttributeError "
            "for one the module does not define. Define it, import it, or drop it from "
            "`__all__`.")
    example = "__all__ = ['load', 'dump']\ndef load(): ...   # 'dump' is missing"
    disproved_at_runtime = "namespace"


class UndefinedName(Rule):
    code = "PM111"
    title = "undefined name (missing import)"
    template = "'{name}' is not defined anywhere in this file (a missing import?)"
    help = ("Nothing in the file binds this name and it is not a builtin, so this line raises "
            "NameError when it runs. Usually an import was forgotten or removed.")
    example = "def now():\n    return datetime.now()   # no `import datetime` / `from datetime ...`"
    disproved_at_runtime = "global_load"


class NotInFirstPartyModule(Rule):
    code = "PM112"
    title = "imported from a first-party module that does not define it"
    template = ("'{name}' is not defined in {module} ({where}): `from {module} import {name}` "
                "raises ImportError")
    help = ("The module is in this repository and every name it binds at module level is known "
            "statically (no star import, no module `__getattr__`, no writes to `globals()`), "
            "and this name is not one of them, nor a submodule: the import raises ImportError "
            "when it runs, usually after the name was renamed or moved. Import the new name, or "
            "define it in the module.")
    example = "# jobs.py defines JobRunner\nfrom jobs import Runner   # ImportError"


class BoundOnSomePaths(Rule):
    code = "PM113"
    title = "bound only on some paths (not an import)"
    template = "'{name}' may be unbound here: {why}"
    severity = Severity.WARNING
    help = ("The name is assigned (or defined, or bound by a loop, `with`, `except ... as`) "
            "only on some of the paths that reach this line: an if branch, a loop that may run "
            "zero times, a try body that may stop early, a platform test. On the others this "
            "raises NameError (module level) or UnboundLocalError (in a function). A warning: "
            "the code often rules those paths out in ways a static check cannot see; bind a "
            "default before the branch when it does not.")
    example = "def pick(flag):\n    if flag:\n        y = 1\n    return y   # UnboundLocalError"
