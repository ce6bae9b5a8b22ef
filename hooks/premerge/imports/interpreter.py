"""Which interpreter runs the checked project: smoke imports its modules there, and scope asks
it where third-party imports resolve.  Both checks choose it the same way, here.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable

from premerge.config import Config, ConfigError
from premerge.records import Record


class Interpreter(Record):
    __slots__ = _fields = ("path", "source", "explicit")

    def __init__(self, path: str, source: str, explicit: bool) -> None:
        self.path = path
        self.source = source  # where it came from, for messages: "--python", "smoke.python", ...
        self.explicit = explicit


def _own_hook_env(candidate: str) -> bool:
    """True for premerge's own pre-commit virtualenv: it lacks the project's dependencies."""
    if os.environ.get("PRE_COMMIT") != "1" or sys.prefix == sys.base_prefix:
        return False
    try:
        return os.path.realpath(candidate).startswith(os.path.realpath(sys.prefix) + os.sep)
    except OSError:
        return False


def _venv_python(venv: str) -> str:
    for sub in ("bin/python", "bin/python3", "Scripts/python.exe"):
        candidate = os.path.join(venv, sub)
        if os.path.isfile(candidate):
            return candidate
    return os.path.join(venv, "bin", "python")


def _which(name: str, skip: Callable[[str], bool] = lambda _: False) -> str | None:
    for directory in os.environ.get("PATH", "").split(os.pathsep):
        if not directory:
            continue
        found = shutil.which(name, path=directory)
        if found and not skip(found):
            return found
    return None


def choose_interpreter(config: Config) -> Interpreter:
    """``--python`` > ``smoke.python`` > ``$VIRTUAL_ENV`` > ``.venv`` > ``python3`` on PATH.

    An interpreter the user named that does not exist is a ConfigError (exit 2).
    """
    given = config.run.python
    if given:
        found = given if os.sep in given or "/" in given else shutil.which(given)
        if not found or not os.path.exists(found):
            raise ConfigError(f"--python {given}: no such interpreter")
        return Interpreter(os.path.abspath(found), "--python", True)
    if config.smoke.python:
        value = config.smoke.python
        if "/" in value or os.sep in value:
            found = value if os.path.isabs(value) else str(config.root / value)
        else:
            found = shutil.which(value) or ""
        if not found or not os.path.exists(found):
            line = config.lines.get("smoke")
            where = config.manifest_path.name + (f":{line}" if line else "")
            raise ConfigError(f"{where}: smoke.python {value!r}: no such interpreter")
        return Interpreter(found, "smoke.python", True)
    venv = os.environ.get("VIRTUAL_ENV")
    if venv:
        candidate = _venv_python(venv)
        if os.path.isfile(candidate) and not _own_hook_env(candidate):
            return Interpreter(candidate, "$VIRTUAL_ENV", False)
    for name in (".venv", "venv"):
        local = config.root / name
        if (local / "pyvenv.cfg").is_file():
            candidate = _venv_python(str(local))
            if os.path.isfile(candidate):
                return Interpreter(candidate, name, False)
    found = _which("python3", _own_hook_env)
    if found:
        return Interpreter(found, "python3 on PATH", False)
    return Interpreter(sys.executable, "premerge's own interpreter", False)
