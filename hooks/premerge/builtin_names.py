"""The names a load may find without any binding in the file: builtins and module dunders."""

from __future__ import annotations

import builtins

#: Builtins of every Python premerge supports (3.9 - 3.13), so results do not depend on the
#: interpreter premerge itself runs under; plus platform-only builtins.
PORTABLE_BUILTINS = frozenset({
    "aiter", "anext", "EncodingWarning", "BaseExceptionGroup", "ExceptionGroup",
    "PythonFinalizationError", "_IncompleteInputError", "WindowsError", "unicode", "long",
    "copyright", "credits", "license", "exit", "quit", "help", "__build_class__", "__import__",
    "__debug__", "reveal_type", "reveal_locals",
    # Python 2 builtins: compatibility code names them on paths Python 3 never takes
    # (`if PY2:` ... `basestring`); reporting those would be noise, not bugs
    "basestring", "file", "xrange", "raw_input", "reduce", "execfile", "unichr", "buffer",
    "cmp", "apply", "intern", "coerce", "reload", "StandardError",
})
#: Module dunders Python provides, and ``__class__`` (methods).
MODULE_DUNDERS = frozenset({
    "__name__", "__file__", "__doc__", "__builtins__", "__spec__", "__loader__", "__package__",
    "__cached__", "__annotations__", "__dict__", "__class__", "__debug__",
})
#: names an embedding host puts into builtins (IPython): probing for them under a broad
#: handler (``try: get_ipython() / except Exception:``) is a deliberate test, not a bug
HOST_INJECTED = frozenset({"get_ipython", "__IPYTHON__"})
#: names Python binds in every class body, and nowhere else (pyflakes reports them elsewhere)
CLASS_DUNDERS = frozenset({"__module__", "__qualname__"})
BUILTIN_NAMES = frozenset(dir(builtins)) | PORTABLE_BUILTINS | MODULE_DUNDERS
