"""A small simulated GitHub runner for composite actions: enough to run action.yml for real.

It reads ``action.yml``, fills ``inputs`` from their defaults and the ``with:`` mapping,
evaluates the ``${{ context.path }}`` expressions the runner would (only plain look-ups are
supported: anything fancier fails the test, which keeps action.yml simple), and runs each
``run:`` step with ``bash --noprofile --norc -eo pipefail`` (what ``shell: bash`` means), its
``env:`` mapping, a fresh ``$GITHUB_OUTPUT`` per step and the job's ``$GITHUB_STEP_SUMMARY``.
Step outputs feed ``steps.<id>.outputs``; the action's outputs are evaluated at the end.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

EXPRESSION = re.compile(r"\$\{\{\s*(?P<body>.*?)\s*\}\}")
PLAIN_LOOKUP = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z_][A-Za-z0-9_-]*)*$")
WORKFLOW_COMMAND = re.compile(r"^::(?P<kind>[a-z-]+)(?: (?P<props>[^:]*))?::(?P<data>.*)$")


def load_action(action_dir: Path) -> dict[str, Any]:
    data = yaml.safe_load((action_dir / "action.yml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def evaluate(template: str, contexts: Mapping[str, Any]) -> str:
    """Substitute ``${{ a.b.c }}`` look-ups; a missing value is '' (as on GitHub)."""

    def lookup(match: re.Match[str]) -> str:
        body = match["body"]
        assert PLAIN_LOOKUP.match(body), f"unsupported expression in action.yml: {body!r}"
        value: Any = contexts
        for part in body.split("."):
            value = value.get(part, "") if isinstance(value, Mapping) else ""
        if isinstance(value, bool):
            return "true" if value else "false"
        return "" if value is None else str(value)

    return EXPRESSION.sub(lookup, template)


def parse_output_file(path: Path) -> dict[str, str]:
    """``$GITHUB_OUTPUT`` / ``$GITHUB_ENV`` syntax: ``k=v`` lines and ``k<<DELIM`` blocks."""
    if not path.exists():
        return {}
    lines = path.read_text(encoding="utf-8").splitlines()
    out: dict[str, str] = {}
    i = 0
    while i < len(lines):
        line = lines[i]
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            end = lines.index(delimiter, i + 1)
            out[name] = "\n".join(lines[i + 1:end])
            i = end + 1
            continue
        if line:
            name, _, value = line.partition("=")
            out[name] = value
        i += 1
    return out


def unescape_data(text: str) -> str:
    return text.replace("%0A", "\n").replace("%0D", "\r").replace("%25", "%")


def unescape_property(text: str) -> str:
    return unescape_data(text.replace("%3A", ":").replace("%2C", ","))


@dataclass
class Annotation:
    kind: str
    properties: dict[str, str]
    message: str


def annotations(stdout: str) -> list[Annotation]:
    found = []
    for line in stdout.splitlines():
        match = WORKFLOW_COMMAND.match(line)
        if not match or match["kind"] not in ("error", "warning", "notice"):
            continue
        props: dict[str, str] = {}
        for pair in filter(None, (match["props"] or "").split(",")):
            key, _, value = pair.partition("=")
            props[key] = unescape_property(value)
        found.append(Annotation(match["kind"], props, unescape_data(match["data"])))
    return found


@dataclass
class StepResult:
    id: str
    returncode: int
    stdout: str
    stderr: str
    outputs: dict[str, str]


@dataclass
class ActionRun:
    steps: list[StepResult] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)
    summary: str = ""

    @property
    def returncode(self) -> int:
        return next((s.returncode for s in self.steps if s.returncode != 0), 0)

    @property
    def stdout(self) -> str:
        return "".join(s.stdout for s in self.steps)

    @property
    def stderr(self) -> str:
        return "".join(s.stderr for s in self.steps)

    @property
    def annotations(self) -> list[Annotation]:
        return annotations(self.stdout)


@dataclass
class SimulatedRunner:
    """One job on a runner: a workspace, a temp dir, an event."""

    action_dir: Path
    workspace: Path
    temp: Path
    event_name: str
    event_path: Path
    base_env: Mapping[str, str] = field(default_factory=dict)
    #: step id -> outputs of a step already run (the install step is run once per module)
    done_steps: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def env(self) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items()
               if not key.startswith(("GITHUB_", "INPUT_", "RUNNER_")) and key != "VIRTUAL_ENV"}
        env.update(self.base_env)
        env.update({
            "CI": "true",
            "GITHUB_ACTIONS": "true",
            "GITHUB_WORKSPACE": str(self.workspace),
            "GITHUB_EVENT_NAME": self.event_name,
            "GITHUB_EVENT_PATH": str(self.event_path),
            "GITHUB_ACTION_PATH": str(self.action_dir),
            "GITHUB_STEP_SUMMARY": str(self.temp / "step_summary"),
            "RUNNER_TEMP": str(self.temp),
        })
        return env

    def run(self, with_inputs: Mapping[str, str] | None = None,
            only: tuple[str, ...] | None = None) -> ActionRun:
        action = load_action(self.action_dir)
        declared = action.get("inputs", {})
        unknown = set(with_inputs or {}) - set(declared)
        assert not unknown, f"inputs not declared in action.yml: {sorted(unknown)}"
        inputs = {name: str(spec.get("default", "")) for name, spec in declared.items()}
        inputs.update(with_inputs or {})
        contexts: dict[str, Any] = {
            "inputs": inputs,
            "github": {"action_path": str(self.action_dir), "workspace": str(self.workspace),
                       "event_name": self.event_name},
            "runner": {"temp": str(self.temp)},
            "steps": {},
        }
        summary_file = self.temp / "step_summary"
        summary_file.write_text("", encoding="utf-8")
        result = ActionRun()
        runs = action["runs"]
        assert runs["using"] == "composite"
        for index, step in enumerate(runs["steps"]):
            step_id = step.get("id", f"__{index}")
            if step_id in self.done_steps:
                contexts["steps"][step_id] = {"outputs": dict(self.done_steps[step_id])}
                continue
            if only is not None and step_id not in only:
                continue
            outcome = self._run_step(step, step_id, contexts)
            result.steps.append(outcome)
            contexts["steps"][step_id] = {"outputs": outcome.outputs}
            if outcome.returncode != 0:
                break
        result.outputs = {name: evaluate(str(spec.get("value", "")), contexts)
                          for name, spec in action.get("outputs", {}).items()}
        result.summary = summary_file.read_text(encoding="utf-8")
        return result

    def _run_step(self, step: Mapping[str, Any], step_id: str,
                  contexts: Mapping[str, Any]) -> StepResult:
        assert "run" in step and step.get("shell") == "bash", step
        script = step["run"]
        assert "${{" not in script, f"template expansion inside run: in step {step_id}"
        env = self.env()
        env.update({key: evaluate(str(value), contexts)
                    for key, value in (step.get("env") or {}).items()})
        output_file = self.temp / f"output_{step_id}"
        output_file.write_text("", encoding="utf-8")
        env["GITHUB_OUTPUT"] = str(output_file)
        script_file = self.temp / f"step_{step_id}.sh"
        script_file.write_text(script, encoding="utf-8")
        proc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail",
                               str(script_file)], cwd=self.workspace, env=env,
                              capture_output=True, text=True, timeout=900,
                              stdin=subprocess.DEVNULL)
        return StepResult(step_id, proc.returncode, proc.stdout, proc.stderr,
                          parse_output_file(output_file))
