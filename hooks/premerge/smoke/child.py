"""The smoke child: the ONE module handed to the project's interpreter (stdlib only).

premerge itself runs in its own environment (pre-commit's virtualenv) without the project's
dependencies, so this file is run by the *project's* interpreter as a plain script:

    python -B child.py hello            print one JSON line about the interpreter
    python -B child.py serve            the warm parent: JSON lines on stdin/stdout
    python -B child.py run SPEC.json    import one module in a fresh process (fallback),
                                        forked by this one, its supervisor

It must stay importable and runnable on Python 3.7 to 3.13 (syntax of 3.7: no walrus, no
``match``, no runtime PEP 604/585 annotations) and must never import premerge.

The warm parent preloads stdlib and third-party modules (never first-party code), then forks
one child per module.  Every child -- forked or fresh -- goes through :func:`run_child`: new
session, stdin from /dev/null, output to files, resource limits, cwd and ``sys.path`` as
``python path/to/script.py`` (or the package's source root) would set them, then the import,
the runtime global check and one JSON result file.
"""

from __future__ import annotations

import sys

#: What the interpreter had loaded before this file imported anything: `python script.py` has
#: exactly these too, so they are never "preloaded beyond what a fresh run has".
STARTUP_MODULES = frozenset(sys.modules)

import builtins  # noqa: E402
import dis  # noqa: E402
import faulthandler  # noqa: E402
import gc  # noqa: E402
import importlib  # noqa: E402
import importlib.util  # noqa: E402
import json  # noqa: E402
import marshal  # noqa: E402
import os  # noqa: E402
import select  # noqa: E402
import signal  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import tokenize  # noqa: E402
import traceback  # noqa: E402
import types  # noqa: E402

try:
    import resource
except ImportError:  # pragma: no cover - not on Windows
    resource = None  # type: ignore[assignment]

PROTOCOL = 1
CHILD_FILE = os.path.abspath(__file__)
MESSAGE_LIMIT = 2000

_OP = dis.opmap
_LOAD_GLOBAL = _OP["LOAD_GLOBAL"]
_LOAD_NAME = _OP["LOAD_NAME"]
_STORE_GLOBAL = _OP["STORE_GLOBAL"]
_DELETE_GLOBAL = _OP["DELETE_GLOBAL"]
_STORE_NAME = _OP["STORE_NAME"]
_DELETE_NAME = _OP["DELETE_NAME"]
_EXTENDED_ARG = _OP["EXTENDED_ARG"]
_LOAD_FROM_DICT_OR_GLOBALS = _OP.get("LOAD_FROM_DICT_OR_GLOBALS", -1)
#: creates ``__annotations__`` in a class body that annotates names (before 3.14)
_SETUP_ANNOTATIONS = _OP.get("SETUP_ANNOTATIONS", -1)
#: since 3.11 LOAD_GLOBAL's argument is ``namei << 1 | push_null``
_GLOBAL_SHIFT = 1 if sys.version_info >= (3, 11) else 0
_CO_OPTIMIZED = 0x0001  # a function body (fast locals); class bodies and module code lack it


# ---------------------------------------------------------------------------------------------
# bytecode helpers (also imported by premerge's refine step, which runs on 3.10+)


def iter_ops(code):
    """(offset, opcode, arg) of a code object, EXTENDED_ARG folded, inline caches skipped."""
    raw = code.co_code
    ext = 0
    for offset in range(0, len(raw), 2):
        op = raw[offset]
        arg = raw[offset + 1] | ext
        if op == _EXTENDED_ARG:
            ext = arg << 8
            continue
        ext = 0
        yield offset, op, arg


def nested_code(code):
    """Code objects defined inside ``code`` (functions, lambdas, comprehensions, classes)."""
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield const


def walk_code(code):
    """``code`` and every code object nested in it, depth first."""
    stack = [code]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(nested_code(current))


def is_function_code(code):
    return bool(code.co_flags & _CO_OPTIMIZED)


def global_loads(code):
    """(offset, name) of every load that resolves in the module namespace at call time.

    Function bodies: LOAD_GLOBAL.  Class bodies nested in functions: LOAD_NAME (and 3.12's
    LOAD_FROM_DICT_OR_GLOBALS) of names the class body does not bind itself.
    """
    names = code.co_names
    out = []
    if is_function_code(code):
        for offset, op, arg in iter_ops(code):
            if op == _LOAD_GLOBAL:
                out.append((offset, names[arg >> _GLOBAL_SHIFT]))
        return out
    local = set()
    loads = []
    for offset, op, arg in iter_ops(code):
        if op in (_STORE_NAME, _DELETE_NAME):
            local.add(names[arg])
        elif op == _SETUP_ANNOTATIONS:
            local.add("__annotations__")
        elif op in (_LOAD_NAME, _LOAD_FROM_DICT_OR_GLOBALS, _LOAD_GLOBAL):
            name = names[arg >> _GLOBAL_SHIFT] if op == _LOAD_GLOBAL else names[arg]
            loads.append((offset, name))
    return [(offset, name) for offset, name in loads if name not in local]


def offset_position(code, offset):
    """(line, col) of the instruction at ``offset``; col is None before 3.11."""
    positions = getattr(code, "co_positions", None)
    if positions is not None:
        for index, pos in enumerate(positions()):
            if index * 2 == offset:
                if pos[0] is not None:
                    return pos[0], (pos[2] + 1 if pos[2] is not None else None)
                break
    return instruction_lines(code).get(offset), None


def instruction_lines(code):
    """{offset: line} for every instruction of ``code`` (one pass)."""
    out = {}
    positions = getattr(code, "co_positions", None)
    if positions is not None:
        for index, pos in enumerate(positions()):
            if pos[0] is not None:
                out[index * 2] = pos[0]
        if out:
            return out
    starts = [(start, line) for start, line in dis.findlinestarts(code) if line is not None]
    current = None
    index = 0
    for offset in range(0, len(code.co_code), 2):
        while index < len(starts) and starts[index][0] <= offset:
            current = starts[index][1]
            index += 1
        out[offset] = current
    return out


def module_level_names(top):
    """Names any code in the file binds in the module namespace.

    Module-level stores (even in branches that did not run) and every ``global`` statement's
    targets (STORE_GLOBAL / DELETE_GLOBAL anywhere).  Also whether a function loads
    ``globals``/``vars`` (a namespace filled later, at call time: stay silent).
    """
    bound = set()
    dynamic = False
    for code in walk_code(top):
        names = code.co_names
        module_level = code is top
        for _offset, op, arg in iter_ops(code):
            if op in (_STORE_GLOBAL, _DELETE_GLOBAL):
                bound.add(names[arg])
            elif module_level and op in (_STORE_NAME, _DELETE_NAME):
                bound.add(names[arg])
            elif not module_level and op in (_LOAD_GLOBAL, _LOAD_NAME):
                name = names[arg >> _GLOBAL_SHIFT] if op == _LOAD_GLOBAL else names[arg]
                if name in ("globals", "vars"):
                    dynamic = True
    return bound, dynamic


# ---------------------------------------------------------------------------------------------
# the runtime global check


