"""The project's Python environment, as scope needs it: where its imports resolve.

Scope never runs the checked code, but two answers depend on what the *project's* interpreter
would load, not premerge's own (a pre-commit virtualenv holds only premerge's dependencies):

* PM109 follows what the file's imports load on the way; a third-party import that premerge's
  environment lacks would look as if it loaded nothing (issue 11 item 6);
* ``--fix`` may hoist an import to module level only where it cannot fail: it must resolve in
  the project's environment and not be an optional extra there (item 5).

The search path is the repository (its root and ``src/``), then the standard library premerge
runs with, then, only when a module is not found there, the ``sys.path`` of the interpreter smoke
chooses (``--python`` > ``smoke.python`` > ``$VIRTUAL_ENV`` > ``.venv`` > ``python3``), asked
once per process.  It prints its ``sys.path`` and nothing else runs: it starts isolated and
without ``site`` (``-I -S``), and an interpreter that is a file of the repository is never
started (the repository is hostile; scope runs none of its code).  When that cannot be asked,
the answer is None and callers stay silent (PM109) or import locally (``--fix``).
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable

TYPE_CHECKING = False
if TYPE_CHECKING:
    from premerge.config import Config

#: seconds the project's interpreter gets to print its search path
QUERY_TIMEOUT = 20
#: run as ``python -I -S``: no working directory, PYTHONPATH or user site on ``sys.path`` and
#: no ``site`` at start-up, so neither a repository ``json.py``/``site.py`` nor an environment's
#: ``.pth`` import line or ``sitecustomize`` runs: scope runs no code of the project's.  What
#: ``site`` would add is worked out instead: the virtualenv's (``pyvenv.cfg``) or the
#: installation's site-packages, and the directories their ``.pth`` files list (read as text).
_PRINT_PATH = r"""
import json, os, site, sys
here = os.path.dirname(os.path.abspath(sys.executable))
prefixes = [sys.prefix]
for directory in (here, os.path.dirname(here)):
    cfg = os.path.join(directory, "pyvenv.cfg")
    if os.path.isfile(cfg):
        with open(cfg) as handle:
            text = handle.read().lower().replace(" ", "")
        prefixes = [directory] + ([sys.prefix] if "include-system-site-packages=true" in text
                                  else [])
        break
path = list(sys.path)
for sitedir in getattr(site, "getsitepackages", lambda prefixes: [])(prefixes):
    if not os.path.isdir(sitedir) or sitedir in path:
        continue
    path.append(sitedir)
    for name in sorted(os.listdir(sitedir)):
        if not name.endswith(".pth"):
            continue
        try:
            with open(os.path.join(sitedir, name)) as handle:
                lines = handle.read().splitlines()
        except (OSError, UnicodeDecodeError):
            continue
        for line in lines:
            if not line.strip() or line.startswith(("#", "import ", "import	")):
                continue
            entry = os.path.join(sitedir, line.rstrip())
            if os.path.isdir(entry) and entry not in path:
                path.append(entry)
sys.stdout.write(json.dumps(path))
"""
_queried: dict[str, list[str] | None] = {}


def repository_path(root: str) -> list[str]:
    """Where first-party modules live: the repository root and ``src/``."""
    out = [root]
    src = os.path.join(root, "src")
    if os.path.isdir(src):
        out.append(src)
    return out


def stdlib_path() -> list[str]:
    """premerge's own standard-library entries of ``sys.path`` (no site-packages)."""
    base = os.path.realpath(sys.base_prefix)
    out = []
    for entry in sys.path:
        if not entry or "site-packages" in entry or "dist-packages" in entry:
            continue
        if os.path.realpath(entry).startswith(base + os.sep):
            out.append(entry)
    return out


def project_path(config: Config) -> Callable[[], list[str] | None]:
    """A call that returns the project interpreter's ``sys.path`` (asked on first call), or
    None when it cannot be known."""
    cache: list[list[str] | None] = []

    def ask() -> list[str] | None:
        if not cache:
            cache.append(_interpreter_path(config))
        return cache[0]

    return ask


def _interpreter_path(config: Config) -> list[str] | None:
    try:
        from premerge.imports.interpreter import choose_interpreter

        python = choose_interpreter(config).path
    except Exception:  # noqa: BLE001 - a bad smoke setting: the smoke check reports it
        return None
    real = os.path.realpath(python)
    if real.startswith(os.path.realpath(config.root) + os.sep) or \
            not os.path.basename(real).lower().startswith(("python", "pypy")):
        # a program the repository ships (a committed .venv/bin/python), or a link to one
        # that is no Python (/bin/sh): never started
        return None
    if _same_interpreter(python):
        return [entry for entry in sys.path if entry]
    if python not in _queried:
        _queried[python] = _ask(python, config.root.as_posix())
    return _queried[python]


