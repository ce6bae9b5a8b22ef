"""premerge: stop, before merge, the Python failures that only show when code runs."""

from __future__ import annotations

__version__ = "0.1.0"
