#!/usr/bin/env python3
"""Regenerate README's "What it catches" examples by running premerge on small example repos.

    python scripts/readme_examples.py          # rewrite the block between the markers
    python scripts/readme_examples.py --check  # exit 1 when README is out of date (tests use it)

Each example is a tiny git repository written to a temporary directory; the output shown in
README is what ``premerge`` prints there (smoke imports with a fresh virtualenv's interpreter,
so no package installed here can change it).  Run times and the interpreter's path are the only
parts normalised, since they differ on every machine.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from readme_rules import regenerate, render_block  # noqa: E402  (the same README machinery)

START, END = "<!-- examples:start -->", "<!-- examples:end -->"

SCOPE_FILES = {
    "orch/__init__.py": "",
    "orch/brief.py": "class BriefingSystem:\n    def __init__(self, name=''):\n"
                     "        self.name = name\n",
    "orch/session.py": '''\
        try:
            import yaml
            import tomli_w
        except ImportError:
            pass


        class Orchestrator:
            def setup(self):
                from orch.brief import BriefingSystem
                self.brief = BriefingSystem()

            def start_agent(self, name):
                return BriefingSystem(name)


        def save(state: State, path):
            path.write_text(yaml.safe_dump(state) + tomli_w.dumps(state))


        from orch.state import State
        ''',
    "orch/state.py": "State = dict\n",
}

FILES_FILES = {
    "premerge.yaml": '''\
        version: 1
        required_files:
          - CLAUDE.md
          - path: .claude/commands/*.md
            worktrees: true
        ''',
    "orch/__init__.py": "",
    "orch/provision.py": '''\
        import logging
        import shutil
        from pathlib import Path

        ROOT = Path(__file__).resolve().parents[1]
        log = logging.getLogger(__name__)


        def provision(worktree):
            try:
                shutil.copy(ROOT / "CLAUDE.md", Path(worktree) / "CLAUDE.md")
            except OSError as exc:
                log.warning("could not copy the briefing: %s", exc)
            return (ROOT / "templates" / "reviewer.md").read_text()
        ''',
    "templates/reviewer.md": "You review pull requests.\n",
}

SMOKE_FILES = {
    "agent/__init__.py": "",
    "agent/model.py": "import torch\n\nDEVICE = 'cpu'\n",
    **{f"agent/{name}.py": "from agent.model import DEVICE\n"
       for name in ("act", "critic", "memory", "plan", "retrieve", "review", "route", "summarise",
                    "tools")},
    "agent/config.py": 'SETTINGS = open("settings.toml").read()\n',
    "agent/toolbox.py": '''\
        class Toolbox:
            def setup(self):
                import json
                self.ready = True

            def dump(self, obj):
                return json.dumps(obj)
        ''',
}

#: the founding bugs: a class imported inside one method and used in another; the agents'
#: briefing declared in premerge.yaml but missing
FOUNDING_FILES = {
    "premerge.yaml": "version: 1\nrequired_files:\n  - CLAUDE.md\n",
    "orch/__init__.py": "",
    "orch/claude/__init__.py": "",
    "orch/claude/briefing.py": "class BriefingSystem:\n    def __init__(self, name):\n"
                               "        self.name = name\n",
    "orch/claude/session.py": '''\
        """Agent sessions."""


        class Orchestrator:
            def __init__(self):
                self.agents = []

            def run(self, names):
                from orch.claude.briefing import BriefingSystem

                self.agents = [BriefingSystem(name) for name in names]

            def start_agent(self, name):
                return BriefingSystem(name)
        ''',
}
FOUNDING_START, FOUNDING_END = "<!-- founding:start -->", "<!-- founding:end -->"

#: (title, intro, files, files shown, command)
EXAMPLES = (
    ("`premerge scope`: names that are unbound on some path (static, runs nothing)",
     "A class imported inside one method and used in another, optional imports used "
     "unguarded, an annotation evaluated before its import:",
     SCOPE_FILES, ("orch/session.py",), ("scope",)),
    ("`premerge files`: the files the code and the agents need",
     "A manifest that requires the agents' briefing and commands, and code that copies the "
     "briefing but only logs when that fails:",
     FILES_FILES, ("premerge.yaml", "orch/provision.py"), ("files",)),
    ("`premerge smoke`: every module imported first, in a fresh interpreter",
     "One missing heavy dependency that stops every module importing it, a file read at "
     "import, a name imported in another method (each module: `from agent.model import "
     "DEVICE`; `agent/model.py`: `import torch`):",
     SMOKE_FILES, ("agent/config.py", "agent/toolbox.py"), ("smoke",)),
)

_SECONDS = re.compile(r"\d+\.\d\ds\b")
_INTERPRETER = re.compile(r"not installed for \S+ \(Python [\d.]+\)")


def normalise(text: str) -> str:
    """What differs between machines: run times, the interpreter's path and version, and
    smoke's notes on how it ran (a loaded machine may fall back to one process per module)."""
    text = _SECONDS.sub("0.50s", text)
    text = _INTERPRETER.sub("not installed for .venv/bin/python (Python 3.12.3)", text)
    return "".join(line for line in text.splitlines(keepends=True)
                   if not line.startswith("premerge: smoke: "))


