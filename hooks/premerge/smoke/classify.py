"""From what a child reported to PM3xx findings.

Each failure is reported at the imported module's file, at the line of that file the
traceback points to (the import statement that led to the failure, or the failing line
itself), with the traceback's repository frames as related locations.  A failure that
*originates* in another module of the same run (b fails, so a, which imports b, fails the same
way) is folded into b's finding as a related location instead of being repeated.

Which PM3xx rule a failed import becomes is the rules' decision (``smoke/messages.py``, in the
order of ``IMPORT_FAILURE_RULES``); this module reads the child's report into an
``ImportFailure`` (the repository's frames, the line, a platform's refusal) and handles the
outcomes that are not exceptions (a timeout, a crash, a module's missing globals).
"""

from __future__ import annotations

import ast
import os
import re
import signal
import sys
from collections.abc import Iterable, Sequence
from typing import Any

from premerge.findings import ALSO_STOPS, RULES, Finding, Location
from premerge.imports.discovery import ProjectModule
from premerge.imports.graph import ImportGraph
from premerge.input_rules import InternalError
from premerge.records import Record
from premerge.smoke import messages as m
from premerge.smoke.messages import Classified
from premerge.smoke.runner import Outcome
from premerge.smoke.static import FileFacts
from premerge.sources import relative_to

#: Windows-only distributions' import names (pywin32, WMI): missing everywhere else by design
WINDOWS_ONLY_MODULES = frozenset({
    "pywintypes", "pythoncom", "win32api", "win32con", "win32file", "win32pipe", "win32event",
    "win32process", "win32security", "win32service", "win32serviceutil", "win32com",
    "win32gui", "win32clipboard", "winerror", "servicemanager", "wmi", "_win32typing",
})
#: standard-library modules that exist only on some platforms (Windows; POSIX; macOS)
PLATFORM_STDLIB = frozenset({
    "winreg", "_winreg", "msvcrt", "_winapi", "winsound", "_overlapped", "nt", "msilib", "_msi",
    "_wmi", "fcntl", "termios", "tty", "pty", "pwd", "grp", "spwd", "crypt", "resource",
    "posix", "_posixsubprocess", "syslog", "nis", "ossaudiodev", "readline", "curses",
    "_curses", "_scproxy",
})
#: words that name a platform in a compiled extension's module name (psutil's
#: ``_psutil_aix``, ``_psutil_windows``), and the ``sys.platform`` prefixes each one means
PLATFORM_WORDS = {
    "aix": ("aix",), "bsd": ("freebsd", "openbsd", "netbsd"), "freebsd": ("freebsd",),
    "openbsd": ("openbsd",), "netbsd": ("netbsd",), "osx": ("darwin",), "darwin": ("darwin",),
    "macos": ("darwin",), "sunos": ("sunos",), "solaris": ("sunos",), "windows": ("win32",),
    "win32": ("win32",), "cygwin": ("cygwin",), "linux": ("linux",),
}
#: expressions that test which platform the code runs on
_PLATFORM_TESTS = ("sys.platform", "os.name", "platform.system(", "platform.mac_ver(",
                   "sys.getwindowsversion", "platform.win32_ver(")

class Context(Record):
    __slots__ = _fields = ("root", "graph", "facts", "python", "timeout", "real_to_path")

    def __init__(self, root: str, graph: ImportGraph, facts: dict[str, FileFacts], python: str,
                 timeout: float, real_to_path: dict[str, str] | None = None) -> None:
        self.root = root
        self.graph = graph
        self.facts = facts
        self.python = python  # a short description of the interpreter, for messages
        self.timeout = timeout
        #: realpath -> module path, for mapping traceback files back to modules
        self.real_to_path: dict[str, str] = {} if real_to_path is None else real_to_path
        for path in graph.modules:
            self.real_to_path[_real(path)] = path

    def inside(self, filename: str | None) -> bool:
        if not filename or filename.startswith("<"):
            return False  # "<frozen importlib._bootstrap>", "<string>": no file (realpath
            # would place it in the current directory, the repository)
        real = _real(filename)
        root = _real(self.root)
        return real == root or real.startswith(root + os.sep)

    def display(self, filename: str) -> str:
        path = self.real_to_path.get(_real(filename), filename)
        return relative_to(path, self.root)

    def module_path(self, filename: str) -> str:
        return self.real_to_path.get(_real(filename), filename)

    def same_file(self, one: str, other: str) -> bool:
        return _real(one) == _real(other)


