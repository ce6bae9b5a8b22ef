"""Start-up and exit economy, in one place: why a one-file run (pre-commit's usual call) is fast.

Such a run is mostly interpreter start-up and shutdown; the analysis is the smaller part.  The
tricks, each measured when it was added (``scripts/bench.py scope``, one-file rows):

* **Import lazily.**  What only some runs need is imported inside the function that needs it,
  marked ``# noqa: PLC0415``: GitPython (``repo.py``), YAML (``config.py``), ``json`` (a cache
  hit, the JSON reporter), process pools, every reporter and check (``check.CHECKS``,
  ``report.RENDERERS`` are tables of such functions).  ``tests/scope/test_cli.py`` fails when a
  one-file run imports one of the heavy ones.
* **No typing at run time.**  A module whose annotations name typing's classes guards that
  import with ``TYPE_CHECKING = False`` / ``if TYPE_CHECKING:`` (its own constant, not
  ``typing.TYPE_CHECKING``): with ``from __future__ import annotations`` nothing evaluates
  them, and importing typing costs ~3 ms where nothing else loads it.
* **No dataclasses.**  Value classes are ``premerge.records`` classes: ``dataclasses`` imports
  ``inspect`` (~7 ms) and builds each class by executing generated code
  (``tests/core/test_architecture.py`` keeps the package free of it).
* **Exit without teardown.**  ``cli.entry`` runs the command and then :func:`exit_now`: an
  orderly shutdown would free every object and module one by one (~7 ms); the operating system
  reclaims the memory at once.  When a check's last step is the last thing the process does
  (:func:`exits_after_run`), it may leave what it built for the exit (:func:`leave_for_exit`):
  scope keeps the last file's syntax tree and the collector off (freeing ~10^5 nodes costs
  ~3 ms, and a collection would walk them all).
"""

from __future__ import annotations

import os
import sys

#: typing.TYPE_CHECKING without importing typing (see the module docstring)
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

#: what runs leave for the operating system to reclaim at exit: never freed
left_for_exit: list[Any] = []
_exits_after_run = [False]


def exit_after_run(yes: bool) -> None:
    """Say whether the process exits right after the current run, freeing nothing."""
    _exits_after_run[0] = yes


def exits_after_run() -> bool:
    """Whether the current run is the last thing the process does (see :func:`exit_now`)."""
    return _exits_after_run[0]


def leave_for_exit(anything: Any) -> None:
    """Keep ``anything`` alive until the process exits, so nothing spends time freeing it."""
    left_for_exit.append(anything)


def exit_now(code: int) -> None:
    """``os._exit(code)`` after what ``sys.exit`` would still do: flush both streams and run
    the atexit handlers.  Returns instead when another thread is alive (the shutdown waits for
    it) or a flush fails (the shutdown reports a broken pipe the way it always has)."""
    threading = sys.modules.get("threading")
    if threading is not None and threading.active_count() > 1:
        return
    import atexit  # noqa: PLC0415

    try:
        sys.stdout.flush()
        sys.stderr.flush()
        atexit._run_exitfuncs()  # what the shutdown runs first (multiprocessing's, logging's)
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        return
    os._exit(code)
