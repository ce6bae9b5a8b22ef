"""Which modules the repository holds, and how each one is imported.

* A file in a directory with ``__init__.py`` belongs to a package: its name is dotted from the
  top-most package's parent (the *source root*: ``src/``, ``hooks/``, the repository root),
  and it is imported by that name with the source root first on ``sys.path`` -- as
  ``python -m pkg.mod`` from there would.
* Source roots declared in ``pyproject.toml`` (``[tool.setuptools] package-dir``,
  ``[tool.setuptools.packages.find] where``, poetry's ``packages.from``, hatch's wheel
  ``packages``) or ``setup.cfg`` extend a package upwards through directories without
  ``__init__.py`` (namespace packages).  A file without ``__init__.py`` that uses relative
  imports is a namespace-package member too (of the regular package around its directory,
  if there is one).
* Every other file is a *script*: imported with its own directory first on ``sys.path``, as
  ``python path/to/script.py`` runs it, under its file stem (never ``__main__``).

Files git ignores, VCS directories, virtualenvs and caches are never walked; dot-directories
are (``sources.iter_python_files``); ``smoke.include`` / ``smoke.exclude`` globs select files.
"""

from __future__ import annotations

import configparser
import keyword
import os
import re
from collections.abc import Iterable
from pathlib import Path

from premerge.parsed import read_source_bytes
from premerge.records import FrozenRecord, frozen_init
from premerge.safefile import TOO_LARGE, FileRefused, read_regular
from premerge.sources import iter_python_files, matches_any, relative_to


class ProjectModule(FrozenRecord):
    """A module of the checked project: its dotted name, its file and how to import it (what
    smoke imports, and what the import graph and scope's fix graph are made of)."""

    __slots__ = _fields = ("name", "path", "relpath", "kind", "import_root")
    name: str
    path: str  # absolute POSIX path of the file
    relpath: str  # repository-relative POSIX path
    kind: str  # "package" (imported by dotted name) or "script" (loaded from its file)
    import_root: str  # absolute directory put first on sys.path (and the child's cwd)

    def __init__(self, name: str, path: str, relpath: str, kind: str,
                 import_root: str) -> None:
        frozen_init(self, name, path, relpath, kind, import_root)

    @property
    def top(self) -> str:
        return self.name.split(".")[0]

    @property
    def is_package_init(self) -> bool:
        return self.path.endswith("/__init__.py")

    @property
    def package(self) -> str:
        """The package relative imports resolve against."""
        if self.kind != "package":
            return ""
        return self.name if self.is_package_init else self.name.rpartition(".")[0]


def _identifier(part: str) -> bool:
    return part.isidentifier() and not keyword.iskeyword(part)


def declared_source_roots(root: Path) -> list[str]:
    """Absolute POSIX source roots the packaging metadata declares (existing dirs only)."""
    found: list[str] = []
    data = _read_pyproject(root / "pyproject.toml")
    tool = data.get("tool", {}) if isinstance(data, dict) else {}
    setuptools = tool.get("setuptools", {}) if isinstance(tool, dict) else {}
    if isinstance(setuptools, dict):
        package_dir = setuptools.get("package-dir")
        if isinstance(package_dir, dict) and isinstance(package_dir.get(""), str):
            found.append(package_dir[""])
        packages = setuptools.get("packages")
        find = packages.get("find") if isinstance(packages, dict) else None
        if isinstance(find, dict) and isinstance(find.get("where"), list):
            found.extend(w for w in find["where"] if isinstance(w, str))
    poetry = tool.get("poetry", {}) if isinstance(tool, dict) else {}
    if isinstance(poetry, dict) and isinstance(poetry.get("packages"), list):
        for item in poetry["packages"]:
            if isinstance(item, dict) and isinstance(item.get("from"), str):
                found.append(item["from"])
    try:
        wheel = tool["hatch"]["build"]["targets"]["wheel"]["packages"]
    except (KeyError, TypeError):
        wheel = None
    if isinstance(wheel, list):
        found.extend(os.path.dirname(p) or "." for p in wheel if isinstance(p, str))
    setup_cfg = root / "setup.cfg"
    if setup_cfg.is_file():
        parser = configparser.ConfigParser()
        try:
            parser.read_string(read_regular(setup_cfg, 1 << 20).decode("utf-8"), str(setup_cfg))
            mapping = parser.get("options", "package_dir", fallback="")
            for line in mapping.replace(";", "\n").splitlines():
                key, _, value = line.partition("=")
                if value and not key.strip():
                    found.append(value.strip())
            where = parser.get("options.packages.find", "where", fallback="")
            if where.strip():
                found.append(where.strip())
        except (configparser.Error, FileRefused, UnicodeDecodeError):
            pass
    roots: list[str] = []
    for rel in found:
        rel = rel.strip().strip("/") or "."
        full = (root / rel).resolve() if rel != "." else root.resolve()
        try:
            full.relative_to(root.resolve())
        except ValueError:
            continue
        if full.is_dir():
            text = (root / rel).as_posix() if rel != "." else root.as_posix()
            normal = Path(os.path.normpath(text)).as_posix()
            if normal not in roots:
                roots.append(normal)
    return roots


