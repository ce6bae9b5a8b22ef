"""What more than one check knows about Python imports, in one place.

scope and smoke both ask whether module code runs when the module is imported (the
``if __name__ == "__main__":`` guard, here), which modules a repository holds and how each is
imported (:mod:`.discovery`), what each file imports and when (:mod:`.references`), which
first-party module imports which at import time (:mod:`.graph`) and which interpreter runs
the project (:mod:`.interpreter`); this layer answers once for both.  It sits between the
model and the checks: it imports nothing from a check, and the checks import it.
"""

from __future__ import annotations

import ast


def is_main_guard(test: ast.expr, op: type[ast.cmpop] = ast.Eq) -> bool:
    """``__name__ == "__main__"`` in either order (``!=`` with ``op=ast.NotEq``)."""
    if type(test) is not ast.Compare or len(test.ops) != 1 or type(test.ops[0]) is not op:
        return False
    sides = (test.left, test.comparators[0])
    names = [s for s in sides if type(s) is ast.Name and s.id == "__name__"]
    consts = [s for s in sides if type(s) is ast.Constant and s.value == "__main__"]
    return len(names) == 1 and len(consts) == 1
