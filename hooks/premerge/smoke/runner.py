"""The parent side of the smoke test: interpreter, warm parent, scheduling, timeouts.

premerge talks to ``child.py`` running under the *project's* interpreter.  In the fast mode
that process is a warm parent (``child.py serve``): it preloads the stdlib and third-party
modules the project imports, then forks one child per module on request; JSON lines travel
over its stdin/stdout.  Where it cannot run (no ``fork``, Python older than 3.9, it died) every
module gets its own fresh ``child.py run`` process instead -- slower, same classification.

Safety is decided here: the environment every imported line of code sees is filtered when the
warm parent *starts* (fork inherits it), HOME and TMPDIR are temporary, and a module that runs
past its timeout has its whole process group killed.  premerge itself is non-dumpable and a
child subreaper for the run (:func:`guard_process`); no import is its direct child (the warm
parent, or a fresh child's supervisor, stands between), an import that kills or stops that
parent is reported, and whatever the run leaves behind is reaped (:func:`kill_strays`).
"""

from __future__ import annotations

import json
import os
import queue
import re
import selectors
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from premerge.config import DEFAULT_SMOKE_ENV
from premerge.imports.discovery import ProjectModule
from premerge.imports.interpreter import Interpreter
from premerge.records import Record
from premerge.smoke.child import kill_group, kill_orphans
from premerge.smoke.writes import Snapshot, private_base

CHILD = str(Path(__file__).with_name("child.py"))
#: Python versions: the child runs on MIN_CHILD+, the warm (fork) mode needs MIN_WARM+.
MIN_CHILD = (3, 7)
MIN_WARM = (3, 9)
#: Default address-space limit per child (PREMERGE_SMOKE_MEMORY_MB overrides; 0 disables).
DEFAULT_MEMORY_MB = 4096
#: Files a child may write are capped (its stdout/stderr captures included).
FILE_SIZE_LIMIT = 64 * 1024 * 1024
OUTPUT_TAIL = 4000
FAULT_TAIL = 20000
#: bytes of each capture the warm parent sends back (None: all of it)
TAILS = {"stdout": OUTPUT_TAIL, "stderr": OUTPUT_TAIL, "fault": FAULT_TAIL, "result": None}
#: seconds between asking a timed-out child for its traceback and killing its process group
TRACEBACK_GRACE = 0.3
#: seconds the warm parent has to report a child it was told to kill before it is given up
UNRESPONSIVE = 5.0

#: Environment variables that never reach imported code unless named exactly in smoke.env.
_SECRET = re.compile(r"(TOKEN|SECRET|_KEY$|^KEY$|PASSWORD|PASSWD|CREDENTIAL|^AWS_|^ACTIONS_|"
                     r"^GITHUB_TOKEN$|_AUTH$|^AUTH)", re.IGNORECASE)


class InterpreterProblem(Exception):
    """The chosen interpreter cannot run the child at all (a PM315 finding)."""


def child_environment(extra: Iterable[str], home: str, tmpdir: str) -> dict[str, str]:
    """The allowlisted environment: built-ins plus smoke.env; secrets only when named exactly."""
    allowed = list(DEFAULT_SMOKE_ENV)
    exact = set()
    globs = []
    for item in extra:
        if any(ch in item for ch in "*?["):
            globs.append(item)
        else:
            exact.add(item)
    env: dict[str, str] = {}
    import fnmatch  # noqa: PLC0415

    for key, value in os.environ.items():
        if key in exact:
            env[key] = value
        elif _SECRET.search(key):
            continue
        elif key in allowed or key.startswith("LC_") or any(fnmatch.fnmatchcase(key, g)
                                                              for g in globs):
            env[key] = value
    real_home = os.path.expanduser("~")
    env["HOME"] = real_home  # for site's user directory; child.py swaps it before any import
    env["PREMERGE_SMOKE_HOME"] = home
    env["TMPDIR"] = tmpdir
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.pop("PYTHONSTARTUP", None)
    env.pop("PYTHONINSPECT", None)
    return env


class Settings(Record):
    __slots__ = _fields = ("interpreter", "root", "timeout", "jobs", "env", "workdir", "memory",
                           "progress", "warm", "source_roots", "snapshot")

    def __init__(self, interpreter: Interpreter, root: str, timeout: float, jobs: int,
                 env: dict[str, str], workdir: str, memory: int,
                 progress: Callable[[int, int, str, bool], None] | None = None,
                 warm: bool = True, source_roots: Sequence[str] = (),
                 snapshot: Snapshot | None = None) -> None:
        self.interpreter = interpreter
        self.root = root
        self.timeout = timeout
        self.jobs = jobs
        self.env = env
        self.workdir = workdir
        self.memory = memory  # bytes; 0 = no limit
        self.progress = progress
        self.warm = warm
        #: absolute directories appended to every child's sys.path (``smoke.source_roots``)
        self.source_roots = tuple(source_roots)
        #: the private copy imports run in (None: in ``root`` itself)
        self.snapshot = snapshot

    def inside(self, path: str) -> str:
        """Where the imports see a path of the user's tree."""
        return self.snapshot.inside(path) if self.snapshot is not None else path

    def outside(self, value: Any) -> Any:
        """``value`` (a child's result, text) with snapshot paths mapped back to the user's
        files, so findings name the files the user has."""
        snapshot = self.snapshot
        if snapshot is None:
            return value
        if isinstance(value, str):
            return snapshot.outside(value)
        if isinstance(value, list):
            return [self.outside(item) for item in value]
        if isinstance(value, dict):
            return {key: self.outside(item) for key, item in value.items()}
        return value


