"""What more than one check knows about Python imports, in one place.

scope and smoke both ask whether module code runs when the module is imported (the
``if __name__ == "__main__":`` guard); this layer answers once for both.  It sits between the
model and the checks: it imports nothing from a check, and the checks import it.  (Module
discovery, the static import graph and import references still live in ``premerge.smoke``;
README's "Architecture" section lists that as what moves here next.)
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
