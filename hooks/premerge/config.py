"""``premerge.yaml``: load, validate, defaults.  YAML is touched only here, lazily.

Validation is strict and precise: unknown keys (with a "did you mean"), wrong types, invalid
YAML, duplicate keys or entries, and paths that leave the repository are :class:`ConfigError`
with the file, line and key, which the CLI prints as one line and exits 2.  No manifest is a
valid state: the defaults apply.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

from premerge.records import Record
from premerge.safefile import NOT_REGULAR, TOO_LARGE, FileRefused, read_regular

#: typing.TYPE_CHECKING without importing typing: its names serve annotations only, and
#: the import costs ~3 ms of start-up where nothing else has loaded it
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

MANIFEST_NAME = "premerge.yaml"

#: Environment variables children get by default (smoke); anything secret-looking never passes.
DEFAULT_SMOKE_ENV = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TERM", "PYTHONHASHSEED",
                     "PYTHONPATH", "VIRTUAL_ENV", "CONDA_PREFIX", "SYSTEMROOT", "PYTHONUTF8",
                     "PYTHONIOENCODING")


class ConfigError(Exception):
    """An invalid manifest or option; ``str()`` is the one-line message."""


class RequiredFile(Record):
    """One ``required_files`` entry."""

    __slots__ = _fields = ("path", "reason", "min_count", "allow_empty", "tracked", "worktrees",
                           "line", "col")

    def __init__(self, path: str, reason: str = "", min_count: int = 1,
                 allow_empty: bool = False, tracked: bool = True, worktrees: bool = False,
                 line: int | None = None, col: int | None = None) -> None:
        self.path = path
        self.reason = reason
        self.min_count = min_count
        self.allow_empty = allow_empty
        self.tracked = tracked
        self.worktrees = worktrees
        self.line = line
        self.col = col

    @property
    def is_glob(self) -> bool:
        return any(ch in self.path for ch in "*?[")


class ScopeConfig(Record):
    __slots__ = _fields = ("exclude",)

    def __init__(self, exclude: list[str] | None = None) -> None:
        self.exclude: list[str] = [] if exclude is None else exclude


class FilesConfig(Record):
    __slots__ = _fields = ("exclude",)

    def __init__(self, exclude: list[str] | None = None) -> None:
        #: code references under these globs are not reported as undeclared
        self.exclude: list[str] = [] if exclude is None else exclude


class SmokeConfig(Record):
    __slots__ = _fields = ("python", "include", "exclude", "timeout", "jobs", "run_scripts",
                           "env", "source_roots")

    def __init__(self, python: str | None = None, include: list[str] | None = None,
                 exclude: list[str] | None = None, timeout: float = 20.0, jobs: int = 0,
                 run_scripts: list[str] | None = None, env: list[str] | None = None,
                 source_roots: list[str] | None = None) -> None:
        self.python = python
        self.include: list[str] = ["**/*.py"] if include is None else include
        self.exclude: list[str] = [] if exclude is None else exclude
        self.timeout = timeout
        self.jobs = jobs
        self.run_scripts: list[str] = [] if run_scripts is None else run_scripts
        self.env: list[str] = [] if env is None else env
        #: repository directories every import finds its packages in (on ``sys.path`` after
        #: the site directories), as an installed project's would be
        self.source_roots: list[str] = [] if source_roots is None else source_roots


class RunOptions(Record):
    """What the command line adds to the manifest for one run (never read from YAML)."""

    __slots__ = _fields = ("use_cache", "changed", "base", "fix", "diff", "jobs", "timeout",
                           "shard", "python", "progress", "verbose")

    def __init__(self, use_cache: bool = True, changed: list[str] | None = None,
                 base: str | None = None, fix: bool = False, diff: bool = False,
                 jobs: int | None = None, timeout: float | None = None,
                 shard: tuple[int, int] | None = None, python: str | None = None,
                 progress: bool = False,
                 verbose: bool = False) -> None:
        self.use_cache = use_cache
        self.changed = changed  # root-relative POSIX paths when --changed
        self.base = base
        self.fix = fix
        self.diff = diff
        self.jobs = jobs
        self.timeout = timeout
        self.shard = shard  # (index starting at 1, count)
        self.python = python
        self.progress = progress
        self.verbose = verbose  # smoke: per-module import times and the slowest modules


class Config(Record):
    """The manifest plus the run's options.  ``root`` is the repository root (or the cwd)."""

    __slots__ = _fields = ("root", "manifest", "in_git", "version", "required_files", "scope",
                           "files", "smoke", "run", "lines")

    def __init__(self, root: Path, manifest: Path | None = None, in_git: bool = True,
                 version: int = 1, required_files: list[RequiredFile] | None = None,
                 scope: ScopeConfig | None = None, files: FilesConfig | None = None,
                 smoke: SmokeConfig | None = None, run: RunOptions | None = None,
                 lines: dict[str, int] | None = None) -> None:
        self.root = root
        self.manifest = manifest  # None when there is no manifest file
        self.in_git = in_git
        self.version = version
        self.required_files: list[RequiredFile] = [] if required_files is None \
            else required_files
        self.scope = ScopeConfig() if scope is None else scope
        self.files = FilesConfig() if files is None else files
        self.smoke = SmokeConfig() if smoke is None else smoke
        self.run = RunOptions() if run is None else run
        #: line of each top-level key and of each section key, for findings on the manifest
        self.lines: dict[str, int] = {} if lines is None else lines

    @property
    def manifest_path(self) -> Path:
        return self.manifest or self.root / MANIFEST_NAME