def _git(cwd: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "example", "GIT_AUTHOR_EMAIL": "e@example.invalid",
           "GIT_COMMITTER_NAME": "example", "GIT_COMMITTER_EMAIL": "e@example.invalid",
           "GIT_CONFIG_NOSYSTEM": "1"}
    subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True)


def run_example(files: Mapping[str, str], command: Sequence[str], python: str,
                workdir: Path) -> str:
    """premerge's text output (stdout, then stderr) on a fresh repository holding ``files``."""
    workdir.mkdir()
    for rel, content in files.items():
        target = workdir / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(content), encoding="utf-8")
    _git(workdir, "init", "-q", "-b", "main")
    _git(workdir, "add", "-A")
    _git(workdir, "commit", "-q", "-m", "example")
    extra = ["--python", python] if command[0] in ("smoke", "check") else []
    env = {key: value for key, value in os.environ.items()
           if key not in ("NO_COLOR", "FORCE_COLOR", "VIRTUAL_ENV", "PREMERGE_DEBUG")}
    proc = subprocess.run([sys.executable, "-m", "premerge", *command, "--no-cache", *extra],
                          cwd=workdir, capture_output=True, text=True, env=env, timeout=300,
                          stdin=subprocess.DEVNULL, check=False)
    return normalise(proc.stdout + proc.stderr)


def examples() -> str:
    """The Markdown between the markers."""
    out: list[str] = []
    with tempfile.TemporaryDirectory(prefix="premerge-examples-") as tmp:
        venv = Path(tmp) / "venv"
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
        python = str(venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python"))
        for index, (title, intro, files, shown, command) in enumerate(EXAMPLES):
            output = run_example(files, command, python, Path(tmp) / f"example{index}")
            out += [f"### {title}", "", intro, ""]
            for rel in shown:
                language = "yaml" if rel.endswith(".yaml") else "python"
                out += [f"```{language}", f"# {rel}", textwrap.dedent(files[rel]).rstrip(),
                        "```", ""]
            out += ["```console", f"$ premerge {' '.join(command)}", output.rstrip(), "```", ""]
    return "\n".join(out).rstrip()


def founding() -> str:
    """The console block of README's "Using it": ``premerge check`` on the founding bugs."""
    with tempfile.TemporaryDirectory(prefix="premerge-examples-") as tmp:
        output = run_example(FOUNDING_FILES, ("check",), sys.executable, Path(tmp) / "repo")
    return "\n".join(["```console", "$ premerge check", output.rstrip(), "```"])


def render(readme: str) -> str:
    readme = render_block(readme, FOUNDING_START, FOUNDING_END, founding())
    return render_block(readme, START, END, examples())


def main(argv: Sequence[str] | None = None) -> int:
    return regenerate(render, "examples", "readme_examples.py", argv)


if __name__ == "__main__":
    raise SystemExit(main())