class Outcome(Record):
    """What happened to one module's import."""

    _fields = ("module", "result", "exit_code", "exit_signal", "timed_out", "files", "captured",
               "started", "ended", "mode", "attack")
    #: ``_tails`` caches the capture files' tails :meth:`_read` has read (no part of equality)
    __slots__ = (*_fields, "_tails")

    def __init__(self, module: ProjectModule, result: dict[str, Any] | None = None,
                 exit_code: int | None = None, exit_signal: int | None = None,
                 timed_out: bool = False, files: dict[str, str] | None = None,
                 captured: dict[str, list[Any]] | None = None, started: int = 0,
                 ended: int = 0, mode: str = "warm", attack: str | None = None) -> None:
        self.module = module
        self.result = result
        self.exit_code = exit_code
        self.exit_signal = exit_signal
        self.timed_out = timed_out
        #: stdout/stderr/fault capture paths
        self.files: dict[str, str] = {} if files is None else files
        #: or what the warm parent read from in-memory captures: key -> [size, tail text]
        self.captured: dict[str, list[Any]] = {} if captured is None else captured
        self.started = started  # time.time_ns()
        self.ended = ended
        self.mode = mode
        #: what the import did to the process that ran it ("killed ... (SIGKILL)"), or None
        self.attack = attack
        self._tails: dict[str, str] | None = None

    def _read(self, key: str, limit: int = OUTPUT_TAIL) -> str:
        if key in self.captured:
            size, text = self.captured[key]
            text = str(text)[-limit:]
            return ("..." + text) if int(size) > limit else text
        cache = self._tails
        if cache is None:
            cache = self._tails = {}
        if key not in cache:
            cache[key] = _tail(self.files[key], limit) if key in self.files else ""
        return str(cache[key])

    @property
    def stdout(self) -> str:
        return self._read("stdout")

    @property
    def stderr(self) -> str:
        return self._read("stderr")

    @property
    def fault(self) -> str:
        return self._read("fault", FAULT_TAIL)

    @property
    def failed(self) -> bool:
        """The import failed, or its runtime global check found a missing name."""
        return self.status != "ok" or bool((self.result or {}).get("globals"))

    @property
    def status(self) -> str:
        if self.timed_out:
            return "timeout"
        if self.result is None:
            return "crash"
        return str(self.result.get("status", "internal"))


class _Job(Record):
    __slots__ = _fields = ("ident", "module", "spec", "mode", "deadline", "pid", "proc",
                           "timed_out", "started", "kill_at", "attack", "killed")

    def __init__(self, ident: int, module: ProjectModule, spec: dict[str, Any], mode: str,
                 deadline: float = 0.0, pid: int | None = None,
                 proc: subprocess.Popen[bytes] | None = None, timed_out: bool = False,
                 started: int = 0, kill_at: float = 0.0, attack: str | None = None,
                 killed: bool = False) -> None:
        self.ident = ident
        self.module = module
        self.spec = spec
        self.mode = mode
        self.deadline = deadline
        self.pid = pid
        self.proc = proc
        self.timed_out = timed_out
        self.started = started
        #: after a timeout: SIGUSR1 sent (traceback), SIGKILL at this time
        self.kill_at = kill_at
        #: fresh mode: what the import did to its supervisor (see :class:`Outcome`)
        self.attack = attack
        self.killed = killed  # SIGKILL sent after its timeout


class _Batch(Record):
    """One :meth:`Runner.run`: the jobs still to start, the outcomes so far, the modules'
    order (a retried job takes its original's place) and the selector on the warm parent."""

    __slots__ = _fields = ("pending", "order", "selector", "done", "total", "finished")

    def __init__(self, pending: deque[_Job], order: list[int],
                 selector: selectors.BaseSelector, done: dict[int, Outcome] | None = None,
                 total: int | None = None, finished: int = 0) -> None:
        self.pending = pending
        self.order = order
        self.selector = selector
        self.done: dict[int, Outcome] = {} if done is None else done
        self.total = len(order) if total is None else total
        self.finished = finished


#: an ended import: its job, its exit status, the warm parent's in-memory captures (or None)
_Exit = tuple[_Job, dict[str, Any], "dict[str, Any] | None"]