def _same_interpreter(python: str) -> bool:
    """Whether ``python`` is the interpreter premerge runs in (same virtualenv, or the same
    base installation): then its search path is ``sys.path``, no need to ask."""
    try:
        own_venv = sys.prefix != sys.base_prefix
        venv = _venv_of(python)
        if venv is not None or own_venv:
            return venv is not None and own_venv and venv == os.path.realpath(sys.prefix)
        return os.path.realpath(python) == os.path.realpath(sys.executable)
    except OSError:
        return False


def _venv_of(python: str) -> str | None:
    """The virtualenv an interpreter path belongs to (``pyvenv.cfg`` beside its directory)."""
    directory = os.path.dirname(os.path.abspath(python))
    for candidate in (directory, os.path.dirname(directory)):
        if os.path.isfile(os.path.join(candidate, "pyvenv.cfg")):
            return os.path.realpath(candidate)
    return None


def _ask(python: str, root: str) -> list[str] | None:
    import json
    import subprocess

    env = {key: value for key, value in os.environ.items()
           if key not in ("PYTHONSTARTUP", "PYTHONINSPECT", "PYTHONHOME")}
    try:
        proc = subprocess.run([python, "-I", "-S", "-B", "-c", _PRINT_PATH], capture_output=True,
                              timeout=QUERY_TIMEOUT, stdin=subprocess.DEVNULL, cwd=root,
                              env=env, check=False)
        value = json.loads(proc.stdout.decode("utf-8", "replace")) if proc.returncode == 0 \
            else None
    except (OSError, ValueError, subprocess.SubprocessError):
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        return None
    # -I left out the environment's PYTHONPATH: its absolute entries lead, as at run time
    pythonpath = [entry for entry in env.get("PYTHONPATH", "").split(os.pathsep)
                  if os.path.isabs(entry)]
    return [entry for entry in (*pythonpath, *value) if entry and os.path.isabs(entry)]


# ---------------------------------------------------------------------------------------------
# optional dependencies (extras): installed for the developer, missing for most users

#: compiled (and cached by re) at its first use, not by every run that imports this module
_REQUIREMENT_NAME = r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)"


def normalize(name: str) -> str:
    """A distribution or module name as PEP 503 compares them (``Foo.Bar-baz`` ->
    ``foo_bar_baz``)."""
    return re.sub(r"[-_.]+", "_", name).lower()


def optional_distributions(root: str) -> set[str]:
    """Distributions the project declares only as extras (``pyproject.toml``'s
    ``[project.optional-dependencies]``, Poetry's ``optional = true``, setup.cfg's
    ``extras_require``), normalized; required ones are left out."""
    required: set[str] = set()
    optional: set[str] = set()
    data = _read_toml(os.path.join(root, "pyproject.toml"))
    project = data.get("project") if isinstance(data.get("project"), dict) else {}
    for item in project.get("dependencies") or ():
        _add_requirement(required, item)
    extras = project.get("optional-dependencies") or {}
    if isinstance(extras, dict):
        for items in extras.values():
            for item in items if isinstance(items, list) else ():
                _add_requirement(optional, item)
    poetry = (data.get("tool") or {}).get("poetry") if isinstance(data.get("tool"), dict) else None
    if isinstance(poetry, dict):
        for name, spec in (poetry.get("dependencies") or {}).items():
            (optional if isinstance(spec, dict) and spec.get("optional") else required).add(
                normalize(name))
    optional |= _setup_cfg_extras(os.path.join(root, "setup.cfg"))
    return optional - required


def _add_requirement(out: set[str], item: object) -> None:
    if isinstance(item, str):
        match = re.match(_REQUIREMENT_NAME, item)
        if match:
            out.add(normalize(match.group(1)))


def _read(path: str) -> bytes | None:
    """A regular file's bytes, bounded like every source premerge reads; None otherwise."""
    from premerge.sources import SourceError, read_bytes

    if not os.path.isfile(path):  # a regular file (a FIFO would block the read)
        return None
    try:
        return read_bytes(path)
    except (SourceError, OSError):
        return None


def _read_toml(path: str) -> dict:  # type: ignore[type-arg]
    raw = _read(path)
    if raw is None:
        return {}
    try:
        import tomllib
    except ImportError:  # Python 3.10: no TOML reader in the stdlib; extras unknown
        return {"unreadable": True}
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return {"unreadable": True}
    return data if isinstance(data, dict) else {}