_REALS: dict[str, str] = {}


def _real(path: str) -> str:
    cached = _REALS.get(path)
    if cached is None:
        cached = _REALS[path] = os.path.realpath(path)
    return cached


def classify(outcome: Outcome, ctx: Context) -> list[Classified]:
    module = outcome.module
    status = outcome.status
    if status == "timeout":
        return [_timeout(outcome, ctx)]
    if status == "crash":
        return [_crash(outcome, ctx)]
    result = outcome.result or {}
    if status == "error":
        return [_error(module, result.get("exception") or {}, outcome, ctx)]
    if status == "ok":
        items = result.get("globals") or []
        if items:
            items = _unguarded(module.path, items)
        return [Classified(_undefined_global(module, item)) for item in items]
    reason = f"the smoke child reported {status!r}"
    exc = result.get("exception") or {}
    if exc:
        reason += f": {exc.get('type')}: {exc.get('message', '')}"
    return [Classified(InternalError.at(module.path, module=module.name, reason=reason))]


def _undefined_global(module: ProjectModule, item: dict[str, Any]) -> Finding:
    return m.UndefinedGlobalAtRuntime.at(
        module.path, item.get("line"), item.get("col"), name=item["name"],
        module=module.name, function=item.get("function", "?"),
        key=f"{module.name}:{item.get('function')}:{item['name']}")


_STAR_IMPORT = re.compile(r"^\s*from\s+\S+\s+import\s*\(?\s*\*", re.MULTILINE)


def static_global_findings(module: ProjectModule) -> list[Finding]:
    """PM313 for a module that is not imported (PM312): the runtime check without the
    namespace.  A function's global load that no statement of the file binds (nor a
    ``global`` statement), that builtins lack and no ``except NameError`` guards raises
    NameError when called.  Silent where the namespace is filled in ways the bytecode does
    not show: a star import, a module ``__getattr__``, functions that write ``globals()``."""
    from premerge.parsed import PARSE_ERRORS, parse_source
    from premerge.builtin_names import BUILTIN_NAMES
    from premerge.smoke import child
    from premerge.sources import SourceError

    try:
        parsed = parse_source(module.path)  # the tree smoke's static pass parsed, when kept
        text = parsed.source.text
        top = compile(parsed.tree, module.path, "exec", dont_inherit=True)
    except (SourceError, *PARSE_ERRORS):
        return []
    bound, dynamic = child.module_level_names(top)
    if dynamic or "__getattr__" in bound or _STAR_IMPORT.search(text):
        return []
    known = bound | BUILTIN_NAMES
    items: list[dict[str, Any]] = []
    seen: set[tuple[int | None, str]] = set()
    stack: list[tuple[str, Any]] = [("<module>", top)]
    while stack:
        name_of, code = stack.pop()
        for inner in child.nested_code(code):
            if inner.co_name.startswith("<") and inner.co_name != "<lambda>":
                inner_name = name_of  # a comprehension: its caller
            else:
                inner_name = getattr(inner, "co_qualname", None) or inner.co_name
            stack.append((inner_name, inner))
        if code is top or not child.is_function_code(code) or not set(code.co_names) - known:
            continue
        for offset, name in child.global_loads(code):
            if name in known:
                continue
            line, col = child.offset_position(code, offset)
            if (line, name) not in seen:
                seen.add((line, name))
                items.append({"function": name_of, "name": name, "line": line, "col": col})
    if not items:
        return []
    items.sort(key=lambda item: (item["line"] or 0, item["name"]))
    return [_undefined_global(module, item) for item in _unguarded(module.path, items)]


def _unguarded(path: str, items: list[dict[str, object]]) -> list[dict[str, object]]:
    """The runtime check's missing globals, less those the code expects may be missing.

    The bytecode cannot see ``try: get_ipython`` / ``except NameError: return`` or ``if
    "get_ipython" in globals():``; the scope analyzer can, and it leaves Python 2 builtins on
    compatibility paths (``unicode``) alone: both checks give the same verdict on one load.
    """
    from premerge.builtin_names import PORTABLE_BUILTINS
    from premerge.parsed import PARSE_ERRORS
    from premerge.scope import guarded_loads
    from premerge.sources import SourceError

    try:  # the tree smoke's static pass (or the bytecode's compile) parsed: the run kept it
        guarded = guarded_loads(path)
    except (SourceError, *PARSE_ERRORS):
        return items
    return [item for item in items if item["name"] not in PORTABLE_BUILTINS
            and (item.get("line"), item["name"]) not in guarded]