def _callable_roots(module, filename):
    """(qualname, code) of every function the module's namespace holds that its file defines."""
    seen = set()
    roots = []
    namespace = module.__dict__

    def add_function(func, qualname):
        code = getattr(func, "__code__", None)
        if not isinstance(code, types.CodeType) or id(code) in seen:
            return
        if getattr(func, "__globals__", None) is not namespace:
            return
        if _same_file(code.co_filename, filename):
            seen.add(id(code))
            roots.append((getattr(func, "__qualname__", None) or qualname, code))

    def visit(obj, qualname, depth):
        if depth > 6:
            return
        if isinstance(obj, types.FunctionType):
            add_function(obj, qualname)
            wrapped = getattr(obj, "__wrapped__", None)
            if wrapped is not None:
                visit(wrapped, qualname, depth + 1)
            return
        if isinstance(obj, type):
            if id(obj) in seen or getattr(obj, "__module__", None) != module.__name__:
                return
            seen.add(id(obj))
            for key, value in list(vars(obj).items()):
                visit(value, "{}.{}".format(obj.__qualname__, key), depth + 1)
            return
        for attr in ("__func__", "fget", "fset", "fdel", "func", "__wrapped__"):
            try:
                inner = object.__getattribute__(obj, attr)
            except Exception:
                continue
            if inner is not None and inner is not obj:
                visit(inner, qualname, depth + 1)

    for key, value in list(namespace.items()):
        visit(value, key, 0)
    return roots


_REAL = {}


def _real(path):
    """``realpath`` (normcased), cached per path *and per directory*: the warm parent checks
    the files of ~1,000 loaded modules, which share a few dozen directories."""
    cached = _REAL.get(path)
    if cached is None:
        head, tail = os.path.split(path)
        if head and head != path and tail not in ("", ".", "..") and not os.path.islink(path):
            cached = os.path.join(_real(head), os.path.normcase(tail))
        else:
            cached = os.path.normcase(os.path.realpath(path))
        _REAL[path] = cached
    return cached


def _same_file(a, b):
    return a == b or _real(a) == _real(b)


def _read_source(path):
    with tokenize.open(path) as handle:
        return handle.read()


def runtime_global_check(module, filename, top=None):
    """Global names that functions of ``module`` load but that exist nowhere.

    A name is fine when it is in the module's namespace, in builtins, bound at module level
    by any statement of the file, or the target of a ``global`` statement.  Silent (returns
    ``None`` as the reason) when the module defines ``__getattr__`` or a function fills the
    namespace through ``globals()``/``vars()``.
    """
    namespace = module.__dict__
    if "__getattr__" in namespace:
        return [], "the module defines __getattr__"
    if top is None:
        try:
            top = compile(_read_source(filename), filename, "exec", dont_inherit=True)
        except Exception as exc:  # noqa: BLE001 - imported, but will not recompile
            return [], "cannot recompile: {}".format(exc)
    bound, dynamic = module_level_names(top)
    if dynamic:
        return [], "a function writes to globals()/vars()"
    known = set(namespace) | set(dir(builtins)) | bound
    builtins_ns = namespace.get("__builtins__")
    if isinstance(builtins_ns, dict):
        known.update(builtins_ns)
    found = []
    seen = set()
    for qualname, root in _callable_roots(module, filename):
        stack = [(qualname, root)]
        while stack:
            name_of, code = stack.pop()
            for inner in nested_code(code):
                inner_name = getattr(inner, "co_qualname", None)
                if inner.co_name.startswith("<") and inner.co_name != "<lambda>":
                    inner_name = name_of  # comprehensions: the caller is the enclosing function
                elif not inner_name:
                    inner_name = "{}.<locals>.{}".format(name_of, inner.co_name)
                stack.append((inner_name, inner))
            if not (set(code.co_names) - known):
                continue
            for offset, name in global_loads(code):
                if name in known:
                    continue
                line, col = offset_position(code, offset)
                key = (line, name)
                if key in seen:
                    continue
                seen.add(key)
                found.append({"function": name_of, "name": name, "line": line, "col": col})
    found.sort(key=lambda item: (item["line"] or 0, item["name"]))
    return found, None


# ---------------------------------------------------------------------------------------------
# describing what happened


def _text(value, limit=MESSAGE_LIMIT):
    try:
        text = str(value)
    except Exception:  # noqa: BLE001 - a __str__ that raises
        text = "<unprintable {}>".format(type(value).__name__)
    if len(text) > limit:
        text = text[:limit] + "..."
    return text


def _frames(tb):
    out = []
    try:
        for frame in traceback.extract_tb(tb, limit=200):
            out.append([frame.filename, frame.lineno, frame.name])
    except Exception:  # noqa: BLE001
        pass
    return out


def describe_exception(exc):
    """A JSON-ready description of an exception raised by an import."""
    kind = type(exc)
    info = {
        "type": kind.__name__,
        "type_module": getattr(kind, "__module__", ""),
        "bases": [k.__name__ for k in kind.__mro__],
        "message": _text(exc),
        "frames": _frames(exc.__traceback__),
    }
    if isinstance(exc, SyntaxError):
        info["syntax"] = {"filename": exc.filename, "lineno": exc.lineno, "offset": exc.offset,
                          "msg": _text(exc.msg), "text": _text(exc.text or "", 300)}
    if isinstance(exc, ImportError):
        info["name"] = exc.name
        info["path"] = exc.path
    if isinstance(exc, NameError):
        info["name"] = getattr(exc, "name", None)
    if isinstance(exc, SystemExit):
        code = exc.code
        info["code"] = code if isinstance(code, (int, type(None))) else _text(code, 300)
    chained = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
    if chained is not None:
        info["cause"] = {"type": type(chained).__name__, "message": _text(chained, 500),
                         "frames": _frames(chained.__traceback__)}
    return info


def distribution_of(name):
    """The installed distribution that provides top-level ``name`` (3.10+), else None."""
    top = name.split(".")[0]
    try:
        from importlib import metadata
        mapping = metadata.packages_distributions()
    except Exception:  # noqa: BLE001 - old interpreter or broken metadata
        return None
    dists = mapping.get(top)
    return dists[0] if dists else None


def _inside(path, repo):
    """``path`` lies in ``repo`` (a realpath, or a tuple of them: see :func:`_roots`)."""
    if not path or not isinstance(path, str):
        return False
    real = _real(path)
    if isinstance(repo, tuple):
        return any(real == root or real.startswith(root + os.sep) for root in repo)
    return real == repo or real.startswith(repo + os.sep)


def _roots(where):
    """The realpaths of first-party code: the snapshot imported from (``repo``) and the
    user's tree it copies (``origin``: an editable install of the project points there)."""
    roots = [_real(where["repo"])]
    if where.get("origin"):
        roots.append(_real(where["origin"]))
    return tuple(roots)


def first_party_modules(repo, skip_main=True):
    """Names and files of loaded modules whose file (or package path) lies inside ``repo``."""
    found = []
    clean = _State.clean
    for name, module in list(sys.modules.items()):
        if module is None or (skip_main and name == "__main__") or clean.get(name) is module:
            continue
        try:
            where = getattr(module, "__file__", None)
            paths = list(getattr(module, "__path__", None) or [])
        except Exception:  # noqa: BLE001 - a lazy module object that raises on access
            continue
        if where and _real(where) == _real(CHILD_FILE):
            continue
        if _inside(where, repo) or any(_inside(p, repo) for p in paths):
            found.append([name, where or (paths[0] if paths else None)])
    return found