class _Server:
    """The warm parent: one ``child.py serve`` process of the project's interpreter."""

    def __init__(self, settings: Settings, label: str = "server") -> None:
        self.settings = settings
        self.stderr_path = os.path.join(settings.workdir, f"{label}.err")
        self.proc: subprocess.Popen[bytes] | None = None
        self.buffer = b""
        self.unread: list[dict[str, Any]] = []  # read past what :meth:`read` waited for
        self.hello: dict[str, Any] = {}
        #: its end of the protocol pipe closed (it exited, or was killed)
        self.ended = False
        #: the module the last :meth:`preload` was importing when it went unanswered, or None
        self.preloading: str | None = None
        #: from the first :meth:`prefetch` until the preload's answer, messages are written by
        #: a thread: the parent may be busy (or stuck) importing, and premerge must never
        #: block on a full pipe before it reads -- the preload's per-import timeout needs that
        self._outbox: queue.SimpleQueue[dict[str, Any] | None] | None = None
        self._writer: threading.Thread | None = None

    def spawn(self) -> None:
        """Start the process; :meth:`start` waits for its hello (overlap the two)."""
        with open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(
                [self.settings.interpreter.path, "-B", CHILD, "serve"], stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, stderr=err, env=self.settings.env,
                cwd=self.settings.workdir, start_new_session=True)
        _register(self.proc)

    def start(self, wait: float = 30.0) -> dict[str, Any]:
        if self.proc is None:
            try:
                self.spawn()
            except OSError as exc:
                raise InterpreterProblem(f"{self.settings.interpreter.path} cannot be "
                                         f"started: {exc}") from None
        messages = self.read(wait, until="hello")
        if not messages:
            self.close()
            raise InterpreterProblem(self._why_dead())
        self.hello = messages[-1]
        return self.hello

    def _why_dead(self) -> str:
        try:
            text = Path(self.stderr_path).read_text(errors="replace").strip()
        except OSError:
            text = ""
        last = text.splitlines()[-1] if text else "it exited without a word"
        return f"{self.settings.interpreter.path} cannot run the smoke child: {last}"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    @property
    def fd(self) -> int:
        assert self.proc is not None and self.proc.stdout is not None
        return self.proc.stdout.fileno()

    def send(self, message: dict[str, Any]) -> bool:
        """Write one message (queued for the writer thread while there is one)."""
        if self._outbox is not None:
            self._outbox.put(message)
            return True
        return self._write(message)

    def _write(self, message: dict[str, Any]) -> bool:
        assert self.proc is not None and self.proc.stdin is not None
        try:
            self.proc.stdin.write((json.dumps(message) + "\n").encode())
            self.proc.stdin.flush()
            return True
        except (BrokenPipeError, OSError, ValueError):  # ValueError: closed meanwhile
            return False

    def _write_outbox(self) -> None:
        outbox = self._outbox
        assert outbox is not None
        while True:
            message = outbox.get()
            if message is None or not self._write(message):
                return

    def _settle_writer(self, wait: float) -> bool:
        """Back to writing in the caller's thread; False when the writer is still blocked
        after ``wait`` seconds (the parent reads nothing: it is stuck)."""
        if self._writer is None:
            return True
        assert self._outbox is not None
        self._outbox.put(None)
        self._writer.join(wait)
        if self._writer.is_alive():
            return False
        self._writer = self._outbox = None
        return True

    def read_available(self) -> list[dict[str, Any]] | None:
        """Messages that can be read now without blocking; None at EOF."""
        try:
            data = os.read(self.fd, 65536)
        except (BlockingIOError, InterruptedError):
            return []
        if not data:
            return None
        self.buffer += data
        lines = self.buffer.split(b"\n")
        self.buffer = lines.pop()
        out = []
        for line in lines:
            if line.strip():
                try:
                    out.append(json.loads(line))
                except ValueError:
                    continue
        return out

    def read(self, wait: float, until: str,
             restart: Callable[[dict[str, Any]], float | None] | None = None
             ) -> list[dict[str, Any]]:
        """Messages up to and including the first with ``op == until`` (or [] on timeout/EOF;
        EOF sets :attr:`ended`); the ones read after it wait for the next call (the
        announcements of a :meth:`prefetch` can follow the hello).  ``restart`` maps a
        message to the seconds the wait starts over with from its arrival (None: the
        deadline stays)."""
        deadline = time.monotonic() + wait
        collected: list[dict[str, Any]] = []
        messages, self.unread = self.unread, []
        with selectors.DefaultSelector() as selector:
            selector.register(self.fd, selectors.EVENT_READ)
            while True:
                for index, message in enumerate(messages):
                    collected.append(message)
                    if message.get("op") == until:
                        self.unread = messages[index + 1:]
                        return collected
                    seconds = restart(message) if restart is not None else None
                    if seconds is not None:
                        deadline = time.monotonic() + seconds
                left = deadline - time.monotonic()
                if left <= 0 or not selector.select(left):
                    return []
                available = self.read_available()
                if available is None:
                    self.ended = True
                    return []
                messages = available

    def preload(self, names: Sequence[str], wait: float, compile_paths: Sequence[str] = (),
                attributes: Mapping[str, Sequence[str]] | None = None,
                allow_threads: bool = False,
                warm: Mapping[str, Sequence[str]] | None = None, each: float | None = None
                ) -> dict[str, Any] | None:
        """The warm parent's ``preloaded`` reply, or None.  It announces each module before
        importing it (and each class before subclassing it, ``warm``): with ``each``, one
        step may take that long (the run's timeout, as an import in a child), the rest
        (compiling, checks) ``wait`` seconds.  Unanswered in a step, :attr:`preloading`
        names that step's module (or class).  The announcements of a :meth:`prefetch` wait
        in the pipe: read now, each starts its step's clock again (a blocked early import
        is abandoned no sooner than it would have been here)."""
        self.preloading = None
        if not self.send({**self._preload_message(names, compile_paths, allow_threads),
                          "attributes": {k: list(v) for k, v in (attributes or {}).items()
                                         if k in names},
                          "subclass": {k: list(v) for k, v in (warm or {}).items()
                                       if k in names}}):
            return None

        def step(message: dict[str, Any]) -> float | None:
            if message.get("op") != "preloading":
                return None
            name = message.get("name")
            self.preloading = name if isinstance(name, str) else None
            return wait if self.preloading is None or each is None else each

        messages = self.read(wait, until="preloaded", restart=step)
        if not messages:
            return None
        self._settle_writer(wait)  # answered: it read every message before the last
        return messages[-1]

    def prefetch(self, names: Sequence[str], compile_paths: Sequence[str] = (),
                 attributes: Mapping[str, Sequence[str]] | None = None,
                 allow_threads: bool = False) -> bool:
        """Start importing (and compiling) these before :meth:`preload`, which names them
        again and gets the answer for all; nothing is read back now."""
        if self._writer is None:
            self._outbox = queue.SimpleQueue()
            self._writer = threading.Thread(target=self._write_outbox, daemon=True,
                                            name="premerge-preload-writer")
            self._writer.start()
        return self.send({**self._preload_message(names, compile_paths, allow_threads),
                          "attributes": {k: list(v) for k, v in (attributes or {}).items()},
                          "more": True})

    def _preload_message(self, names: Sequence[str], compile_paths: Sequence[str],
                         allow_threads: bool) -> dict[str, Any]:
        return {"op": "preload", "modules": list(names),
                "repo": self.settings.inside(self.settings.root), "origin": self.settings.root,
                "compile": [self.settings.inside(p) for p in compile_paths],
                "allow_threads": allow_threads}

    def _drain(self, wait: float) -> None:
        """Read until the warm parent's end of the pipe closes -- it has exited then -- so the
        wait that follows returns at once instead of polling with sleeps."""
        deadline = time.monotonic() + wait
        try:
            with selectors.DefaultSelector() as selector:
                selector.register(self.fd, selectors.EVENT_READ)
                while True:
                    left = deadline - time.monotonic()
                    if left <= 0 or not selector.select(left):
                        return
                    if not os.read(self.fd, 65536):
                        return
        except (OSError, ValueError):
            return

    def close(self, kill: bool = False) -> None:
        """End the warm parent: politely (EOF on its stdin), or at once with ``kill`` (one
        that was spawned but never used)."""
        if self.proc is None:
            return
        if not self._settle_writer(0 if kill else 5.0):
            kill = True  # a writer still blocked: the parent reads nothing any more
        if kill:
            kill_group(self.proc.pid)
        try:
            if self.proc.stdin:
                self.proc.stdin.close()
        except OSError:
            pass
        if not kill:
            self._drain(5.0)
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            kill_group(self.proc.pid)
            self.proc.wait()
        if self.proc.stdout:
            self.proc.stdout.close()
        self.proc = None


