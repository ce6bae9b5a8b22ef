"""The GitHub Action's run step: map inputs to one ``premerge check`` run.

Runs under the action's own virtualenv (where premerge is installed).  premerge itself runs as
one subprocess (``--format github --sarif FILE --summary $GITHUB_STEP_SUMMARY``), so annotations
stream straight to the log and smoke runs once; this module only decides and reports.

Inputs arrive ONLY as environment variables (``INPUT_CHECKS`` ...), set by ``env:`` in
action.yml: never by template expansion inside ``run:``, which would let a branch name or an
input inject shell.  What this step decides:

* the base: ``base-ref`` if given, else the event's (``pull_request[_target]``: the base commit;
  ``merge_group``: its base commit; ``push``: the commit before the push), checked to exist in
  the clone (a shallow checkout lacks it: the error says to use ``fetch-depth: 0``);
* ``changed-only``: empty means true on pull requests and merge queues, false elsewhere;
* smoke on ``pull_request_target``: refused unless ``allow-untrusted: true``, because that event
  runs with the base repository's secrets and write token, and smoke imports (executes) the
  pull request's code, which on that event may come from any fork.  Refusing skips smoke with
  a ``::warning`` and a line in the job summary; the other checks still run (they never execute
  project code), so a fork cannot turn the refusal into a red or green build on its own;
* outputs: ``findings`` (count in the SARIF) and ``sarif-file`` (absolute path);
* exit code: premerge's (0 clean, 1 findings at or above ``fail-on``, 2 error).

Both this step (action.yml) and premerge start as ``python -I``: the workspace is the pull
request's code, and nothing in it may be importable into either process.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

KNOWN_CHECKS = ("scope", "files", "smoke")
FAIL_ON = ("error", "warning", "never")
#: events whose "changes" are a pull request's (changed-only defaults to true on them)
PULL_REQUEST_EVENTS = ("pull_request", "pull_request_target", "merge_group")
UNTRUSTED_EVENTS = ("pull_request_target",)
NULL_SHA = "0" * 40

SMOKE_REFUSED = (
    "smoke was not run: on pull_request_target the workflow has the base repository's secrets "
    "and a write token, and smoke imports (executes) the pull request's code, which may come "
    "from any fork. Run smoke on pull_request instead, or set allow-untrusted: true only if "
    "every pull request comes from trusted authors."
)


class ActionError(Exception):
    """A problem with the inputs or the checkout; one line, shown as an ::error annotation."""


@dataclass
class Inputs:
    checks: list[str]
    paths: list[str] = field(default_factory=list)
    config: str = ""
    python: str = ""
    base_ref: str = ""
    changed_only: bool | None = None  # None: decided by the event
    sarif_file: str = ""
    fail_on: str = "error"
    allow_untrusted: bool = False


def _boolean(name: str, text: str) -> bool | None:
    value = text.strip().lower()
    if value == "":
        return None
    if value in ("true", "yes", "1", "on"):
        return True
    if value in ("false", "no", "0", "off"):
        return False
    raise ActionError(f"input {name} must be true or false, got {text!r}")


def read_inputs(env: Mapping[str, str]) -> Inputs:
    """Validate the ``INPUT_*`` variables (names as in action.yml, upper-cased, ``-`` -> ``_``)."""
    raw_checks = env.get("INPUT_CHECKS", "").strip() or ",".join(KNOWN_CHECKS)
    checks = [c.strip() for c in raw_checks.replace("\n", ",").split(",") if c.strip()]
    unknown = [c for c in checks if c not in KNOWN_CHECKS]
    if unknown or not checks:
        raise ActionError(f"input checks: unknown check {', '.join(unknown) or '(none)'}; "
                          f"choose from {', '.join(KNOWN_CHECKS)}")
    fail_on = env.get("INPUT_FAIL_ON", "").strip().lower() or "error"
    if fail_on not in FAIL_ON:
        raise ActionError(f"input fail-on must be one of {', '.join(FAIL_ON)}, got {fail_on!r}")
    try:
        paths = shlex.split(env.get("INPUT_PATHS", ""))
    except ValueError as exc:
        raise ActionError(f"input paths: {exc}") from None
    return Inputs(
        checks=list(dict.fromkeys(checks)),
        paths=paths,
        config=env.get("INPUT_CONFIG", "").strip(),
        python=env.get("INPUT_PYTHON", "").strip(),
        base_ref=env.get("INPUT_BASE_REF", "").strip(),
        changed_only=_boolean("changed-only", env.get("INPUT_CHANGED_ONLY", "")),
        sarif_file=env.get("INPUT_SARIF_FILE", "").strip(),
        fail_on=fail_on,
        allow_untrusted=bool(_boolean("allow-untrusted", env.get("INPUT_ALLOW_UNTRUSTED", ""))),
    )


def read_event(env: Mapping[str, str]) -> dict[str, object]:
    path = env.get("GITHUB_EVENT_PATH", "")
    if not path:
        return {}
    try:
        with open(path, encoding="utf-8") as handle:
            event = json.load(handle)
    except (OSError, ValueError) as exc:
        raise ActionError(f"cannot read the event payload {path}: {exc}") from None
    return event if isinstance(event, dict) else {}


def _dig(data: object, *keys: str) -> str:
    for key in keys:
        if not isinstance(data, dict):
            return ""
        data = data.get(key)
    return data if isinstance(data, str) else ""


def event_base(event_name: str, event: Mapping[str, object]) -> tuple[str, str]:
    """(commit or ref to diff against, how it was found) from the event payload; ("", "")."""
    if event_name in ("pull_request", "pull_request_target"):
        sha = _dig(event, "pull_request", "base", "sha")
        if sha:
            return sha, "the pull request's base commit"
        ref = _dig(event, "pull_request", "base", "ref")
        if ref:
            return f"origin/{ref}", "the pull request's base branch"
    if event_name == "merge_group":
        sha = _dig(event, "merge_group", "base_sha")
        if sha:
            return sha, "the merge group's base commit"
    if event_name == "push":
        sha = _dig(event, "before")
        if sha and sha != NULL_SHA:
            return sha, "the commit before the push"
    return "", ""


def _git_has_commit(workspace: Path, ref: str) -> bool:
    """Through premerge's one git door (the checkout's config runs no program)."""
    from premerge.repo import GitError, run_git  # noqa: PLC0415 - the action's venv

    try:
        run_git(workspace, "rev-parse", "--verify", "--quiet", "--end-of-options",
                f"{ref}^{{commit}}")
    except GitError:
        return False
    return True


@dataclass
class Plan:
    """What the run step will do, decided before anything runs (and tested on its own)."""

    command: list[str]
    checks: list[str]
    sarif_file: Path
    base: str = ""
    base_origin: str = ""
    warnings: list[str] = field(default_factory=list)
    summary_lines: list[str] = field(default_factory=list)


def plan(inputs: Inputs, env: Mapping[str, str], python: str = sys.executable) -> Plan:
    workspace = Path(env.get("GITHUB_WORKSPACE") or os.getcwd())
    event_name = env.get("GITHUB_EVENT_NAME", "")
    checks = list(inputs.checks)
    warnings: list[str] = []
    summary: list[str] = []
    if "smoke" in checks and event_name in UNTRUSTED_EVENTS and not inputs.allow_untrusted:
        checks.remove("smoke")
        warnings.append(SMOKE_REFUSED)
        summary.append(f"> [!WARNING]\n> {SMOKE_REFUSED}")

    changed = inputs.changed_only
    if changed is None:
        changed = event_name in PULL_REQUEST_EVENTS
    base, origin = inputs.base_ref, "the base-ref input"
    if changed and not base:
        base, origin = event_base(event_name, read_event(env))
        if not base:
            if inputs.changed_only:
                raise ActionError(f"changed-only is true but the {event_name or 'unknown'} "
                                  "event names no base: set base-ref")
            warnings.append(f"no base to compare with on the {event_name} event: checking "
                            "everything")
            changed = False
    if changed and base.startswith("-"):
        raise ActionError(f"{origin} {base!r} is not a commit or ref (it starts with '-')")
    if changed and not _git_has_commit(workspace, base):
        raise ActionError(
            f"{origin} {base} is not in this clone, so premerge cannot tell what changed: "
            "check out with actions/checkout's fetch-depth: 0 (or fetch the base), or set "
            "changed-only: false")

    sarif = Path(inputs.sarif_file or Path(env.get("RUNNER_TEMP") or workspace) / "premerge"
                 / "premerge.sarif")
    if not sarif.is_absolute():
        sarif = workspace / sarif
    # -I: the checkout (the working directory), PYTHONPATH and user site-packages are not on
    # premerge's sys.path, so a pull request's premerge/, yaml.py or sitecustomize.py never
    # runs inside premerge with the job's environment
    command = [python, "-I", "-m", "premerge", "check", "--checks", ",".join(checks),
               "--format", "github", f"--sarif={sarif}", "--fail-on", inputs.fail_on]
    # NAME=VALUE forms: a value starting with '-' stays a value
    if inputs.config:
        command.append(f"--config={inputs.config}")
    if inputs.python and "smoke" in checks:
        command.append(f"--python={inputs.python}")
    if env.get("GITHUB_STEP_SUMMARY"):
        command.append(f"--summary={env['GITHUB_STEP_SUMMARY']}")
    if changed:
        command += ["--changed", f"--base={base}"]
        shown = base[:12] if re.fullmatch(r"[0-9a-f]{40}", base) else base
        summary.append(f"Checked what changed since {origin} (`{shown.replace('`', '')}`).")
    if inputs.paths:
        command += ["--", *inputs.paths]
    return Plan(command=command, checks=checks, sarif_file=sarif, base=base if changed else "",
                base_origin=origin if changed else "", warnings=warnings, summary_lines=summary)


# ---------------------------------------------------------------------------------------------
# workflow commands and files


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def annotate(kind: str, message: str, title: str = "premerge") -> None:
    print(f"::{kind} title={title}::{escape_data(message)}", flush=True)


def set_output(env: Mapping[str, str], name: str, value: str) -> None:
    """Append ``name`` to ``$GITHUB_OUTPUT`` (heredoc form, safe for any value)."""
    target = env.get("GITHUB_OUTPUT")
    if not target:
        return
    delimiter = f"premerge_{uuid.uuid4().hex}"
    with open(target, "a", encoding="utf-8") as handle:
        handle.write(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")


def append_summary(env: Mapping[str, str], lines: Sequence[str]) -> None:
    target = env.get("GITHUB_STEP_SUMMARY")
    if not target or not lines:
        return
    with open(target, "a", encoding="utf-8") as handle:
        handle.write("\n\n".join(lines) + "\n\n")


def count_results(sarif: Path) -> int | None:
    try:
        data = json.loads(sarif.read_text(encoding="utf-8"))
        return sum(len(run.get("results", [])) for run in data.get("runs", []))
    except (OSError, ValueError, AttributeError, TypeError):
        return None


def _child_env(env: Mapping[str, str]) -> dict[str, str]:
    """premerge's environment: the workflow's, minus this action's own virtualenv so smoke's
    default interpreter is the workflow's Python, not the one premerge is installed in."""
    child = dict(env)
    own_venv = str(Path(sys.prefix))
    if child.get("VIRTUAL_ENV") == own_venv:
        child.pop("VIRTUAL_ENV")
    child["PATH"] = os.pathsep.join(p for p in child.get("PATH", "").split(os.pathsep)
                                    if not p.startswith(own_venv + os.sep))
    return child