def _read_pyproject(path: Path) -> dict[str, object]:
    if not path.is_file():
        return {}
    try:
        import tomllib as toml  # noqa: PLC0415 - 3.11+
    except ImportError:
        try:
            import tomli as toml  # type: ignore[no-redef]  # noqa: PLC0415
        except ImportError:
            return {}
    try:
        return toml.loads(read_regular(path, 1 << 20).decode("utf-8"))
    except (FileRefused, ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        return {}


_RELATIVE = re.compile(rb"^\s*from\s+\.", re.MULTILINE)


#: how far into a file a relative import is looked for
_RELATIVE_SCAN = 1 << 20


def _uses_relative_imports(path: str) -> bool:
    try:  # the run's one read of the file (smoke reads it next); a huge one only in part
        return bool(_RELATIVE.search(read_source_bytes(path), 0, _RELATIVE_SCAN))
    except FileRefused as refused:
        if refused.kind != TOO_LARGE:
            return False
    try:
        return bool(_RELATIVE.search(read_regular(path, _RELATIVE_SCAN, truncate=True)))
    except FileRefused:
        return False


def module_for(path: str, root: str, declared: Iterable[str]) -> ProjectModule:
    """How the file at ``path`` is imported (see the module docstring)."""
    directory = os.path.dirname(path)
    stem = os.path.basename(path)[:-3] if path.endswith(".py") else os.path.basename(path)
    relpath = relative_to(path, root)
    declared = list(declared)
    top = directory
    if os.path.isfile(os.path.join(directory, "__init__.py")):
        while top != root and os.path.isfile(os.path.join(os.path.dirname(top), "__init__.py")):
            top = os.path.dirname(top)
        source_root = os.path.dirname(top)
    elif _uses_relative_imports(path):
        # a namespace directory: a subpackage of the regular package around it, if any
        # (flask/sansio/ has no __init__.py: its modules are flask.sansio.*)
        while top != root and os.path.isfile(os.path.join(os.path.dirname(top), "__init__.py")):
            top = os.path.dirname(top)
        source_root = os.path.dirname(top)
    else:
        return ProjectModule(stem, path, relpath, "script", directory)
    roots = [source_root]
    for candidate in declared:  # a declared root above: namespace packages up to it
        if source_root.startswith(candidate + "/"):
            roots.insert(0, candidate)
            break
    for source in roots:
        parts = relative_to(path, source).split("/")
        parts[-1] = stem
        if parts[-1] == "__init__":
            parts.pop()
        if parts and all(_identifier(p) for p in parts) and source.startswith(root):
            return ProjectModule(".".join(parts), path, relpath, "package", source)
    return ProjectModule(stem, path, relpath, "script", directory)


def discover_modules(root: Path, include: Iterable[str], exclude: Iterable[str]
                     ) -> list[ProjectModule]:
    """Every module of the repository, sorted by path."""
    root_text = root.as_posix()
    declared = sorted(declared_source_roots(root), key=len, reverse=True)
    include = list(include)
    modules = []
    for path in iter_python_files(root_text, root_text, list(exclude)):
        rel = relative_to(path, root_text)
        if include and not matches_any(rel, include):
            continue
        modules.append(module_for(path, root_text, declared))
    return modules