def _setup_cfg_extras(path: str) -> set[str]:
    raw = _read(path)
    if raw is None:
        return set()
    text = raw.decode("utf-8", "replace")
    out: set[str] = set()
    section = ""
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("[") and stripped.endswith("]"):
            section = stripped[1:-1].strip()
        elif section == "options.extras_require" and stripped and not stripped.startswith("#"):
            value = stripped.split("=", 1)[1] if "=" in stripped and not line[:1].isspace() \
                else stripped
            _add_requirement(out, value)
    return out


def extras_unknown(root: str) -> bool:
    """Whether the project has metadata premerge cannot read here (then every third-party
    import counts as possibly optional)."""
    return bool(_read_toml(os.path.join(root, "pyproject.toml")).get("unreadable"))


def modules_of(distributions: set[str], search_path: list[str]) -> set[str]:
    """Top-level modules the installed ``distributions`` provide (their ``top_level.txt``, else
    their RECORD's first path parts), found in the ``*.dist-info`` directories on the path;
    always including the distribution's own name as a module name."""
    out = set(distributions)
    if not distributions:
        return out
    for entry in search_path:
        try:
            names = os.listdir(entry)
        except OSError:
            continue
        for name in names:
            if not name.endswith((".dist-info", ".egg-info")):
                continue
            dist = normalize(name.rsplit(".", 1)[0].split("-", 1)[0])
            if dist not in distributions:
                continue
            out |= _provided(os.path.join(entry, name))
    return out


def _provided(info: str) -> set[str]:
    for listing, first_part in (("top_level.txt", False), ("RECORD", True)):
        raw = _read(os.path.join(info, listing))
        if raw is None:
            continue
        text = raw.decode("utf-8", "replace")
        out = set()
        for line in text.splitlines():
            part = line.split(",", 1)[0].strip()
            if first_part:
                part = part.split("/", 1)[0]
                part = part[:-3] if part.endswith(".py") else part
            if part.isidentifier():
                out.add(normalize(part))
        return out
    return set()


# ---------------------------------------------------------------------------------------------
# the fixer's question


_STDLIB = frozenset(getattr(sys, "stdlib_module_names", ())) | frozenset(sys.builtin_module_names)


class ImportSafety:
    """Whether a module-level copy of an import statement could fail (issue 11 item 5).

    ``--fix`` must never add an import that can fail where none could before: a hoisted import
    runs whenever the module is imported (a package ``__init__`` that imports the module then
    fails for every user without the optional dependency).  Safe: relative (first-party)
    imports, and absolute ones that resolve in the project's environment and are not declared
    only as an extra.  Unknown counts as "can fail": the fixer then imports locally.
    """

    def __init__(self, config: Config) -> None:
        from premerge.scope.submodules import ModuleIndex, search_path_for

        root = config.root.as_posix()
        self.root = root
        self.more = project_path(config)
        self.index = ModuleIndex(search_path_for(root), use_cache=config.run.use_cache,
                                 more=self.more)
        self._optional: set[str] | None = None

    def can_fail(self, path: str, stmt: object) -> bool:
        modules = _absolute_modules(stmt)
        for module in modules:
            top = module.split(".", 1)[0]
            if normalize(top) in self.optional_modules():
                return True
            if top not in _STDLIB and extras_unknown(self.root):
                return True
            # the standard library's own dotted names may be attributes (os.path): its top
            # level (present on this platform?) is the question; elsewhere the whole module
            if self.index.resolves(top if top in _STDLIB else module) is not True:
                return True
        return False

    def optional_modules(self) -> set[str]:
        """Top-level modules (normalized) of the project's extras."""
        if self._optional is None:
            declared = optional_distributions(self.root)
            path = (self.more() or []) if declared else []
            self._optional = {normalize(m) for m in modules_of(declared, path)}
        return self._optional


def stdlib_only(path: str, stmt: object) -> bool:
    """Without the project's environment: only the standard library and relative imports are
    known not to fail (``ImportSafety.can_fail``'s offline stand-in)."""
    return any(module.split(".", 1)[0] not in _STDLIB for module in _absolute_modules(stmt))


def _absolute_modules(stmt: object) -> list[str]:
    """The absolute modules an import statement must find (a ``from`` import's names may be
    attributes, so only its module); none for a relative import."""
    if type(stmt).__name__ == "Import":
        return [alias.name for alias in stmt.names]  # type: ignore[attr-defined]
    if getattr(stmt, "level", 0):
        return []
    module = getattr(stmt, "module", None)
    return [module] if module else []