_PR_SET_DUMPABLE = 4  # linux/prctl.h
_PR_SET_CHILD_SUBREAPER = 36


def guard_process() -> bool:
    """Linux, for the whole smoke run: premerge becomes non-dumpable (other processes of the
    user, imported code included, can no longer read its ``/proc/<pid>/environ`` or open its
    ``fd/0`` and ``fd/1``) and a child subreaper (what an import leaves running is re-parented
    to premerge, not to init, once the process between them is gone, and
    :func:`kill_strays` ends it).  True when premerge is a subreaper."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes  # noqa: PLC0415 - Linux only, smoke only

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)
        return bool(libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0)
    except Exception:  # noqa: BLE001 - no ctypes or no prctl: the process-group kills remain
        return False


def _stat(pid: int) -> tuple[str, int] | None:
    """(state letter, session id) of a process from ``/proc/<pid>/stat``, or None."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            data = handle.read(4096)
    except OSError:
        return None
    fields = data[data.rfind(b")") + 2:].split()
    try:
        return fields[0].decode(), int(fields[3])
    except (IndexError, ValueError):
        return None


def is_stopped(pid: int) -> bool:
    """Linux: the process is stopped (SIGSTOP, SIGTSTP) or stopped under a tracer."""
    stat = _stat(pid)
    return stat is not None and stat[0] in ("T", "t")


#: every warm parent and fresh supervisor premerge started (any runner, any thread)
_STARTED: list[subprocess.Popen[bytes]] = []
_STARTED_LOCK = threading.Lock()


def _register(proc: subprocess.Popen[bytes]) -> None:
    with _STARTED_LOCK:
        _STARTED.append(proc)


def started() -> list[int]:
    """PIDs of the processes premerge started itself and has not reaped: never strays, even
    one a second runner is still starting in another thread."""
    with _STARTED_LOCK:
        _STARTED[:] = [proc for proc in _STARTED if proc.returncode is None]
        return [proc.pid for proc in _STARTED]


def kill_strays(keep: Iterable[int] = ()) -> int:
    """Kill and reap every child of premerge that the smoke run left behind: a process in a
    session other than premerge's (smoke's processes all start new sessions; premerge's own
    git calls stay in its session) and not in ``keep``.  As a subreaper premerge inherits
    them when their parent dies; :func:`~premerge.smoke.child.kill_orphans` repeats the kill
    for the children each killed one hands over."""
    if not os.path.isdir("/proc/self/task"):
        return 0  # not Linux: no subreaper either, the process-group kills remain
    own = os.getsid(0)

    def in_other_session(pid: int) -> bool:
        stat = _stat(pid)
        return stat is not None and stat[1] != own

    return int(kill_orphans(keep, stray=in_other_session))


def _tail_of(path: str, limit: int = OUTPUT_TAIL) -> tuple[int, str]:
    """(size, text of the last ``limit`` bytes) of a capture file; (0, "") when absent."""
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - limit))
            data = handle.read()
    except OSError:
        return 0, ""
    return size, data.decode("utf-8", errors="replace")


def _tail(path: str, limit: int = OUTPUT_TAIL) -> str:
    size, text = _tail_of(path, limit)
    return ("..." + text) if size > limit else text