# ---------------------------------------------------------------------------------------------


def _frames_in_repo(frames: Iterable[Sequence[object]], ctx: Context) -> list[tuple[str, int,
                                                                                     str]]:
    out = []
    for frame in frames:
        filename, line, name = str(frame[0]), frame[1], str(frame[2])
        if ctx.inside(filename) and isinstance(line, int):
            out.append((ctx.module_path(filename), line, name))
    return out


def _place(module: ProjectModule, frames: list[tuple[str, int, str]]) -> tuple[int | None,
                                                                                list[Location]]:
    """The line in the module's own file (the last frame there) and the other repo frames."""
    own = [f for f in frames if _real(f[0]) == _real(module.path)]
    line = own[-1][1] if own else None
    related = []
    for path, frame_line, name in frames:
        if _real(path) == _real(module.path) and frame_line == line:
            continue
        where = "at module level" if name == "<module>" else f"in {name}()"
        related.append(Location(path, frame_line, message=f"{where}"))
    return line, related


def _origin(frames: list[tuple[str, int, str]]) -> str | None:
    return frames[-1][0] if frames else None


def _error(module: ProjectModule, exc: dict[str, object], outcome: Outcome, ctx: Context
           ) -> Classified:
    """A failed import described for the PM3xx rules, and the finding of the first that
    applies (``smoke/messages.py``: ``IMPORT_FAILURE_RULES``)."""
    bases = [str(b) for b in exc.get("bases", [exc.get("type", "Exception")])]  # type: ignore
    frames = _frames_in_repo(exc.get("frames", []), ctx)  # type: ignore[arg-type]
    line, related = _place(module, frames)
    return m.classified(m.ImportFailure(
        module, exc, str(exc.get("type", "Exception")), bases, str(exc.get("message", "")),
        frames, line, related, _origin(frames), _other_platform(exc, bases, frames),
        _last_line(outcome.stderr), ctx))


def _other_platform(exc: dict[str, object], bases: list[str],
                    frames: list[tuple[str, int, str]]) -> str:
    """Why the failure is a module for another platform refusing this one; "" when it is not.

    A standard-library module this platform's Python lacks (``winreg``), a Windows-only
    distribution (``pywintypes``), or an ``assert``/``raise`` in the failing file's own code
    under a test of ``sys.platform``/``os.name``/``platform.system()``.
    """
    if "ModuleNotFoundError" in bases and exc.get("name"):
        top = str(exc["name"]).split(".")[0]
        if top in PLATFORM_STDLIB:
            return (f" ({top!r} is a standard-library module this platform's Python does not "
                    f"have: the module is for another platform)")
        if top in WINDOWS_ONLY_MODULES and sys.platform != "win32":
            return f" ({top!r} exists only on Windows: the module is for another platform)"
        return _named_for_another_platform(str(exc["name"]))
    missing = _CANNOT_IMPORT_NAME.match(str(exc.get("message") or ""))
    if "ImportError" in bases and missing:
        return _named_for_another_platform(missing.group(1))
    if not frames or not any(b in bases for b in ("AssertionError", "ImportError", "OSError",
                                                  "RuntimeError", "NotImplementedError")):
        return ""
    path, line, _name = frames[-1]
    test = _platform_guard(path, line)
    return f" (under `{test}`: the module is for another platform)" if test else ""


_CANNOT_IMPORT_NAME = re.compile(r"cannot import name '([^']+)'")


def _named_for_another_platform(missing: str) -> str:
    """The hint when what is missing is a private extension module whose name says it is built
    for another platform (``_psutil_aix`` on Linux); "" when its name says nothing of the kind."""
    last = missing.rsplit(".", 1)[-1]
    if not last.startswith("_"):
        return ""  # a public module: a missing dependency, whatever its name
    for word in last.lower().split("_"):
        prefixes = PLATFORM_WORDS.get(word)
        if prefixes and not sys.platform.startswith(prefixes):
            return (f" ({missing!r} is the compiled part for {word}, which this platform does "
                    f"not build: the module is for another platform)")
    return ""