def shadowing_names(directories):
    """Top-level module names that files in these directories would provide."""
    names = set()
    for directory in directories:
        known = _State.shadows.get(directory)
        if known is not None:
            names.update(known)
            continue
        try:
            entries = os.listdir(directory)
        except OSError:
            continue
        for entry in entries:
            full = os.path.join(directory, entry)
            if entry.endswith(".py"):
                names.add(entry[:-3])
            elif "." in entry and entry.rsplit(".", 1)[1] in ("so", "pyd"):
                names.add(entry.split(".", 1)[0])
            elif os.path.isfile(os.path.join(full, "__init__.py")):
                names.add(entry)
    return names


# ---------------------------------------------------------------------------------------------
# one import, in this (forked or fresh) process


class _State:
    """What the warm parent learned while preloading; empty in a fresh process."""

    preloaded_tops = frozenset()  # top-level names the preload added beyond our own imports
    base_path = None  # sys.path after preloading, without this file's directory
    protocol_fds = ()  # fds the child must not keep (pipes to premerge)
    capture_fds = set()  # in-memory capture files of running children (a child keeps its own)
    go_fds = set()  # write ends of the pipes children forked ahead wait on
    fault_fd = None  # the warm parent's faulthandler descriptor (see _arm_faulthandler)
    clean = {}  # name -> module object the warm parent verified is not first-party
    #: (len(sys.modules), last name) when the parent verified that *nothing* loaded is
    #: first-party; a forked child whose sys.modules still matches needs no scan of its own
    verified = None
    loaded_tops = frozenset()  # top-level names of sys.modules minus the interpreter's own
    shadows = {}  # import root -> names its files provide (listed once, in the parent)
    nondumpable = False  # the warm parent made itself non-dumpable (children undo it)


def _last_name():
    try:
        return next(reversed(sys.modules))  # dicts keep insertion order; reversible on 3.8+
    except (TypeError, StopIteration):
        return None


def _unchanged_since_verified():
    """True when this process's ``sys.modules`` is still exactly what the warm parent
    verified (same length, same newest entry): provably no first-party module is loaded.

    Scanning ~1,000 module objects instead would copy-on-write every page that holds one --
    about a third of a forked child's time on a warm parent with third-party preloads."""
    verified = _State.verified
    return verified is not None and verified == (len(sys.modules), _last_name())


def _forget_missing_paths():
    """The warm parent starts while premerge still copies the snapshot: forget the import
    system's directory listings, and its verdicts that a ``sys.path`` entry (a PYTHONPATH
    directory of the snapshot) does not exist, taken before the copy was complete."""
    for key, finder in list(sys.path_importer_cache.items()):
        if finder is None:
            del sys.path_importer_cache[key]
    importlib.invalidate_caches()


def _mark_clean(roots):
    """Verify once, in the warm parent, that nothing loaded is first-party; children then
    re-check only modules that are new or replaced (a realpath per module is not free).
    Called when the snapshot is complete (preload, or the first fork without one)."""
    _forget_missing_paths()
    bad = {name for name, _ in first_party_modules(roots)}
    _State.clean = {name: module for name, module in sys.modules.items()
                    if module is not None and name not in bad}
    startup_tops = {n.split(".")[0] for n in STARTUP_MODULES}
    _State.loaded_tops = frozenset({n.split(".")[0] for n in sys.modules} - startup_tops)
    _State.verified = None if bad else (len(sys.modules), _last_name())
    # Objects that exist now are never collected by the children's GC: it would touch (and so
    # copy) every page the fork shares with us.  (No full collection first: after preloading it
    # finds nothing to free and costs ~30 ms before the first child can start.)
    _arm_faulthandler()
    if hasattr(gc, "freeze"):
        gc.freeze()


def _apply_limits(spec):
    if resource is None:
        return
    limits = (("RLIMIT_AS", spec.get("memory") or 0), ("RLIMIT_FSIZE", spec.get("fsize") or 0),
              ("RLIMIT_CORE", -1))
    for name, value in limits:
        which = getattr(resource, name, None)
        if which is None or value == 0:
            continue
        value = 0 if value == -1 else value
        try:
            soft, hard = resource.getrlimit(which)
            if hard != resource.RLIM_INFINITY and value > hard:
                value = hard
            # hard too: a soft limit alone the import could simply raise again
            resource.setrlimit(which, (value, value))
        except (ValueError, OSError):
            pass