# ---------------------------------------------------------------------------------------------
# YAML with line numbers


class _Node:
    """A YAML value with its place: 1-based line (and column) of the value, line of its key."""

    __slots__ = ("value", "line", "key_line", "col")

    def __init__(self, value: Any, line: int, key_line: int | None = None,
                 col: int | None = None) -> None:
        self.value = value
        self.line = line
        self.key_line = key_line
        self.col = col

    def to_json(self) -> list[Any]:
        value = self.value
        if isinstance(value, dict):
            data: Any = {"m": {k: v.to_json() for k, v in value.items()}}
        elif isinstance(value, list):
            data = {"s": [v.to_json() for v in value]}
        elif value is None or isinstance(value, (str, int, float, bool)):
            data = {"v": value}
        else:
            raise TypeError(f"not JSON: {type(value).__name__}")
        return [data, self.line, self.key_line, self.col]

    @classmethod
    def from_json(cls, item: list[Any]) -> _Node:
        data, line, key_line, col = item
        if "m" in data:
            value: Any = {k: cls.from_json(v) for k, v in data["m"].items()}
        elif "s" in data:
            value = [cls.from_json(v) for v in data["s"]]
        else:
            value = data["v"]
        return cls(value, line, key_line, col)


#: Bounds that keep a hostile manifest (billion laughs, recursive aliases, deep nesting, a
#: huge file) from hanging or crashing the run: it becomes a one-line error instead.
MAX_MANIFEST_BYTES = 1024 * 1024
MAX_MANIFEST_NODES = 100_000
MAX_MANIFEST_DEPTH = 64


def _compose_cached(text: str, where: str, use_cache: bool) -> _Node | None:
    """:func:`_compose`, served from the cache when this exact text was composed before:
    importing PyYAML and composing cost ~25 ms, a tenth of `premerge files`' budget.  The
    cache holds only the node tree (a pure function of the text); validation always runs."""
    from premerge.cache import Cache  # noqa: PLC0415

    cache = Cache("manifest", enabled=use_cache)
    key = cache.key(text.encode("utf-8", "surrogateescape"))
    stored = cache.get(key)
    if isinstance(stored, dict) and "tree" in stored:
        try:
            return _Node.from_json(stored["tree"]) if stored["tree"] is not None else None
        except (TypeError, ValueError, KeyError, IndexError):
            pass
    tree = _compose(text, where)
    try:
        cache.put(key, {"tree": tree.to_json() if tree is not None else None})
    except (TypeError, ValueError):
        pass  # a value JSON cannot hold (a YAML timestamp): just not cached
    return tree


def _compose(text: str, where: str) -> Any:
    import yaml  # noqa: PLC0415 - lazy: only runs that have a manifest pay for PyYAML

    loader_cls = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        # compose() builds the node graph without expanding aliases: an alias is a reference
        # to the anchored node, so a billion-laughs document stays small here.
        node = yaml.compose(text, Loader=loader_cls)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        pos = f":{mark.line + 1}:{mark.column + 1}" if mark else ""
        problem = exc.problem or exc.context or "invalid YAML"
        raise ConfigError(f"{where}{pos}: invalid YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{where}: invalid YAML: {exc}") from None
    except RecursionError:
        raise ConfigError(f"{where}: invalid YAML: nested too deeply") from None
    if node is None:
        return None
    return _Converter(where, yaml).convert(node, 0)


