"""ANSI colour for text output on a terminal, and only there unless asked.

The decision follows the conventions terminals and CI systems share (and CPython's own
``_colorize``): ``NO_COLOR`` set to anything non-empty turns colour off; otherwise
``FORCE_COLOR`` set to anything non-empty turns it on (a CI log that renders ANSI); otherwise
colour is on only when the stream is a terminal and ``TERM`` is not ``dumb``.  A report written
to a file (``--output``) or a pipe is plain text, so its lines stay parseable.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

#: typing.TYPE_CHECKING without importing typing (see premerge.findings)
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import IO

RESET = "\x1b[0m"
BOLD = "\x1b[1m"
DIM = "\x1b[2m"
RED = "\x1b[31m"
YELLOW = "\x1b[33m"
CYAN = "\x1b[36m"

#: severity value -> colour of its code
SEVERITY_COLORS = {"error": RED, "warning": YELLOW, "note": CYAN}


def wanted(stream: IO[str] | None, environ: Mapping[str, str] | None = None) -> bool:
    """Whether text written to ``stream`` (None: a file) gets colour."""
    env = os.environ if environ is None else environ
    if env.get("NO_COLOR"):
        return False
    if env.get("FORCE_COLOR"):
        return True
    if stream is None or env.get("TERM") == "dumb":
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or unusual stream
        return False


class Palette:
    """Paints the parts of a finding; with ``enabled`` false every method returns its text."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def _paint(self, text: str, *styles: str) -> str:
        return f"{''.join(styles)}{text}{RESET}" if self.enabled and text else text

    def path(self, text: str) -> str:
        return self._paint(text, BOLD)

    def code(self, text: str, severity: str) -> str:
        return self._paint(text, BOLD, SEVERITY_COLORS.get(severity, ""))

    def severity(self, text: str, severity: str) -> str:
        return self._paint(text, SEVERITY_COLORS.get(severity, ""))

    def dim(self, text: str) -> str:
        return self._paint(text, DIM)


PLAIN = Palette(False)