def _write_empty_sarif(sarif: Path, env: Mapping[str, str]) -> None:
    """A valid SARIF with no results, so a following upload-sarif step still succeeds."""
    from premerge.report import ReportContext, render  # noqa: PLC0415 - the action's venv

    root = Path(env.get("GITHUB_WORKSPACE") or os.getcwd()).as_posix()
    sarif.write_text(render("sarif", [], ReportContext(root=root, cwd=root)), encoding="utf-8")


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    env = dict(os.environ if env is None else env)
    try:
        inputs = read_inputs(env)
        run = plan(inputs, env)
    except ActionError as exc:
        annotate("error", str(exc))
        append_summary(env, [f"### ❌ premerge did not run\n\n{exc}"])
        return 2
    for warning in run.warnings:
        annotate("warning", warning)
    append_summary(env, run.summary_lines)
    run.sarif_file.parent.mkdir(parents=True, exist_ok=True)
    set_output(env, "sarif-file", str(run.sarif_file))
    if not run.checks:  # only smoke was asked for, and it was refused
        _write_empty_sarif(run.sarif_file, env)
        set_output(env, "findings", "0")
        return 0
    print(f"premerge: {shlex.join(run.command[1:])}", file=sys.stderr, flush=True)
    proc = subprocess.run(run.command, env=_child_env(env), stdin=subprocess.DEVNULL,
                          cwd=env.get("GITHUB_WORKSPACE") or None, check=False,
                          stderr=subprocess.PIPE, text=True, errors="replace")
    sys.stderr.write(proc.stderr)
    count = count_results(run.sarif_file) if proc.returncode in (0, 1) else None
    set_output(env, "findings", "" if count is None else str(count))
    if proc.returncode not in (0, 1):
        last = proc.stderr.strip().splitlines()[-1:] or [f"exit code {proc.returncode}"]
        annotate("error", last[0])
        append_summary(env, [f"### ❌ premerge failed\n\n`{last[0].replace('`', chr(39))}`"])
        return 2
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