class Runner:
    """Imports modules, each first in its own process, ``jobs`` at a time."""

    def __init__(self, settings: Settings, threads_tier: bool = False) -> None:
        self.settings = settings
        #: the second warm tier: its warm parent also holds third-party modules that start
        #: threads at import (litellm); see :meth:`_retry_fresh`
        self.threads_tier = threads_tier
        #: preloads refused because they start threads (the second tier's to hold)
        self.thread_starters: list[str] = []
        #: other runners of the same run (the threads tier), terminated with this one
        self.companions: list[Runner] = []
        #: a warm parent refused only because preloads started threads: it holds everything,
        #: so the threads tier adopts it instead of importing those packages again
        self.spare: _Server | None = None
        self.server: _Server | None = None
        self.notes: list[str] = []
        #: how the run was made fast, which the user cannot act on: printed by ``--verbose``
        self.details: list[str] = []
        self.version: tuple[int, ...] = ()
        self.executable = settings.interpreter.path
        self.preloaded = 0
        self._ids = iter(range(1 << 28, 1 << 30) if threads_tier else range(1, 1 << 28))
        self._spawned: _Server | None = None
        self._attributes: dict[str, Sequence[str]] = {}
        self._warm: dict[str, list[str]] = {}
        #: the warm parent :meth:`prefetch` sent sources to compile, and those sources
        self._prefetched_by: _Server | None = None
        self._prefetched_sources: set[str] = set()
        self._one_at_a_time = False
        #: imports running now, by job id (read by :meth:`terminate` from a signal handler)
        self._running: dict[int, _Job] = {}
        self.subreaper = False
        self._handlers: dict[int, Any] = {}

    def _new_server(self) -> _Server:
        return _Server(self.settings, "server-threads" if self.threads_tier else "server")

    def spawn(self) -> None:
        """Start the warm parent's process early (its interpreter boots while premerge reads
        the sources); :meth:`start` picks it up."""
        if not self.settings.warm:
            return
        server = self._new_server()
        try:
            server.spawn()
        except OSError:
            return  # start() will say what is wrong
        self._spawned = server

    def prefetch(self, names: Sequence[str], compile_paths: Sequence[str] = (),
                 attributes: Mapping[str, Sequence[str]] | None = None) -> None:
        """Hand the warm parent, still booting, modules to import (and names to take from
        them) and sources to compile while premerge reads the rest of the sources (see
        ``execute.Prefetch``); :meth:`start` then sends the whole preload list and only the
        sources not sent yet."""
        server = self._spawned
        if server is None or not (names or compile_paths or attributes):
            return
        if server.prefetch(names, compile_paths, attributes, allow_threads=self.threads_tier):
            self._prefetched_by = server
            self._prefetched_sources.update(compile_paths)

    # -- setup --------------------------------------------------------------------------------
    def start(self, preload: Sequence[str], compile_paths: Sequence[str] = (),
              attributes: Mapping[str, Sequence[str]] | None = None,
              warm: Mapping[str, Sequence[str]] | None = None) -> None:
        """Start the warm parent and preload (``attributes``: names imported from each
        preloaded module, see ``child.preload``; ``warm``: classes of them the project
        subclasses, see ``child.warm_subclasses``); on any problem fall back to fresh
        processes."""
        self._attributes = dict(attributes or {})
        self._warm = {k: list(v) for k, v in (warm or {}).items()}
        if not self.settings.warm:
            self._probe()
            return
        server = self._spawned or self._new_server()
        self._spawned = None
        try:
            hello = server.start()
        except InterpreterProblem:
            self._probe()  # raises when even a fresh child cannot run
            return
        self.version = tuple(hello.get("version", ()))
        self.executable = hello.get("executable") or self.executable
        reason = None
        if tuple(self.version[:2]) < MIN_WARM:
            reason = (f"Python {'.'.join(map(str, self.version))} is older than "
                      f"{MIN_WARM[0]}.{MIN_WARM[1]}")
        elif not hello.get("fork"):
            reason = "the interpreter has no fork()"
        if reason:
            server.close()
            self.notes.append(f"smoke: one process per module ({reason})")
            return
        self.server = server
        self._preload(list(preload), list(compile_paths))

    def _preload(self, names: list[str], compile_paths: list[str]) -> None:
        """Preload, restarting the warm parent without modules that touch first-party code."""
        wait = max(self.settings.timeout * 3, 60.0)
        for _attempt in range(3):
            if self.server is None:
                return
            if not names and not compile_paths:
                return
            compiling = compile_paths if self.server is not self._prefetched_by else \
                [p for p in compile_paths if p not in self._prefetched_sources]
            reply = self.server.preload(names, wait, compiling, self._attributes,
                                        allow_threads=self.threads_tier, warm=self._warm,
                                        each=self.settings.timeout)
            if reply is None and self.server.preloading is not None and \
                    not self.server.ended:
                self._abandon_preload(self.server.preloading)
                return
            if reply is None:
                self.notes.append("smoke: preloading third-party modules failed or hung; "
                                  "the warm parent holds only the standard library")
                self._restart()
                return
            tainted = reply.get("tainted") or {}
            unwarmed = reply.get("unwarmed") or {}
            self.preloaded = len(reply.get("ok", []))
            if not tainted and not unwarmed:
                return
            for dotted, why in sorted(unwarmed.items()):
                module, _, attr = dotted.rpartition(".")
                self._warm[module] = [a for a in self._warm.get(module, ()) if a != attr]
                self.details.append(f"smoke: {dotted} not subclassed in the warm parent "
                                    f"({why})")
            for name, why in sorted(tainted.items()):
                if why.startswith("starts a thread"):
                    self.thread_starters.append(name)
                self.notes.append(f"smoke: not preloaded: {name} ({why})")
            names = [n for n in reply.get("ok", []) if n not in tainted]
            if self.spare is None and not self.threads_tier and tainted and not unwarmed \
                    and all(why.startswith("starts a thread") for why in tainted.values()):
                self.spare, self.server = self.server, None  # no first-party code in it
            self._restart()
        self._restart()
        if self.server is not None and compile_paths:
            self.server.preload([], wait, compile_paths)

    def _abandon_preload(self, name: str) -> None:
        """A third-party import blocked the warm parent's preload past the run's timeout:
        kill that parent and all it started, and import every module in a process of its
        own, where the imports that need ``name`` time out and are reported (PM309)."""
        assert self.server is not None
        self.notes.append(f"smoke: preloading {name} did not finish within "
                          f"{self.settings.timeout:g} s; the warm parent was killed and every "
                          "module ran in its own process")
        self.server.close(kill=True)
        self.server = None
        kill_strays(started())

    def _restart(self) -> None:
        if self.server is not None:
            self.server.close()
        server = self._new_server()
        try:
            server.start()
            self.server = server
        except InterpreterProblem:
            self.server = None
            self.notes.append("smoke: the warm parent could not be restarted; one process per "
                              "module")

    def _probe(self) -> None:
        """Check that a fresh ``child.py hello`` runs at all (else PM315)."""
        try:
            proc = subprocess.run([self.settings.interpreter.path, "-B", CHILD, "hello"],
                                  capture_output=True, env=self.settings.env, timeout=60,
                                  stdin=subprocess.DEVNULL, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise InterpreterProblem(f"{self.settings.interpreter.path} cannot be started: "
                                     f"{exc}") from None
        try:
            hello = json.loads(proc.stdout.decode().strip().splitlines()[-1])
        except (ValueError, IndexError):
            err = proc.stderr.decode(errors="replace").strip().splitlines()
            version = _bare_version(self.settings.interpreter.path)
            why = (f"it is Python {version}; the smoke child needs "
                   f"{MIN_CHILD[0]}.{MIN_CHILD[1]} or newer" if version
                   else err[-1] if err else "no answer")
            raise InterpreterProblem(f"{self.settings.interpreter.path} cannot run the smoke "
                                     f"child: {why}") from None
        self.version = tuple(hello.get("version", ()))
        self.executable = hello.get("executable") or self.executable
        if tuple(self.version[:2]) < MIN_CHILD:
            raise InterpreterProblem(f"{self.settings.interpreter.path} is Python "
                                     f"{'.'.join(map(str, self.version))}; the smoke child "
                                     f"needs {MIN_CHILD[0]}.{MIN_CHILD[1]} or newer")

    def adopt(self, server: _Server) -> None:
        """Use a warm parent another runner preloaded (its :attr:`spare`)."""
        self.server = server
        self.version = tuple(server.hello.get("version", ()))
        self.executable = server.hello.get("executable") or self.executable

    def take_spare(self) -> _Server | None:
        spare, self.spare = self.spare, None
        return spare

    def close(self) -> None:
        if self.spare is not None:
            self.spare.send({"op": "exit"})
            self.spare.close()
            self.spare = None
        if self._spawned is not None:
            self._spawned.close(kill=True)
            self._spawned = None
        if self.server is not None:
            self.server.send({"op": "exit"})
            self.server.close()
            self.server = None
        if self.subreaper:
            kill_strays(started())

    def guard(self) -> None:
        """For the run: premerge non-dumpable and a subreaper (:func:`guard_process`), and
        SIGTERM/SIGINT (a cancelled CI job, Ctrl-C) kill everything the run started before
        premerge exits (143 / 130).  :meth:`unguard` restores the handlers."""
        self.subreaper = guard_process()
        if threading.current_thread() is not threading.main_thread():
            return

        def stop(signum: int, _frame: Any) -> None:
            self.terminate()
            if signum == signal.SIGINT:
                raise KeyboardInterrupt
            raise SystemExit(128 + signum)

        for number in (signal.SIGTERM, signal.SIGINT):
            try:
                self._handlers[number] = signal.signal(number, stop)
            except (OSError, ValueError):
                continue

    def unguard(self) -> None:
        for number, handler in self._handlers.items():
            try:
                signal.signal(number, handler)
            except (OSError, ValueError, TypeError):
                pass
        self._handlers.clear()

    # -- running ------------------------------------------------------------------------------
    def spec_for(self, module: ProjectModule, ident: int, check_globals: bool = True
                 ) -> dict[str, Any]:
        base = os.path.join(self.settings.workdir, f"m{ident}")
        tmpdir = os.path.join(self.settings.workdir, "tmp")
        inside = self.settings.inside
        return {
            "id": ident, "name": module.name, "path": inside(module.path), "kind": module.kind,
            "import_root": inside(module.import_root), "cwd": inside(module.import_root),
            "repo": inside(self.settings.root), "origin": self.settings.root,
            "result": base + ".json", "stdout": base + ".out",
            "stderr": base + ".err", "fault": base + ".fault", "timeout": self.settings.timeout,
            "memory": self.settings.memory, "fsize": FILE_SIZE_LIMIT, "tmpdir": tmpdir,
            "check_globals": check_globals, "extra_path": [inside(p) for p in self.settings.source_roots],
        }

    def run(self, modules: Sequence[ProjectModule], one_at_a_time: bool = False
            ) -> list[Outcome]:
        """Import every module; outcomes in the order of ``modules``.  ``one_at_a_time``: each
        import starts when the one before has ended (modules that delete or rewrite files in
        the snapshot, so that none changes what another one imports)."""
        self._one_at_a_time = one_at_a_time
        batch = self._queue(modules)
        try:
            while batch.pending or self._running:
                self._launch_ready(batch)
                exited = self._gather_exits(batch, self._wait(batch))
                if exited is None:
                    continue  # the warm parent was lost: its imports are queued again, fresh
                self._finish(batch, exited)
                self._enforce_timeouts(batch)
        finally:
            batch.selector.close()
            for job in self._running.values():
                self._kill(job)
            self._running.clear()
        return [batch.done[i] for i in batch.order if i in batch.done]

    def _queue(self, modules: Sequence[ProjectModule]) -> _Batch:
        """One job per module, warm while there is a warm parent; progress starts at zero."""
        pending: deque[_Job] = deque()
        for module in modules:
            ident = next(self._ids)
            pending.append(_Job(ident, module, self.spec_for(module, ident),
                                "warm" if self.server else "fresh"))
        selector = selectors.DefaultSelector()
        if self.server is not None:
            selector.register(self.server.fd, selectors.EVENT_READ)
        batch = _Batch(pending, [job.ident for job in pending], selector)
        if self.settings.progress:
            self.settings.progress(0, batch.total, "", False)
        return batch

    def _launch_ready(self, batch: _Batch) -> None:
        """Start queued imports while :meth:`_may_launch` allows, in queue order."""
        while batch.pending and self._may_launch(batch.pending[0], self._running):
            job = batch.pending.popleft()
            self._launch(job)
            self._running[job.ident] = job

    def _wait(self, batch: _Batch) -> list[Any]:
        """Sleep until the warm parent speaks or the nearest deadline, at most a second; a
        fresh supervisor has no pipe to wake premerge, so with one running, poll every 10 ms."""
        now = time.monotonic()
        deadlines = [j.kill_at if j.timed_out else j.deadline for j in self._running.values()]
        wait = min(max(0.0, min(deadlines) - now), 1.0) if deadlines else 0.05
        if any(j.mode == "fresh" for j in self._running.values()):
            wait = min(wait, 0.01)
        events = batch.selector.select(wait) if self.server is not None else []
        if not events and self.server is None:
            time.sleep(min(wait, 0.01))
        return events

    def _gather_exits(self, batch: _Batch, events: list[Any]) -> list[_Exit] | None:
        """The imports that ended since the last look, warm (from the warm parent's messages)
        and fresh (their supervisors exited).  None when the warm parent was found dead or
        stopped: :meth:`_lose_server` has queued its imports again."""
        exited: list[_Exit] = []
        if not events:
            self._watch_parents(self._running)
            if self.server is not None and is_stopped(self.server.pid):
                self._lose_server(batch, "the warm parent was stopped (SIGSTOP)")
                return None
        if events and self.server is not None:
            messages = self.server.read_available()
            if messages is None:  # the warm parent died: finish in fresh processes
                self._lose_server(batch, "the warm parent exited unexpectedly")
                return None
            self._take_messages(messages, exited)
        self._poll_fresh(exited)
        return exited

    def _take_messages(self, messages: list[dict[str, Any]], exited: list[_Exit]) -> None:
        """Apply the warm parent's reports: ``started`` (a fork; its timeout runs from now)
        and ``exited`` (added to ``exited``).  Reports on jobs no longer running are stale."""
        for message in messages:
            job = self._running.get(message.get("id", -1))
            if job is None:
                continue
            if message.get("op") == "started":
                job.pid = message.get("pid")
                job.started = time.time_ns()  # its timeout runs from the fork
                job.deadline = time.monotonic() + self.settings.timeout
            elif message.get("op") == "exited":
                exited.append((job, message.get("status") or {}, message.get("captured")))

    def _poll_fresh(self, exited: list[_Exit]) -> None:
        """Add the fresh imports whose supervisor exited to ``exited``, and kill what is left
        of each one's process group."""
        for job in list(self._running.values()):
            if job.mode == "fresh" and job.proc is not None:
                code = job.proc.poll()
                if code is not None:
                    kill_group(job.proc.pid)  # leftovers of its process group
                    exited.append((job, self._fresh_status(job, code), None))

    def _finish(self, batch: _Batch, exited: list[_Exit]) -> None:
        """Record each ended import's outcome, or queue it again fresh (:meth:`_retry_fresh`)."""
        if any(job.mode == "fresh" for job, _, _ in exited):
            # a supervisor killed before its import ended leaves that import (and
            # what it started) to premerge, the subreaper
            kill_strays(started())
        for job, status, captured in exited:
            self._running.pop(job.ident, None)
            outcome = self._collect(job, status, captured)
            if self._retry_fresh(job, outcome):
                self._requeue_fresh(batch, job, outcome)
                continue
            batch.done[job.ident] = outcome
            batch.finished += 1
            if self.settings.progress:
                self.settings.progress(batch.finished, batch.total, job.module.name,
                                       outcome.failed)

    def _requeue_fresh(self, batch: _Batch, job: _Job, outcome: Outcome) -> None:
        """Queue a warm import again, first, as a fresh job that takes its place in the order."""
        if outcome.status == "contaminated":
            self.notes.append(f"smoke: {job.module.name}: the warm parent held "
                              "first-party modules; re-imported in a fresh "
                              "process")
        retry = _Job(next(self._ids), job.module, {}, "fresh")
        retry.spec = self.spec_for(job.module, retry.ident)
        batch.order[batch.order.index(job.ident)] = retry.ident
        batch.pending.appendleft(retry)

    def _enforce_timeouts(self, batch: _Batch) -> None:
        """Past its deadline an import is asked for its traceback, TRACEBACK_GRACE seconds
        later its process group is killed; a warm parent that has not reported a killed
        import UNRESPONSIVE seconds later is given up (:meth:`_lose_server`)."""
        now = time.monotonic()
        for job in list(self._running.values()):
            if not job.timed_out and now >= job.deadline:
                job.timed_out = True
                job.kill_at = now + TRACEBACK_GRACE
                self._interrupt(job)
            elif job.timed_out and job.kill_at and now >= job.kill_at:
                if job.killed:  # killed UNRESPONSIVE seconds ago and never reported
                    if job.mode == "warm" and self.server is not None:
                        self._lose_server(batch, "the warm parent stopped answering")
                        return
                    job.kill_at = now + 3600.0
                    continue
                job.killed = True
                job.kill_at = now + UNRESPONSIVE
                self._kill(job)

    def _watch_parents(self, running: Mapping[int, _Job]) -> None:
        """A fresh import that stopped its supervisor (``os.kill(os.getppid(), SIGSTOP)``)
        would hold premerge until its timeout and past it: kill the supervisor now."""
        for job in running.values():
            if job.mode == "fresh" and job.proc is not None and job.attack is None and \
                    is_stopped(job.proc.pid):
                job.attack = "stopped the process that ran it (SIGSTOP)"
                kill_group(job.proc.pid)

    def _lose_server(self, batch: _Batch, why: str) -> None:
        """The warm parent died, was stopped or stopped answering: kill it and everything it
        ran (its children are premerge's now), then finish in fresh processes, where the
        import that did it meets its own supervisor and is reported."""
        server = self.server
        if server is None:
            return
        try:
            batch.selector.unregister(server.fd)
        except (KeyError, ValueError):
            pass
        self.notes.append(f"smoke: {why}; the rest ran one process per module")
        running = self._running
        for job in running.values():
            if job.mode == "warm" and job.pid:
                kill_group(job.pid)
        server.close(kill=True)
        self.server = None
        kill_strays(started())
        for job in list(running.values()):
            if job.mode == "warm":
                del running[job.ident]
                job.mode, job.pid, job.timed_out, job.killed = "fresh", None, False, False
                batch.pending.appendleft(job)

    def _fresh_status(self, job: _Job, code: int) -> dict[str, Any]:
        """The import's exit status, as its supervisor wrote it; a supervisor that died of a
        signal premerge did not send was killed by the import."""
        try:
            with open(job.spec["result"] + ".exit", encoding="utf-8") as handle:
                status = json.load(handle)
            if isinstance(status, dict):
                return status
        except (OSError, ValueError):
            pass
        if code < 0:
            if not job.timed_out and job.attack is None:
                try:
                    name = signal.Signals(-code).name
                except ValueError:
                    name = f"signal {-code}"
                job.attack = f"killed the process that ran it ({name})"
            return {"signal": -code, "code": None}
        return {"signal": None, "code": code}

    def terminate(self) -> None:
        """premerge got SIGTERM or SIGINT: kill every process this run started, now."""
        for other in self.companions:
            other.terminate()
        for job in self._running.values():
            for pid in (job.pid, job.proc.pid if job.proc is not None else None):
                if pid:
                    kill_group(pid)
        for server in (self.server, self._spawned, self.spare):
            if server is not None and server.proc is not None:
                kill_group(server.proc.pid)
                try:
                    server.proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    pass
        kill_strays()

    def _retry_fresh(self, job: _Job, outcome: Outcome) -> bool:
        """Whether a warm child's outcome must be re-done in a fresh process: it found a
        shadowed preload or first-party modules loaded -- or, in the threads tier, it hung or
        crashed: fork copies only the forking thread, so a lock one of the preloaded threads
        held is never released in the child.  What is reported never rests on that."""
        if job.mode != "warm":
            return False
        if outcome.status in ("needs_fresh", "contaminated"):
            return True
        if self.threads_tier and outcome.status in ("timeout", "crash"):
            self.notes.append(f"smoke: {job.module.name}: hung or crashed in the warm parent "
                              "that holds thread-starting modules; re-imported in a fresh "
                              "process")
            return True
        return False

    def _may_launch(self, job: _Job, running: Mapping[int, _Job]) -> bool:
        """At most ``jobs`` imports run at once.  The warm parent enforces that for its own
        children; it is sent up to twice as many requests, so it forks the next child the
        moment one exits instead of waiting for premerge to answer."""
        if job.mode == "warm" and self.server is None:
            job.mode = "fresh"
        if self._one_at_a_time:
            return not running
        jobs = self.settings.jobs
        fresh = sum(1 for j in running.values() if j.mode == "fresh")
        if job.mode == "warm":
            warm = len(running) - fresh
            return warm < (2 * jobs if not fresh else jobs - fresh)
        started_warm = sum(1 for j in running.values() if j.mode == "warm" and j.pid)
        return fresh + min(started_warm, jobs) < jobs

    def _launch(self, job: _Job) -> None:
        job.started = time.time_ns()
        job.deadline = time.monotonic() + self.settings.timeout
        if job.mode == "warm" and self.server is not None:
            job.deadline = float("inf")  # queued in the warm parent until it forks ("started")
            if self.server.send({"op": "run", "id": job.ident, "spec": job.spec,
                                 "slots": self.settings.jobs, "tails": TAILS}):
                return
            job.mode = "fresh"
            job.deadline = time.monotonic() + self.settings.timeout
        spec_path = job.spec["result"] + ".spec"
        with open(spec_path, "w", encoding="utf-8") as handle:
            json.dump(job.spec, handle)
        with open(job.spec["stderr"], "wb") as err:
            job.proc = subprocess.Popen(
                [self.executable, "-B", CHILD, "run", spec_path], stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, stderr=err, env=self.settings.env,
                cwd=self.settings.workdir, start_new_session=True)  # the child chdirs
        _register(job.proc)
        job.pid = job.proc.pid

    def _interrupt(self, job: _Job) -> None:
        """Ask the child for its traceback (faulthandler on SIGUSR1) before killing it."""
        if job.mode == "warm" and self.server is not None:
            self.server.send({"op": "signal", "id": job.ident, "signal": int(signal.SIGUSR1)})
        elif job.proc is not None and job.proc.poll() is None:
            try:
                os.kill(job.proc.pid, signal.SIGUSR1)
            except OSError:
                pass

    def _kill(self, job: _Job) -> None:
        if job.mode == "warm" and self.server is not None:
            self.server.send({"op": "kill", "id": job.ident})
            if job.pid:  # directly too: the warm parent may be stopped or busy
                kill_group(job.pid)
        elif job.proc is not None and job.proc.poll() is None:
            kill_group(job.proc.pid)

    def _collect(self, job: _Job, status: Mapping[str, Any],
                 captured: dict[str, Any] | None = None) -> Outcome:
        """The child's result and output: from the warm parent's in-memory captures when it
        sent them, else from the files the child wrote."""
        spec = job.spec
        result = None
        try:
            if captured is not None:
                text = (captured.get("result") or [0, ""])[1]
                result = json.loads(text) if text else None
            else:
                with open(spec["result"], encoding="utf-8") as handle:
                    result = json.load(handle)
        except (OSError, ValueError, TypeError):
            result = None
        if not isinstance(result, dict):
            result = None
        captured = {k: v for k, v in (captured or {}).items()
                    if k != "result" and isinstance(v, list) and len(v) == 2}
        if self.settings.snapshot is not None:
            result = self.settings.outside(result)
            if not captured:  # fresh: the capture files' tails, read now to map their paths
                captured = {key: list(_tail_of(spec[key], FAULT_TAIL if key == "fault"
                                               else OUTPUT_TAIL))
                            for key in ("stdout", "stderr", "fault")}
            captured = {key: [size, self.settings.outside(text)]
                        for key, (size, text) in captured.items()}
        return Outcome(
            module=job.module, result=result, exit_code=status.get("code"),
            exit_signal=status.get("signal"), timed_out=job.timed_out,
            files={key: spec[key] for key in ("stdout", "stderr", "fault")},
            captured=captured, started=job.started, ended=time.time_ns(), mode=job.mode,
            attack=job.attack)


def _bare_version(python: str) -> str | None:
    """The interpreter's version when it is older than the child supports, else None."""
    code = "import sys; sys.stdout.write('%d.%d.%d' % tuple(sys.version_info[:3]))"
    try:
        proc = subprocess.run([python, "-c", code], capture_output=True, timeout=30,
                              stdin=subprocess.DEVNULL, check=False)
        version = tuple(int(p) for p in proc.stdout.decode().split("."))
    except (OSError, ValueError, subprocess.TimeoutExpired):
        return None
    return ".".join(map(str, version)) if version[:2] < MIN_CHILD else None


def memory_limit() -> int:
    """Bytes of address space a child may use (PREMERGE_SMOKE_MEMORY_MB; 0 = unlimited)."""
    text = os.environ.get("PREMERGE_SMOKE_MEMORY_MB", "")
    try:
        megabytes = int(text) if text.strip() else DEFAULT_MEMORY_MB
    except ValueError:
        megabytes = DEFAULT_MEMORY_MB
    return max(0, megabytes) * 1024 * 1024


def make_workdir() -> str:
    """A private directory outside the repository for results, HOME, TMPDIR and the
    snapshot, where no ``.git`` lies above."""
    workdir = tempfile.mkdtemp(prefix="premerge-smoke-", dir=private_base())
    for sub in ("home", "tmp"):
        os.makedirs(os.path.join(workdir, sub), exist_ok=True)
    return workdir