class _Converter:
    """Node graph -> :class:`_Node` tree with lines, expanding aliases under a budget."""

    def __init__(self, where: str, yaml: Any) -> None:
        self.where = where
        self.yaml = yaml
        self.constructor = yaml.SafeLoader("")  # one scalar constructor for the whole file
        self.budget = MAX_MANIFEST_NODES
        self.active: set[int] = set()  # nodes being converted: an alias to one is a cycle

    def fail(self, node: Any, message: str) -> ConfigError:
        return ConfigError(f"{self.where}:{node.start_mark.line + 1}: {message}")

    def convert(self, node: Any, depth: int) -> _Node:
        yaml = self.yaml
        self.budget -= 1
        if self.budget < 0:
            raise self.fail(node, f"the manifest expands to more than {MAX_MANIFEST_NODES} "
                                  "values (aliases repeating aliases?); refusing to expand it")
        if depth > MAX_MANIFEST_DEPTH:
            raise self.fail(node, f"nested more than {MAX_MANIFEST_DEPTH} levels deep")
        line = node.start_mark.line + 1
        col = node.start_mark.column + 1
        if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)):
            if node.tag not in ("tag:yaml.org,2002:seq", "tag:yaml.org,2002:map"):
                raise self.fail(node, f"invalid value: unsupported tag {node.tag!r}")
            if id(node) in self.active:
                raise self.fail(node, "an alias refers to a value that contains it (a "
                                      "recursive alias)")
            self.active.add(id(node))
            try:
                if isinstance(node, yaml.SequenceNode):
                    return _Node([self.convert(item, depth + 1) for item in node.value], line,
                                 col=col)
                return _Node(self.mapping(node, depth), line, col=col)
            finally:
                self.active.discard(id(node))
        try:
            return _Node(self.constructor.construct_object(node, deep=True), line, col=col)
        except yaml.YAMLError as exc:
            problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            raise ConfigError(f"{self.where}:{line}: invalid value: {problem}") from None

    def mapping(self, node: Any, depth: int) -> dict[str, _Node]:
        out: dict[str, _Node] = {}
        for key_node, value_node in node.value:
            key_line = key_node.start_mark.line + 1
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise ConfigError(f"{self.where}:{key_line}: merge keys ('<<') are not "
                                  "supported in premerge.yaml; write the keys out")
            key = self.convert(key_node, depth + 1).value
            if not isinstance(key, str):
                raise ConfigError(f"{self.where}:{key_line}: keys must be strings, got "
                                  f"{key!r}")
            if key in out:
                raise ConfigError(f"{self.where}:{key_line}: duplicate key {key!r} (first at "
                                  f"line {out[key].key_line})")
            child = self.convert(value_node, depth + 1)
            child = _Node(child.value, child.line, key_line, child.col)
            out[key] = child
        return out


# ---------------------------------------------------------------------------------------------
# validation

_TOP_KEYS = ("version", "required_files", "scope", "files", "smoke")
_ENTRY_KEYS = ("path", "reason", "min_count", "allow_empty", "tracked", "worktrees")
_SCOPE_KEYS = ("exclude",)
_FILES_KEYS = ("exclude",)
_SMOKE_KEYS = ("python", "include", "exclude", "timeout", "jobs", "run_scripts", "env",
               "source_roots")


def _key_line(node: _Node) -> int:
    return node.key_line or node.line


