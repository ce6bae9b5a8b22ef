"""Shared pieces of the attack replays: a marker program, the real Action script."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest

from tests.conftest import GIT_ENV, ROOT

linux_only = pytest.mark.skipif(sys.platform != "linux",
                                reason="the attack uses /dev, FIFOs or POSIX shell payloads "
                                       "as on a Linux runner")


def marker_command(marker: Path, label: str) -> str:
    """A shell command that records its run in ``marker`` and passes its input through (so a
    filter or textconv that is not stopped still works and the run goes on)."""
    return f"echo {label} >> {shlex.quote(str(marker))}; cat"


def action_script(workspace: Path, tmp_path: Path, event_name: str,
                  payload: Mapping[str, object], inputs: Mapping[str, str],
                  extra_env: Mapping[str, str] | None = None,
                  python: str = sys.executable) -> subprocess.CompletedProcess[str]:
    """Run ``action/premerge_action.py`` as action.yml's run step does: the step's own
    interpreter, the workspace as working directory, inputs only as ``INPUT_*`` variables."""
    temp = tmp_path / "runner-temp"
    temp.mkdir(exist_ok=True)
    event = temp / "event.json"
    event.write_text(json.dumps(payload), encoding="utf-8")
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("GITHUB_", "INPUT_", "RUNNER_"))}
    env.update(GIT_ENV)
    env.update({"CI": "true", "GITHUB_ACTIONS": "true", "GITHUB_WORKSPACE": str(workspace),
                "GITHUB_EVENT_NAME": event_name, "GITHUB_EVENT_PATH": str(event),
                "GITHUB_OUTPUT": str(temp / "output"),
                "GITHUB_STEP_SUMMARY": str(temp / "summary"), "RUNNER_TEMP": str(temp)})
    env.update({f"INPUT_{name.upper().replace('-', '_')}": value
                for name, value in inputs.items()})
    env.update(extra_env or {})
    command = _run_step_command(python)
    return subprocess.run(command, cwd=workspace, env=env, capture_output=True, text=True,
                          timeout=300, stdin=subprocess.DEVNULL)


def _run_step_command(python: str) -> list[str]:
    """action.yml's ``Run premerge`` step, its ``$PREMERGE_PYTHON`` and action path filled in."""
    import yaml

    action = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    (step,) = [s for s in action["runs"]["steps"] if s.get("id") == "run"]
    line = step["run"].replace("$PREMERGE_PYTHON", python)
    line = line.replace("$PREMERGE_ACTION_PATH", str(ROOT))
    return shlex.split(line)
