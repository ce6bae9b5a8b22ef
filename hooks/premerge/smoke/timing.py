"""Where a smoke run's time goes: per-module times, the slowest modules, idle import slots.

Used by ``premerge smoke --verbose`` and by ``scripts/bench.py smoke --repo``.
"""

from __future__ import annotations

from collections.abc import Sequence

from premerge.records import FrozenRecord, frozen_init
from premerge.smoke.runner import Outcome


class ModuleTime(FrozenRecord):
    __slots__ = _fields = ("name", "relpath", "wall", "import_seconds", "mode")
    name: str
    relpath: str
    wall: float  # from the child's start (fork or exec) to premerge collecting its result
    import_seconds: float | None  # the import alone, measured in the child
    mode: str  # "warm" (forked) or "fresh"

    def __init__(self, name: str, relpath: str, wall: float, import_seconds: float | None,
                 mode: str) -> None:
        frozen_init(self, name, relpath, wall, import_seconds, mode)


class RunTimes(FrozenRecord):
    __slots__ = _fields = ("modules", "span", "busy", "idle", "jobs")
    modules: tuple[ModuleTime, ...]
    span: float  # first child start to last result
    busy: float  # the children's wall times, summed
    idle: float  # import slots left empty during the span: jobs * span - busy
    jobs: int

    def __init__(self, modules: tuple[ModuleTime, ...], span: float, busy: float, idle: float,
                 jobs: int) -> None:
        frozen_init(self, modules, span, busy, idle, jobs)

    def slowest(self, count: int = 5) -> list[ModuleTime]:
        return sorted(self.modules, key=lambda m: m.wall, reverse=True)[:count]


def run_times(outcomes: Sequence[Outcome], jobs: int) -> RunTimes:
    modules = []
    for outcome in outcomes:
        seconds = (outcome.result or {}).get("seconds")
        wall = max(0.0, (outcome.ended - outcome.started) / 1e9) if outcome.started else 0.0
        modules.append(ModuleTime(outcome.module.name, outcome.module.relpath, wall,
                                  float(seconds) if isinstance(seconds, (int, float)) else None,
                                  outcome.mode))
    starts = [o.started for o in outcomes if o.started]
    ends = [o.ended for o in outcomes if o.ended]
    span = (max(ends) - min(starts)) / 1e9 if starts and ends else 0.0
    busy = sum(m.wall for m in modules)
    return RunTimes(tuple(modules), span, busy, max(0.0, jobs * span - busy), jobs)


def verbose_lines(times: RunTimes, slowest: int = 5) -> list[str]:
    """One line per module (wall time, import time in the child), then the slowest."""
    lines = ["smoke: per-module times (wall s / import s in the child):"]
    for item in sorted(times.modules, key=lambda m: m.relpath):
        seconds = f"{item.import_seconds:.3f}" if item.import_seconds is not None else "-"
        fresh = "  (fresh process)" if item.mode == "fresh" else ""
        lines.append(f"  {item.wall:7.3f} {seconds:>7}  {item.name}  {item.relpath}{fresh}")
    lines.append(f"smoke: {len(times.modules)} modules in {times.span:.2f} s, {times.jobs} at a "
                 f"time; import slots idle {times.idle:.2f} s")
    lines.append("smoke: slowest: " + ", ".join(f"{m.name} {m.wall:.2f} s"
                                                for m in times.slowest(slowest)))
    return lines