class _Validator:
    def __init__(self, where: str, root: Path) -> None:
        self.where = where
        self.root = root

    def fail(self, line: int, message: str) -> ConfigError:
        return ConfigError(f"{self.where}:{line}: {message}")

    def check_keys(self, mapping: dict[str, _Node], allowed: tuple[str, ...], section: str,
                   line: int) -> None:
        for key, node in mapping.items():
            if key not in allowed:
                import difflib  # noqa: PLC0415 - only on the error path

                close = difflib.get_close_matches(key, allowed, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                known = ", ".join(allowed)
                raise self.fail(_key_line(node), f"unknown key {section}{key!r}{hint}; "
                                                 f"known keys: {known}")

    def mapping(self, node: _Node, key: str) -> dict[str, _Node]:
        if not isinstance(node.value, dict):
            raise self.fail(node.line, f"{key!r} must be a mapping, got "
                                       f"{_type_name(node.value)}")
        return node.value

    def typed(self, node: _Node, key: str, kinds: tuple[type, ...], what: str) -> Any:
        value = node.value
        if isinstance(value, bool) and bool not in kinds:
            raise self.fail(node.line, f"{key!r} must be {what}, got a boolean")
        if not isinstance(value, kinds):
            raise self.fail(node.line, f"{key!r} must be {what}, got {_type_name(value)}")
        return value

    def string_list(self, node: _Node, key: str, paths: bool = True) -> list[str]:
        if isinstance(node.value, str):
            items = [node]
        elif isinstance(node.value, list):
            items = node.value
        else:
            raise self.fail(node.line, f"{key!r} must be a list of strings, got "
                                       f"{_type_name(node.value)}")
        out = []
        for item in items:
            if not isinstance(item.value, str) or not item.value.strip():
                raise self.fail(item.line, f"{key!r} entries must be non-empty strings, got "
                                           f"{item.value!r}")
            if paths:
                self.inside_repo(item.value, item.line, key)
            out.append(item.value.strip())
        return out

    def inside_repo(self, path: str, line: int, key: str) -> None:
        """Reject absolute paths, ``..`` and symlinks that point outside the repository."""
        text = path.strip().replace("\\", "/")
        if text.startswith("/") or (len(text) > 1 and text[1] == ":") or text.startswith("~"):
            raise self.fail(line, f"{key!r}: {path!r} is absolute; paths are relative to the "
                                  "repository root")
        if ".." in PurePosixPath(text).parts:
            raise self.fail(line, f"{key!r}: {path!r} leaves the repository ('..')")
        fixed = static_prefix(text)  # a glob's directory part still must not leave the repo
        if not fixed:
            return
        full = self.root / fixed
        if full.is_symlink() or any(p.is_symlink() for p in full.parents if
                                    self.root in p.parents or p == self.root):
            real = full.resolve()
            root = self.root.resolve()
            if real != root and root not in real.parents:
                raise self.fail(line, f"{key!r}: {path!r} is a symlink that points outside "
                                      f"the repository ({real})")


def static_prefix(pattern: str) -> str:
    """The leading path segments of a glob that hold no wildcard (``a/b/*.md`` -> ``a/b``);
    the whole path when it is not a glob."""
    parts = PurePosixPath(pattern.strip().replace("\\", "/")).parts
    fixed: list[str] = []
    for index, part in enumerate(parts):
        if any(ch in part for ch in "*?["):
            break
        fixed.append(part)
    else:
        return "/".join(fixed)
    return "/".join(fixed[:index])


def _type_name(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    return {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean",
            int: "a number", float: "a number"}.get(type(value), type(value).__name__)


def parse_manifest(text: str, root: Path, where: str = MANIFEST_NAME,
                   use_cache: bool = False) -> Config:
    """Validate manifest text into a Config (root set, run options default)."""
    config = Config(root=root)
    doc = _compose_cached(text, where, use_cache) if use_cache else _compose(text, where)
    if doc is None:
        return config
    v = _Validator(where, root)
    top = v.mapping(doc, "the manifest")
    v.check_keys(top, _TOP_KEYS, "", doc.line)
    config.lines = {key: _key_line(node) for key, node in top.items()}

    if "version" in top:
        version = v.typed(top["version"], "version", (int,), "a number")
        if version != 1:
            raise v.fail(top["version"].line, f"unsupported 'version': {version} (this premerge "
                                              "reads version 1)")
        config.version = version

    if "required_files" in top:
        node = top["required_files"]
        if node.value is None:
            entries: list[_Node] = []
        elif isinstance(node.value, list):
            entries = node.value
        else:
            raise v.fail(node.line, "'required_files' must be a list, got "
                                    f"{_type_name(node.value)}")
        seen: dict[str, int] = {}
        for entry in entries:
            required = _required_entry(v, entry)
            norm = PurePosixPath(required.path.replace("\\", "/")).as_posix()
            if norm in seen:
                raise v.fail(entry.line, f"duplicate required_files entry {required.path!r} "
                                         f"(first at line {seen[norm]})")
            seen[norm] = entry.line
            config.required_files.append(required)

    if "scope" in top and top["scope"].value is not None:
        section = v.mapping(top["scope"], "scope")
        v.check_keys(section, _SCOPE_KEYS, "scope.", top["scope"].line)
        if "exclude" in section:
            config.scope.exclude = v.string_list(section["exclude"], "scope.exclude")

    if "files" in top and top["files"].value is not None:
        section = v.mapping(top["files"], "files")
        v.check_keys(section, _FILES_KEYS, "files.", top["files"].line)
        if "exclude" in section:
            config.files.exclude = v.string_list(section["exclude"], "files.exclude")

    if "smoke" in top and top["smoke"].value is not None:
        _smoke_section(v, top["smoke"], config.smoke)
    return config


def _required_entry(v: _Validator, entry: _Node) -> RequiredFile:
    if isinstance(entry.value, str):
        if not entry.value.strip():
            raise v.fail(entry.line, "required_files entries must be non-empty paths")
        v.inside_repo(entry.value, entry.line, "required_files")
        return RequiredFile(path=entry.value.strip(), line=entry.line, col=entry.col)
    if not isinstance(entry.value, dict):
        raise v.fail(entry.line, "required_files entries must be a path or a mapping with "
                                 f"'path', got {_type_name(entry.value)}")
    fields = entry.value
    v.check_keys(fields, _ENTRY_KEYS, "required_files[].", entry.line)
    if "path" not in fields:
        raise v.fail(entry.line, "required_files entry has no 'path'")
    path = v.typed(fields["path"], "path", (str,), "a string")
    if not path.strip():
        raise v.fail(fields["path"].line, "'path' must not be empty")
    v.inside_repo(path, fields["path"].line, "path")
    item = RequiredFile(path=path.strip(), line=entry.line, col=entry.col)
    if "reason" in fields:
        item.reason = str(v.typed(fields["reason"], "reason", (str,), "a string"))
    if "min_count" in fields:
        count = v.typed(fields["min_count"], "min_count", (int,), "a whole number")
        if count < 0:
            raise v.fail(fields["min_count"].line, "'min_count' must be 0 or more")
        item.min_count = count
    for flag in ("allow_empty", "tracked", "worktrees"):
        if flag in fields:
            setattr(item, flag, v.typed(fields[flag], flag, (bool,), "true or false"))
    return item


def _smoke_section(v: _Validator, node: _Node, smoke: SmokeConfig) -> None:
    section = v.mapping(node, "smoke")
    v.check_keys(section, _SMOKE_KEYS, "smoke.", node.line)
    if "python" in section:
        # an interpreter is not a repository file: a command name, a repo path or absolute
        smoke.python = v.typed(section["python"], "smoke.python", (str,), "a string")
    for key in ("include", "exclude", "run_scripts", "source_roots"):
        if key in section:
            setattr(smoke, key, v.string_list(section[key], f"smoke.{key}"))
    if "env" in section:
        smoke.env = v.string_list(section["env"], "smoke.env", paths=False)
    if "timeout" in section:
        timeout = v.typed(section["timeout"], "smoke.timeout", (int, float), "a number")
        if not 0 < timeout < float("inf"):  # NaN compares false: refused too
            raise v.fail(section["timeout"].line, "'smoke.timeout' must be more than 0 "
                         "seconds, and finite")
        smoke.timeout = float(timeout)
    if "jobs" in section:
        jobs = v.typed(section["jobs"], "smoke.jobs", (int,), "a whole number")
        if jobs < 0:
            raise v.fail(section["jobs"].line, "'smoke.jobs' must be 0 (all CPUs) or more")
        smoke.jobs = jobs


def _refuse_link_out_of(root: Path, path: Path) -> None:
    """A manifest inside the repository that is a symlink leading out of it is refused: the
    repository's manifest is the repository's, not whatever file the link names."""
    lexical = os.path.abspath(path)
    top = os.path.abspath(root) + os.sep
    if not lexical.startswith(top):
        return  # named by the user (--config) outside the repository: theirs to choose
    real = os.path.realpath(lexical)
    if not (real + os.sep).startswith(os.path.realpath(top.rstrip(os.sep)) + os.sep):
        raise ConfigError(f"{path}: the manifest is a symlink to {real}, outside the "
                          "repository; refusing to read it")


def load_config(root: Path, manifest: str | os.PathLike[str] | None = None,
                in_git: bool = True, use_cache: bool = True) -> Config:
    """Load the manifest (explicit path, else ``premerge.yaml`` at ``root`` if it exists)."""
    explicit = manifest is not None
    path = Path(manifest) if manifest is not None else root / MANIFEST_NAME
    if not path.is_absolute():
        path = Path(os.path.abspath(path))
    if not os.path.lexists(path):
        if explicit:
            raise ConfigError(f"{path}: no such manifest file")
        return Config(root=root, in_git=in_git)
    _refuse_link_out_of(root, path)
    try:
        raw = read_regular(path, MAX_MANIFEST_BYTES)
    except FileRefused as refused:
        if refused.kind == TOO_LARGE:
            raise ConfigError(f"{path}: the manifest is over {MAX_MANIFEST_BYTES // 1024} KiB; "
                              "refusing to read it") from None
        if refused.kind == NOT_REGULAR:
            raise ConfigError(f"{path}: the manifest {refused.reason}") from None
        raise ConfigError(f"{path}: cannot read the manifest: {refused.reason}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: the manifest is not UTF-8 text ({exc.reason})") from None
    if "\x00" in text:
        raise ConfigError(f"{path}: the manifest contains NUL bytes")
    try:
        where = path.relative_to(root).as_posix()
    except ValueError:
        where = str(path)
    config = parse_manifest(text, root, where, use_cache=use_cache)
    config.manifest = path
    config.in_git = in_git
    return config