def _platform_guard(path: str, line: int) -> str | None:
    """The platform test an ``assert`` or ``raise`` at ``line`` of ``path`` checks."""
    from premerge.parsed import PARSE_ERRORS, parse_source
    from premerge.sources import SourceError

    try:
        tree = parse_source(path).tree
    except (SourceError, *PARSE_ERRORS):
        return None
    tests: list[ast.expr] = []
    body: list[ast.stmt] = tree.body
    while True:
        stmt = next((s for s in body if s.lineno <= line <= (s.end_lineno or s.lineno)), None)
        if stmt is None:
            return None
        if isinstance(stmt, ast.Assert):
            tests.append(stmt.test)
            break
        if isinstance(stmt, ast.Raise):
            break
        if isinstance(stmt, ast.If):
            tests.append(stmt.test)
            in_body = stmt.body and stmt.body[0].lineno <= line <= (
                stmt.body[-1].end_lineno or stmt.body[-1].lineno)
            body = stmt.body if in_body else stmt.orelse
            continue
        return None  # a call, an import...: not a deliberate refusal
    for test in reversed(tests):
        text = ast.unparse(test)
        if any(marker in text for marker in _PLATFORM_TESTS):
            return text
    return None


_FAULT_FRAME = re.compile(r'^\s*File "(.+)", line (\d+) in (.+)$')


def _fault_frames(text: str, ctx: Context) -> list[tuple[str, int, str]]:
    """Repository frames of the *first* thread in a faulthandler dump, outermost first."""
    frames: list[tuple[str, int, str]] = []
    started = False
    for raw in text.splitlines():
        if raw.startswith(("Thread ", "Current thread ", "Stack (most recent")):
            if started:
                break
            started = True
            continue
        match = _FAULT_FRAME.match(raw)
        if match and ctx.inside(match.group(1)):
            frames.append((ctx.module_path(match.group(1)), int(match.group(2)),
                           match.group(3).strip()))
    frames.reverse()  # faulthandler prints the most recent call first
    return frames


def _timeout(outcome: Outcome, ctx: Context) -> Classified:
    module = outcome.module
    frames = _fault_frames(outcome.fault, ctx)
    line, related = _place(module, frames)
    where = ""
    if frames:
        path, frame_line, _ = frames[-1]
        where = f" (at {relative_to(path, ctx.root)}:{frame_line})"
    return Classified(m.ImportTimeout.at(module.path, line, module=module.name, related=related,
                                         seconds=ctx.timeout, where=where), _origin(frames))


def _crash(outcome: Outcome, ctx: Context) -> Classified:
    module = outcome.module
    frames = _fault_frames(outcome.fault, ctx)
    line, related = _place(module, frames)
    if outcome.exit_signal:
        try:
            name = signal.Signals(outcome.exit_signal).name
        except ValueError:
            name = f"signal {outcome.exit_signal}"
        reason = f"killed by {name}"
        if name == "SIGXFSZ":
            reason += " (it wrote more than the file-size limit)"
        elif name == "SIGKILL":
            reason += " (out of memory?)"
    elif outcome.exit_code not in (None, 0):
        reason = f"the process exited with status {outcome.exit_code} (os._exit() at import?)"
    else:
        reason = "the process ended without reporting a result (os._exit(0) at import?)"
    last = _last_line(outcome.stderr)
    if last and "Fatal Python error" not in last:
        reason += f"; last output: {last}"
    return Classified(m.ImportCrash.at(module.path, line, module=module.name, related=related,
                                       reason=reason), _origin(frames))


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if not lines:
        return ""
    last = lines[-1]
    return last if len(last) <= 200 else last[:200] + "..."


def fold(classified: list[Classified], tested: dict[str, str]) -> list[Finding]:
    """Fold failures that originate in another tested module into that module's finding.

    ``tested`` maps the path of every module imported in this run to its dotted name.
    """
    own: dict[tuple[str, str], int] = {}
    out: list[Finding] = []
    for item in classified:
        finding = item.finding
        if item.origin == finding.path:
            own[(finding.path, finding.code)] = len(out)
        out.append(finding)
    keep: list[Finding | None] = list(out)
    for index, item in enumerate(classified):
        finding = item.finding
        origin = item.origin
        if (origin is None or origin == finding.path or origin not in tested
                or not RULES[finding.code].folds_into_origin):
            continue
        target = own.get((origin, finding.code))
        if target is None or keep[target] is None:
            continue
        owner = keep[target]
        assert owner is not None
        also = Location(finding.path, finding.line, finding.col,
                        message=ALSO_STOPS.format(module=finding.module))
        keep[target] = owner.with_changes(related=(*owner.related, also))
        keep[index] = None
    return [f for f in keep if f is not None]