def _redirect(spec):
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    captures = spec.get("fds")
    for fd, key in ((1, "stdout"), (2, "stderr")):
        if captures:
            os.dup2(captures[key], fd)
            continue
        target = os.open(spec[key], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(target, fd)
        os.close(target)
    own = set(captures.values()) if captures else set()
    others = [f for f in _State.capture_fds if f not in own] + list(_State.go_fds)
    for fd in list(_State.protocol_fds) + others:
        try:
            os.close(fd)
        except OSError:
            pass
    # sys.stdin/stdout/stderr keep their objects: they write to fds 0-2, which now point at
    # /dev/null and the captures -- buffered as in `python -c "import m" > file` (stderr line
    # by line, stdout flushed when the child ends).  Building new ones cost every child ~80
    # copied pages.


def _arm_faulthandler():
    """In the warm parent, once: faulthandler on a descriptor of its own (``/dev/null`` here)
    that each forked child points at its fault capture with one ``dup2``.  Children inherit the
    handlers (and SIGUSR1: premerge asks a hung child for its traceback before killing it)
    instead of installing them -- and their alternate signal stack -- each time."""
    if _State.fault_fd is not None:
        return
    fd = os.open(os.devnull, os.O_WRONLY)
    try:
        faulthandler.enable(file=fd, all_threads=True)
        if hasattr(faulthandler, "register"):
            faulthandler.register(signal.SIGUSR1, file=fd, all_threads=True)
    except (OSError, ValueError, RuntimeError):
        os.close(fd)
        return
    _State.fault_fd = fd


def _reset_signals():
    for name in ("SIGCHLD", "SIGTERM", "SIGHUP", "SIGUSR2"):
        number = getattr(signal, name, None)
        if number is not None:
            try:
                signal.signal(number, signal.SIG_DFL)
            except (OSError, ValueError):
                pass
    try:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.set_wakeup_fd(-1)
    except (OSError, ValueError):
        pass


def _import(spec):
    name = spec["name"]
    if spec["kind"] == "script":
        # like runpy, but under the module's own name so `if __name__ == "__main__"` stays off
        found = importlib.util.spec_from_file_location(name, spec["path"])
        if found is None or found.loader is None:
            raise ImportError("cannot load {} as a module".format(spec["path"]))
        module = importlib.util.module_from_spec(found)
        sys.modules[name] = module
        try:
            found.loader.exec_module(module)
        except BaseException:
            sys.modules.pop(name, None)
            raise
        return module
    return importlib.import_module(name)


_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
_PATH_EVENTS = {"os.remove": (0,), "os.rmdir": (0,), "os.mkdir": (0,), "os.rename": (0, 1),
                "os.truncate": (0,), "os.symlink": (1,), "os.link": (1,), "os.chmod": (0,),
                "os.chown": (0,), "os.utime": (0,), "shutil.rmtree": (0,),
                "shutil.copyfile": (1,), "shutil.make_archive": (0,)}


def _watch(repo, target, executed, module_files, writers):
    """Audit hooks (3.8+): record paths inside ``repo`` this process opens for writing or
    changes -- exact attribution of repository writes even when children run concurrently --,
    keep the code object the import executes for ``target`` (no recompiling later), and the
    file of every module body executed (``module_files``: which modules the import loaded,
    without scanning ``sys.modules``).  ``writers`` gets [path, file, line] for each write
    a first-party module body made (see :func:`_writer`).  Returns the writes list, or None
    without audit hooks."""
    writes = []
    add_hook = getattr(sys, "addaudithook", None)
    if add_hook is None:
        return None
    target_real = _real(target)
    fspath = os.fspath
    abspath = os.path.abspath

    def note(path):
        if isinstance(path, int):
            return
        try:
            text = fspath(path)
            if isinstance(text, bytes):
                text = os.fsdecode(text)
            full = abspath(text)
        except Exception:  # noqa: BLE001
            return
        if _inside(full, repo) and full not in writes and len(writes) < 1000:
            writes.append(full)
            writer = _writer(repo)
            if writer is not None:
                writers.append([full, writer[0], writer[1]])

    def hook(event, args):
        if event == "exec":
            code = args[0] if args else None
            if not isinstance(code, types.CodeType):
                return
            if code.co_name == "<module>":
                module_files.add(code.co_filename)
            if not executed and (code.co_filename == target
                                 or _real(code.co_filename) == target_real):
                executed.append(code)
        elif event == "open":
            path, mode, flags = (tuple(args) + (None, None, None))[:3]
            if (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
                    isinstance(flags, int) and flags & _WRITE_FLAGS):
                note(path)
        elif event in _PATH_EVENTS:
            for index in _PATH_EVENTS[event]:
                if index < len(args):
                    note(args[index])

    add_hook(hook)
    return writes


def _writer(repo):
    """(file, line) of the innermost first-party module body on the stack: the module whose
    import made the write now being audited (a function it calls, a ``logging`` handler it
    configures, included), and the statement of its body that did; None when no module body
    of the repository is running (a thread, an ``atexit`` handler)."""
    getframe = getattr(sys, "_getframe", None)
    frame = getframe(1) if getframe is not None else None
    while frame is not None:
        code = frame.f_code
        if code.co_name == "<module>" and _inside(code.co_filename, repo):
            return code.co_filename, frame.f_lineno
        frame = frame.f_back
    return None


def run_import(spec):
    """Import the target described by ``spec`` in *this* process; return the result dict."""
    repo = _roots(spec)
    result = {"status": "ok", "pid": os.getpid()}
    # 1. provably nothing first-party is loaded yet
    unchanged = _unchanged_since_verified()
    loaded = [] if unchanged else first_party_modules(repo)
    if loaded:
        result["status"] = "contaminated"
        result["first_party"] = loaded
        return result
    # 2. names the module's import root shadows must not come from what we loaded ourselves
    import_dirs = [spec["import_root"]]
    shadows = shadowing_names(import_dirs)
    if unchanged:
        ours = _State.loaded_tops
    else:
        ours = ({n.split(".")[0] for n in sys.modules}
                - {n.split(".")[0] for n in STARTUP_MODULES})
    clash = shadows & ours
    if clash & _State.preloaded_tops:
        result["status"] = "needs_fresh"
        result["shadowed"] = sorted(clash & _State.preloaded_tops)
        return result
    for top in clash:  # our own stdlib helpers: the target must find its sibling instead
        for key in [k for k in sys.modules if k == top or k.startswith(top + ".")]:
            del sys.modules[key]
    if clash:
        result["unshadowed"] = sorted(clash)
    executed = []
    module_files = set()
    writers = []
    writes = _watch(repo, spec["path"], executed, module_files, writers)
    result["writes"] = writes if writes is not None else []
    result["writers"] = writers

    def first_party_loaded():
        if writes is None:  # no audit hooks (3.7): scan what is loaded
            return [f for _n, f in first_party_modules(repo) if f]
        return sorted(f for f in module_files if not f.startswith("<") and _inside(f, repo))
    started = time.perf_counter()
    try:
        module = _import(spec)
    except BaseException as exc:  # noqa: BLE001 - SystemExit and KeyboardInterrupt included
        result["status"] = "error"
        result["exception"] = describe_exception(exc)
        if isinstance(exc, ImportError) and getattr(exc, "name", None):
            dist = distribution_of(exc.name)
            if dist:
                result["exception"]["distribution"] = dist
        result["seconds"] = time.perf_counter() - started
        result["first_party_loaded"] = first_party_loaded()
        return result
    result["seconds"] = time.perf_counter() - started
    module_file = getattr(module, "__file__", None)
    result["module_file"] = module_file
    result["first_party_loaded"] = first_party_loaded()
    if not module_file or not _same_file(module_file, spec["path"]):
        result["skipped_check"] = "the name resolves to {}".format(module_file or "a built-in")
        return result
    result["namespace"] = sorted(k for k in list(module.__dict__) if isinstance(k, str))
    if spec.get("check_globals", True):
        try:
            found, skipped = runtime_global_check(module, spec["path"],
                                                  executed[0] if executed else None)
        except Exception as exc:  # noqa: BLE001 - the check must never hide the import result
            found, skipped = [], "check failed: {}: {}".format(type(exc).__name__, _text(exc))
        result["globals"] = found
        if skipped:
            result["skipped_check"] = skipped
    return result


def run_child(spec):
    """Everything a child does, in order; never returns (``os._exit``)."""
    status = 0
    began = time.perf_counter()
    try:
        try:
            os.setsid()
        except OSError:
            pass  # already a session leader (fresh process started in a new session)
        if _State.nondumpable:
            set_dumpable(True)
        _reset_signals()
        _redirect(spec)
        captures = spec.get("fds")
        if captures and _State.fault_fd is not None:
            os.dup2(captures["fault"], _State.fault_fd)  # the inherited handlers write there
        else:
            fault = (open(captures["fault"], "w", closefd=False) if captures
                     else open(spec["fault"], "w"))
            faulthandler.enable(file=fault, all_threads=True)
            if hasattr(faulthandler, "register"):
                # on timeout premerge sends SIGUSR1 first: where the import hangs, then SIGKILL
                faulthandler.register(signal.SIGUSR1, file=fault, all_threads=True)
        _apply_limits(spec)
        os.environ["TMPDIR"] = spec["tmpdir"]
        tempfile.tempdir = None
        os.chdir(spec["cwd"])
        base = _State.base_path if _State.base_path is not None else _base_path()
        sys.path[:] = [spec["import_root"]] + [p for p in base if p != spec["import_root"]]
        # smoke.source_roots: where an installed project's packages would be found (a .pth
        # file appends them after the site directories)
        sys.path.extend(p for p in spec.get("extra_path") or () if p not in sys.path)
        sys.argv[:] = [spec["path"]]
        sys.dont_write_bytecode = True
        setup = time.perf_counter() - began
        result = run_import(spec)
        result["timing"] = {"setup": setup, "total": time.perf_counter() - began}
    except BaseException as exc:  # noqa: BLE001
        result = {"status": "internal", "exception": describe_exception(exc)}
    try:
        data = json.dumps(result, default=_text)
        captures = spec.get("fds")
        if captures:
            _write_all(captures["result"], data.encode("utf-8"))
        else:
            with open(spec["result"] + ".tmp", "w") as handle:
                handle.write(data)
            os.rename(spec["result"] + ".tmp", spec["result"])
    except BaseException:  # noqa: BLE001
        status = 70
    for stream in (sys.stdout, sys.stderr):  # the import may have replaced or closed them
        try:
            stream.flush()
        except BaseException:  # noqa: BLE001
            pass
    kill_orphans()  # what the import left running, even outside its process group
    os._exit(status)


def _write_all(fd, data):
    while data:
        try:
            written = os.write(fd, data)
        except InterruptedError:
            continue
        data = data[written:]


#: what a forked child writes: its stdout, stderr, faulthandler output and result JSON
CAPTURES = ("stdout", "stderr", "fault", "result")


def _memory_captures():
    """In-memory files (Linux ``memfd``) for one forked child's output and result, or None.

    Creating four files per module in a work directory costs up to a millisecond each on
    some file systems (ext4 on a VM disk here) -- a third of a small module's whole smoke
    test; an in-memory file costs microseconds, and the warm parent reads the tails after
    the child exits.  RLIMIT_FSIZE still caps each one."""
    create = getattr(os, "memfd_create", None)
    if create is None:
        return None
    fds = {}
    try:
        for key in CAPTURES:
            fds[key] = create("premerge-" + key, getattr(os, "MFD_CLOEXEC", 0))
    except OSError:
        for fd in fds.values():
            os.close(fd)
        return None
    return fds


def _read_captures(fds, tails):
    """{key: [size, text of the last tails[key] bytes (all when no tail is given)]}; closes."""
    out = {}
    for key, fd in fds.items():
        size, data = 0, b""
        try:
            size = os.fstat(fd).st_size
            limit = tails.get(key)
            start = max(0, size - limit) if limit else 0
            data = os.pread(fd, size - start, start)
        except OSError:
            pass
        finally:
            _State.capture_fds.discard(fd)
            try:
                os.close(fd)
            except OSError:
                pass
        out[key] = [size, data.decode("utf-8", "replace")]
    return out


def _base_path():
    here = os.path.dirname(CHILD_FILE)
    return [p for p in sys.path if p and _real(p) != _real(here)]


def _swap_home():
    """HOME was real at exec time (so site found user packages); imported code gets a temp one."""
    home = os.environ.pop("PREMERGE_SMOKE_HOME", None)
    if home:
        os.environ["HOME"] = home
        os.environ["USERPROFILE"] = home


# ---------------------------------------------------------------------------------------------
# the warm parent


class _Lines:
    """Newline-delimited JSON over a raw fd."""

    def __init__(self, fd):
        self.fd = fd
        self.buffer = b""

    def read(self):
        data = os.read(self.fd, 65536)
        if not data:
            return None
        self.buffer += data
        lines = self.buffer.split(b"\n")
        self.buffer = lines.pop()
        return [json.loads(line) for line in lines if line.strip()]


def _send(fd, message):
    _write_all(fd, (json.dumps(message) + "\n").encode())


def preload(names, roots, attributes=None, allow_threads=False, announce=None, early=None):
    """Import stdlib/third-party modules once; refuse any that pulls in first-party code
    (inside any of ``roots``: see :func:`_roots`).

    ``attributes`` maps a module to the names the project imports from it: touching them
    loads what a lazy package (pydantic, litellm: a module ``__getattr__``) defers until
    ``from pkg import Name`` -- otherwise every child would load it again.  ``announce`` is
    called with each name before its import: premerge gives each import the run's timeout
    and kills this process when one blocks.  ``early`` holds the verdicts of the names
    imported while premerge still read the sources (:func:`verdicts`): those are not
    imported again, only their attributes touched."""
    attributes = attributes or {}
    early = early or {}
    repo = roots
    ok, failed, tainted = [], {}, {}
    saved_argv = sys.argv[:]
    sys.argv[:] = [""]
    try:
        import threading
    except ImportError:  # pragma: no cover
        threading = None
    for name in names:
        if announce is not None:
            announce(name)
        before = set(sys.modules)
        threads = threading.active_count() if threading else 1
        verdict = early.get(name)
        if verdict is not None:
            if verdict.get("failed"):
                failed[name] = verdict["failed"]
            if verdict.get("tainted"):
                tainted[name] = verdict["tainted"]
            if name in failed or name in tainted:
                continue
        try:
            module = importlib.import_module(name) if verdict is None else sys.modules[name]
            for attr in attributes.get(name, ()):
                _touch(module, name, attr)
        except BaseException as exc:  # noqa: BLE001 - SystemExit from a broken package too
            failed[name] = "{}: {}".format(type(exc).__name__, _text(exc, 300))
        bad = _first_party_among(set(sys.modules) - before, repo)
        if bad:
            tainted[name] = "imports first-party code: " + ", ".join(sorted(bad)[:5])
        elif threading and threading.active_count() > threads and not allow_threads:
            tainted[name] = "starts a thread when imported"
        elif name not in failed:
            ok.append(name)
    sys.argv[:] = saved_argv
    return ok, failed, tainted


def verdicts(ok, failed, tainted):
    """:func:`preload`'s result as name -> {"failed": why, "tainted": why} (``early``)."""
    out = {name: {} for name in ok}
    for key, found in (("failed", failed), ("tainted", tainted)):
        for name, why in found.items():
            out.setdefault(name, {})[key] = why
    return out


def warm_subclasses(classes, roots, allow_threads=False, announce=None):
    """Subclass, once, each preloaded class the project subclasses at import (``classes``:
    module name -> class names), then drop the subclass.  What a package does on its first
    subclass -- pydantic loads its plugins, reading every installed distribution's entry
    points: ~3.5 ms -- is then done before the fork instead of again in every child.

    Returns {"module.Class": why} for each one that must not be warmed this way: making the
    subclass raised, loaded first-party code or started a thread, or the subclass stays alive
    after a full collection (a registry keeps it, where the project's code could find it).
    This process is then no longer clean: premerge restarts it without those.  ``announce``
    is called with each "module.Class" before it is subclassed (timed as an import is, see
    :func:`preload`)."""
    if not classes:
        return {}
    import weakref
    try:
        import threading
    except ImportError:  # pragma: no cover
        threading = None
    refused, made = {}, {}
    for name in sorted(classes):
        module = sys.modules.get(name)
        for attr in classes[name]:
            base = getattr(module, attr, None) if module is not None else None
            if not isinstance(base, type):
                continue
            dotted = "{}.{}".format(name, attr)
            if announce is not None:
                announce(dotted)
            before = set(sys.modules)
            threads = threading.active_count() if threading else 1
            try:
                made[dotted] = weakref.ref(types.new_class("_PremergeWarm", (base,), {},
                                                           _warm_body))
            except BaseException as exc:  # noqa: BLE001 - SystemExit too: never warm then
                refused[dotted] = "subclassing it raised {}".format(type(exc).__name__)
                continue
            bad = _first_party_among(set(sys.modules) - before, roots)
            if bad:
                refused[dotted] = "subclassing it imports first-party code: " + ", ".join(
                    sorted(bad)[:5])
            elif threading and threading.active_count() > threads and not allow_threads:
                refused[dotted] = "subclassing it starts a thread"
    if made:
        gc.collect()  # a class is a reference cycle: afterwards no __subclasses__() lists it
    for dotted, ref in made.items():
        if ref() is not None and dotted not in refused:
            refused[dotted] = "something keeps the subclass alive"
    return refused


def _warm_body(namespace):
    namespace["__module__"] = "premerge_warm"


def _first_party_among(names, roots):
    """The modules of ``names`` (just loaded) whose file or package path is first-party."""
    bad = []
    for key in names:
        module = sys.modules.get(key)
        where = getattr(module, "__file__", None)
        paths = list(getattr(module, "__path__", None) or [])
        if _inside(where, roots) or any(_inside(p, roots) for p in paths):
            bad.append(key)
    return bad


def _touch(module, name, attr):
    """``from name import attr`` without binding anything: the attribute, else the submodule."""
    try:
        getattr(module, attr)
        return
    except Exception:  # noqa: BLE001 - a lazy attribute that fails: the child will say so
        pass
    try:
        importlib.import_module("{}.{}".format(name, attr))
    except Exception:  # noqa: BLE001 - no such submodule either: the child will say so
        pass


_PRECOMPILED = {}  # loader path -> (mtime_ns, size, code object)


def compile_sources(paths):
    """[(path, mtime_ns, size, code)]: each source compiled exactly as the import system
    would (same bytes, same path string, ``dont_inherit``, default optimisation)."""
    out = []
    for path in paths:
        try:
            stat = os.stat(path)
            with open(path, "rb") as handle:
                data = handle.read()
            code = compile(data, path, "exec", dont_inherit=True)
        except Exception:  # noqa: BLE001 - a broken file compiles (and fails) in the child
            continue
        out.append((path, stat.st_mtime_ns, stat.st_size, code))
    return out


def start_compiler(paths):
    """Fork a process that compiles ``paths`` while this one preloads (the other CPUs are
    idle then); :func:`finish_compiler` takes its code objects.  A (pid, fd) handle or None."""
    if not paths or not hasattr(os, "fork"):
        return None
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        status = 0
        try:
            os.close(read_end)
            _write_all(write_end, marshal.dumps(compile_sources(paths)))
        except BaseException:  # noqa: BLE001 - the parent then simply has nothing precompiled
            status = 1
        os._exit(status)
    os.close(write_end)
    return pid, read_end


def finish_compiler(handle):
    """The compiler's code objects, installed for children (see :func:`precompile`)."""
    if handle is None:
        return 0
    pid, fd = handle
    chunks = []
    try:
        while True:
            data = os.read(fd, 1 << 20)
            if not data:
                break
            chunks.append(data)
    finally:
        os.close(fd)
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:  # reaped already by the SIGCHLD loop
        pass
    try:
        entries = marshal.loads(b"".join(chunks))
    except Exception:  # noqa: BLE001 - it died half-way: compile nothing ahead
        entries = []
    return precompile(entries)


def precompile(entries):
    """Hand children the warm parent's code objects for first-party sources instead of each
    compiling them.  A child gets the code object only while the file's mtime and size are
    unchanged -- the validation a .pyc gets."""
    for path, mtime_ns, size, code in entries:
        _PRECOMPILED[path] = (mtime_ns, size, code)
    if not _PRECOMPILED:
        return 0
    from importlib.machinery import SourceFileLoader

    if getattr(SourceFileLoader.get_code, "_premerge", False):
        return len(_PRECOMPILED)
    original = SourceFileLoader.get_code

    def get_code(self, fullname):
        entry = _PRECOMPILED.get(getattr(self, "path", None))
        if entry is not None:
            try:
                stat = os.stat(self.path)
            except OSError:
                stat = None
            if stat is not None and (stat.st_mtime_ns, stat.st_size) == entry[:2]:
                return entry[2]
        return original(self, fullname)

    get_code._premerge = True
    get_code.__wrapped__ = original
    SourceFileLoader.get_code = get_code
    return len(_PRECOMPILED)


def hello():
    return {"op": "hello", "protocol": PROTOCOL, "version": list(sys.version_info[:3]),
            "implementation": sys.implementation.name, "executable": sys.executable,
            "prefix": sys.prefix, "fork": hasattr(os, "fork"), "pid": os.getpid()}


def serve():
    """The warm parent's loop: preload on request, fork one child per ``run``, report exits."""
    proto_in, proto_out = _take_protocol_pipes()
    subreaper = _harden_warm_parent()
    wake_r = _wake_on_child_exit(proto_in, proto_out)
    _send(proto_out, hello())
    parent = _WarmParent(proto_in, proto_out, wake_r, subreaper)
    try:
        while True:
            ready = parent.wait()
            parent.tend()
            if proto_in not in ready:
                continue
            messages = parent.reader.read()
            if messages is None or not parent.handle(messages):
                break  # premerge closed the pipe or said "exit"
            parent.tend()
    finally:
        parent.kill_children()
    return 0


def _take_protocol_pipes():
    """The protocol to premerge moves to private fds; stdin becomes /dev/null and stdout our
    stderr, so nothing a preloaded module reads or prints touches the protocol."""
    sys.path[:] = _base_path()
    sys.dont_write_bytecode = True
    proto_in = os.dup(0)
    proto_out = os.dup(1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.dup2(2, 1)  # anything a preloaded module prints goes to our stderr, not the protocol
    return proto_in, proto_out


def _harden_warm_parent():
    """A subreaper (an import's daemons come back to us to be killed), without the
    capabilities that override non-dumpable, and non-dumpable (imports cannot read our
    pipes to premerge through ``/proc``).  True when we are a subreaper."""
    subreaper = become_subreaper()
    drop_ptrace_capability()
    _State.nondumpable = set_dumpable(False)
    return subreaper


def _wake_on_child_exit(proto_in, proto_out):
    """SIGCHLD writes to a pipe :meth:`_WarmParent.wait` selects on, so a child's exit wakes
    the loop as a message from premerge does.  The read end of that pipe."""
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    os.set_blocking(wake_r, False)
    _State.protocol_fds = (proto_in, proto_out, wake_r, wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    signal.set_wakeup_fd(wake_w)
    return wake_r


class _WarmParent:
    """The warm parent between two messages: its children, the run requests it holds, and
    one handler per request ``op`` premerge sends."""

    def __init__(self, proto_in, proto_out, wake_r, subreaper):
        self.proto_in = proto_in
        self.proto_out = proto_out
        self.wake_r = wake_r
        self.subreaper = subreaper
        self.reader = _Lines(proto_in)
        self.children = {}  # pid -> (job id, in-memory capture fds or None, tail sizes)
        #: run requests waiting for a free slot: premerge sends a few ahead, so the next child
        #: is forked the moment one exits, without a round trip through premerge
        self.queue = []
        self.waiting = {}  # pid -> go pipe: the child forked ahead of a free slot
        self.slots = 0  # at most this many children at once (0: no limit, fork on request)
        self.own_tops = {n.split(".")[0] for n in sys.modules}
        #: verdicts of the modules imported while premerge still read the sources (``more``)
        self.early = {}
        self.compilers = []  # forked compilers not finished yet
        #: the import system's view from before the snapshot was complete is forgotten (once:
        #: each time costs every later import a fresh listing of every sys.path directory)
        self.forgotten = False
        self.handlers = {"preload": self.on_preload, "run": self.on_run,
                         "kill": self.on_kill, "signal": self.on_signal}

    def wait(self):
        """Block until premerge writes or a child exits; the fds that are ready."""
        while True:
            try:
                ready, _, _ = select.select([self.proto_in, self.wake_r], [], [])
                break
            except InterruptedError:
                continue
        if self.wake_r in ready:
            try:
                while os.read(self.wake_r, 4096):
                    pass
            except (BlockingIOError, InterruptedError):
                pass
        return ready

    def tend(self):
        """Report the children that exited (and kill what they left running), then start
        queued requests in the slots they freed."""
        if _reap(self.children, self.proto_out, self.waiting) and self.subreaper:
            kill_orphans(self.children)
        _start_queued(self.queue, self.children, self.waiting, self.slots, self.proto_out)

    def handle(self, messages):
        """Act on each message in turn; False at ``exit`` (the rest are not read)."""
        for message in messages:
            op = message.get("op")
            if op == "exit":
                return False
            handler = self.handlers.get(op)
            if handler is not None:
                handler(message)
        return True

    def on_preload(self, message):
        """Import the modules the project uses once, compile its sources meanwhile, and
        report what loaded, failed or pulled in first-party code.  A message with ``more``
        comes while premerge still reads the sources: its modules are imported now and
        reported with the last one's, which names them all again."""
        if not self.forgotten:  # premerge sends the first once the snapshot is complete
            _forget_missing_paths()
            self.forgotten = True
        compiler = start_compiler(message.get("compile", []))
        if compiler is not None:
            self.compilers.append(compiler)
        if message.get("more"):
            attributes = message.get("attributes") or {}
            names = list(message.get("modules", []))
            names += [n for n in attributes if n in self.early and n not in names]
            self.early.update(verdicts(*preload(names, _roots(message), attributes,
                                                bool(message.get("allow_threads")),
                                                self.announce, self.early)))
            return
        ok, failed, tainted = preload(message.get("modules", []), _roots(message),
                                      message.get("attributes") or {},
                                      bool(message.get("allow_threads")), self.announce,
                                      self.early)
        unwarmed = warm_subclasses({k: v for k, v in (message.get("subclass") or {}).items()
                                    if k in ok and k not in tainted},
                                   _roots(message), bool(message.get("allow_threads")),
                                   self.announce)
        self.announce(None)  # the imports are done; compiling and checks remain
        tops = {n.split(".")[0] for n in sys.modules}
        _State.preloaded_tops = frozenset(tops - self.own_tops)
        _State.base_path = _base_path()
        for handle in self.compilers:
            finish_compiler(handle)
        self.compilers = []
        compiled = len(_PRECOMPILED)
        if tainted or unwarmed:
            compiled = 0  # premerge restarts this parent without them
        _mark_clean(_roots(message))
        _send(self.proto_out, {"op": "preloaded", "ok": ok, "failed": failed,
                               "tainted": tainted, "unwarmed": unwarmed,
                               "compiled": compiled, "modules": len(sys.modules)})

    def announce(self, name):
        """Tell premerge which preload step starts (a module's name; None: the imports are
        done), so it can time each one (``runner._Server.preload``)."""
        _send(self.proto_out, {"op": "preloading", "name": name})

    def on_run(self, message):
        """Queue one import; :meth:`tend` forks it when a slot is free."""
        self.slots = int(message.get("slots") or 0)
        self.queue.append(message)

    def on_kill(self, message):
        """premerge's timeout: a queued request is dropped and reported killed, a running
        child's process group is killed (the reap reports it)."""
        for queued in [q for q in self.queue if q["id"] == message["id"]]:
            self.queue.remove(queued)
            _send(self.proto_out, {"op": "exited", "id": queued["id"], "pid": None,
                                   "status": {"signal": signal.SIGKILL, "code": None}})
        for pid in self._pids_of(message["id"]):
            kill_group(pid)

    def on_signal(self, message):
        """Forward a signal to a running child (SIGUSR1: its traceback before a timeout kill)."""
        for pid in self._pids_of(message["id"]):
            try:
                os.kill(pid, message.get("signal", signal.SIGUSR1))
            except OSError:
                pass

    def _pids_of(self, job):
        return [pid for pid, entry in list(self.children.items()) if entry[0] == job]

    def kill_children(self):
        """On the way out: nothing we forked, nor anything it started, outlives us."""
        children = self.children
        for pid in list(children):
            kill_group(pid)
        for pid in list(children):
            try:
                os.waitpid(pid, 0)
            except OSError:
                pass
            kill_group(pid)
        if self.subreaper:
            kill_orphans()


def _start_queued(queue, children, waiting, slots, proto_out):
    """Start queued imports while a slot is free, and keep one more forked ahead.

    Forking the ~50 MB warm parent takes a millisecond or two; done when a slot frees, it
    left that slot idle every time.  The child forked ahead (``waiting``: pid -> the write
    end of its go pipe) is a copy of the same state and blocks until it is released, so at
    most ``slots`` imports still run at once."""
    def free():
        return slots <= 0 or len(children) - len(waiting) < slots

    while waiting and free():
        pid = next(iter(waiting))
        go = waiting.pop(pid)
        _State.go_fds.discard(go)
        try:
            os.write(go, b"g")
        except OSError:
            pass  # it died waiting: the reap reports it
        os.close(go)
        _send(proto_out, {"op": "started", "id": children[pid][0], "pid": pid})
    while queue and free():
        pid = _fork_child(queue.pop(0), children, ahead=False)
        _send(proto_out, {"op": "started", "id": children[pid][0], "pid": pid})
    if slots > 0 and queue and not waiting:
        read_end, write_end = os.pipe()
        _State.go_fds.add(write_end)
        pid = _fork_child(queue.pop(0), children, ahead=read_end)
        os.close(read_end)
        waiting[pid] = write_end


def _fork_child(message, children, ahead):
    """Fork the child for one run request (``ahead``: the fd it waits on before starting)."""
    spec = message["spec"]
    if not _State.clean:
        _mark_clean(_roots(spec))
    root = spec.get("import_root")
    if root and root not in _State.shadows:
        _State.shadows[root] = frozenset(shadowing_names([root]))
    captures = _memory_captures() if message.get("tails") else None
    if captures:
        spec = dict(spec, fds=captures)
        _State.capture_fds.update(captures.values())
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        if ahead is not False:
            _wait_for_release(ahead)
        run_child(spec)  # never returns
    children[pid] = (message["id"], captures, message.get("tails") or {})
    return pid


def _wait_for_release(fd):
    """A child forked ahead: block until the parent gives it a slot (EOF: it never will)."""
    for other in list(_State.go_fds):
        try:
            os.close(other)  # our own go pipe's write end too, or EOF could never come
        except OSError:
            pass
    _State.go_fds.clear()
    while True:
        try:
            data = os.read(fd, 1)
            break
        except InterruptedError:
            continue
        except OSError:
            data = b""
            break
    os.close(fd)
    if not data:
        os._exit(0)


_PR_SET_DUMPABLE = 4  # linux/prctl.h
_PR_CAPBSET_DROP = 24
_PR_SET_CHILD_SUBREAPER = 36
#: CAP_SYS_PTRACE, CAP_SYS_ADMIN, CAP_PERFMON (linux/capability.h)
_OVERRIDE_DUMPABLE = (19, 21, 38)
_CAPABILITY_VERSION_3 = 0x20080522


_LIBC = []


def _libc():
    """glibc through ctypes on Linux, else None (no ctypes, no libc: the mechanisms that need
    it are skipped, never faked)."""
    if _LIBC:
        return _LIBC[0]
    libc = None
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
        except Exception:  # noqa: BLE001
            libc = None
    _LIBC.append(libc)
    return libc


def set_dumpable(flag):
    """``prctl(PR_SET_DUMPABLE)``: a non-dumpable process's ``/proc/<pid>/environ``, ``fd/``
    and ``mem`` are closed to other processes of the same user.  The warm parent is made
    non-dumpable (its protocol pipes to premerge stay out of the imports' reach); each forked
    child is made dumpable again, so the import sees the process a plain ``python`` has."""
    libc = _libc()
    return libc is not None and libc.prctl(_PR_SET_DUMPABLE, int(flag), 0, 0, 0) == 0


def drop_ptrace_capability():
    """Root only has capabilities that override the non-dumpable flag (CAP_SYS_PTRACE, and
    for ``/proc/<pid>/environ`` CAP_SYS_ADMIN or CAP_PERFMON too): drop them from the
    bounding set (lost for good, across ``exec`` too) and from this process's sets, so
    imported code running as root cannot read premerge's ``/proc`` entries either."""
    libc = _libc()
    if libc is None:
        return False
    import ctypes

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                    ("inheritable", ctypes.c_uint32)]

    try:
        for cap in _OVERRIDE_DUMPABLE:  # needs CAP_SETPCAP; else a no-op
            libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0)
        header = Header(_CAPABILITY_VERSION_3, 0)
        data = (Data * 2)()
        if libc.capget(ctypes.byref(header), data) != 0:
            return False
        held = False
        for cap in _OVERRIDE_DUMPABLE:
            word, bit = divmod(cap, 32)
            mask = ~(1 << bit) & 0xFFFFFFFF
            held = held or bool(data[word].permitted & ~mask)
            data[word].effective &= mask
            data[word].permitted &= mask
            data[word].inheritable &= mask
        return not held or libc.capset(ctypes.byref(header), data) == 0
    except Exception:  # noqa: BLE001
        return False


def become_subreaper():
    """Linux: orphans of our descendants are re-parented to us instead of init.

    A process group dies as a whole, but a daemon that called ``setsid`` (or was started with
    ``start_new_session``) has left it; as a subreaper we still see it as our child when its
    parent exits, and kill it (:func:`kill_orphans`).  False where that is not possible."""
    libc = _libc()
    return libc is not None and libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0


def _own_children():
    """PIDs of this process's children (each thread lists the ones it started).

    Raw ``os`` calls: this runs after every import, in the child and in the warm parent,
    where each Python object touched can copy a page shared with the fork."""
    found = []
    try:
        tasks = os.listdir("/proc/self/task")
    except OSError:
        return found
    for task in tasks:
        try:
            fd = os.open("/proc/self/task/" + task + "/children", os.O_RDONLY)
        except OSError:
            continue
        data = b""
        try:
            while True:  # one read per 64 KiB: thousands of children fill more than one
                chunk = os.read(fd, 65536)
                if not chunk:
                    break
                data += chunk
        except OSError:
            pass
        finally:
            os.close(fd)
        try:
            found.extend(int(pid) for pid in data.split())
        except ValueError:
            continue
    return found


#: killing a child re-parents its own children to us, so the stray kill repeats; this many
#: rounds at most (a process that forks faster than it is killed cannot hold us forever)
KILL_ROUNDS = 100


def kill_orphans(keep=(), stray=None):
    """Kill and reap every child of this process not in ``keep`` (and, given ``stray``, for
    which ``stray(pid)`` is true): as a subreaper those are what imports left running
    outside their process groups.  The warm parent, a fresh child's supervisor, the child
    itself and premerge (:func:`premerge.smoke.runner.kill_strays`) all use this one loop.
    Returns how many were reaped."""
    kept = frozenset(keep)
    reaped = 0
    for _round in range(KILL_ROUNDS):
        strays = [pid for pid in _own_children()
                  if pid not in kept and (stray is None or stray(pid))]
        if not strays:
            break
        for pid in strays:
            kill_group(pid)
            try:
                os.kill(pid, signal.SIGKILL)  # a stray that left its group: itself too
            except OSError:
                pass
        for pid in strays:
            try:
                os.waitpid(pid, 0)
                reaped += 1
            except OSError:  # ChildProcessError: reaped elsewhere already
                pass
    return reaped


def kill_group(pid):
    """SIGKILL the process group ``pid`` leads (every smoke process starts a session), or the
    process alone where it leads none or there are no process groups (Windows)."""
    for kill in (getattr(os, "killpg", None), os.kill):
        if kill is None:
            continue
        try:
            kill(pid, signal.SIGKILL)
            return
        except OSError:
            continue


def _reap(children, proto_out, waiting=None):
    """Report every child that exited; True when there was one."""
    exited = False
    while children:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        except InterruptedError:
            continue
        if pid == 0:
            break
        entry = children.pop(pid, None)
        go = waiting.pop(pid, None) if waiting else None
        if go is not None:  # died while waiting for a slot
            _State.go_fds.discard(go)
            os.close(go)
        # nothing the import started may survive it: kill what is left of its process group
        kill_group(pid)
        if entry is None:
            continue
        exited = True
        job, captures, tails = entry
        message = {"op": "exited", "id": job, "pid": pid, "status": _status(status)}
        if captures:
            message["captured"] = _read_captures(captures, tails)
        _send(proto_out, message)
    return exited


def supervise(spec):
    """Fresh mode: this process stands between premerge and the import, as the warm parent
    does in warm mode -- imported code is never premerge's own child, so killing or stopping
    its parent (``os.getppid()``) hits this process, which premerge outlives and reports.

    A subreaper: what the import leaves running, even in a session of its own, is re-parented
    here and killed before this process writes the import's exit status (``.exit``) for
    premerge and exits."""
    subreaper = become_subreaper()
    drop_ptrace_capability()
    pid = os.fork()
    if pid == 0:
        run_child(spec)  # never returns

    def forward(signum, _frame):
        try:
            os.kill(pid, signum)  # SIGUSR1: premerge asks the hung import for its traceback
        except OSError:
            pass

    if hasattr(signal, "SIGUSR1"):
        signal.signal(signal.SIGUSR1, forward)
    while True:
        try:
            _, status = os.waitpid(pid, 0)
            break
        except InterruptedError:
            continue
        except ChildProcessError:
            status = None
            break
    kill_group(pid)
    if subreaper:
        kill_orphans()
    if status is None:
        return 70
    try:
        with open(spec["result"] + ".exit.tmp", "w") as handle:
            json.dump(_status(status), handle)
        os.rename(spec["result"] + ".exit.tmp", spec["result"] + ".exit")
    except OSError:
        return 70
    return 0


def _status(status):
    if os.WIFSIGNALED(status):
        return {"signal": os.WTERMSIG(status), "code": None}
    return {"signal": None, "code": os.WEXITSTATUS(status)}


def main(argv):
    _swap_home()
    if len(argv) < 2 or argv[1] == "hello":
        sys.stdout.write(json.dumps(hello()) + "\n")
        return 0
    if argv[1] == "serve":
        code = serve()
        # no interpreter teardown: finalising every preloaded module (and their atexit
        # handlers) costs tens of milliseconds and nothing of it is ours to wait for
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # noqa: BLE001
                pass
        os._exit(code)
    if argv[1] == "run":
        with open(argv[2]) as handle:
            spec = json.load(handle)
        sys.path[:] = _base_path()
        if not hasattr(os, "fork"):  # Windows: no supervisor, the import runs right here
            run_child(spec)
        os._exit(supervise(spec))
    sys.stderr.write("usage: child.py hello|serve|run SPEC\n")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
