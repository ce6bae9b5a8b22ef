#!/usr/bin/env python3
"""Generate an orchestrator-shaped test corpus for ``bench.py smoke --repo`` (reproducible).

    python scripts/smoke_corpus.py DIR [--modules 160] [--llm] [--seed 12]

Writes a git repository at DIR shaped like the multi-agent orchestrator of issue 12: a package
``agentcorp`` (core, agents, tools, services, adapters, storage) whose modules import real
third-party packages at module level -- rich, pydantic, psutil, GitPython, requests (and with
``--llm`` litellm and openai, heavy dependencies of the LLM projects smoke is for) -- and each
other in first-party chains; a central ``agentcorp/core/scheduler.py`` that configures its log
file at import and that half the package imports; scripts under ``scripts/`` and agent hooks
under ``.claude/hooks/``; a git-ignored ``build/`` copy of the package.  Module bodies define
pydantic models, rich consoles, functions and classes, so the import does real work and the
runtime global check has code to read.

Install the dependencies into the project's own virtualenv, e.g.::

    python -m venv /work/venvs/corpus
    /work/venvs/corpus/bin/pip install rich pydantic psutil GitPython requests litellm

With ``--llm`` the corpus passes ``LITELLM_LOCAL_MODEL_COST_MAP`` to imported code
(``smoke.env``): set it to ``True`` to keep litellm from fetching its cost map over the network
at import (offline, it retries for ~10 s).  Nothing is random at run time: the same seed
writes the same bytes.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from benchlib import service_lines

GROUPS = ("core", "agents", "tools", "services", "adapters", "storage")
STDLIB = ("json", "os", "re", "dataclasses", "typing", "pathlib", "collections", "functools",
          "logging", "itertools", "enum", "datetime", "textwrap", "hashlib", "asyncio",
          "threading", "uuid", "time")
#: module-level uses of each third-party package: (import line, a statement that uses it)
THIRD_PARTY = {
    "rich": ("from rich.console import Console\nfrom rich.table import Table",
             "CONSOLE = Console(stderr=True, highlight=False)"),
    "pydantic": ("from pydantic import BaseModel, Field",
                 "class {cls}Config(BaseModel):\n    name: str = Field(default='{mod}')\n"
                 "    retries: int = 3\n    tags: list[str] = []"),
    "psutil": ("import psutil", "CPU_COUNT = psutil.cpu_count(logical=True) or 1"),
    "git": ("import git", "GIT_VERSION = git.__version__"),
    "requests": ("import requests\nfrom requests.adapters import HTTPAdapter",
                 "SESSION = requests.Session()\nSESSION.mount('https://', HTTPAdapter("
                 "max_retries=2))"),
}
LLM = {
    "litellm": ("import litellm", "LITELLM_MODELS = len(getattr(litellm, 'model_list', []))"),
    "openai": ("from openai import OpenAI", "CLIENT_CLASS = OpenAI"),
}

SCHEDULER = '''\
"""The central scheduler: configures its log file at import, as the real one does."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from pydantic import BaseModel
from rich.console import Console

LOG_DIR = Path(__file__).resolve().parents[2] / "logs"
os.makedirs(LOG_DIR, exist_ok=True)
logging.basicConfig(filename=str(LOG_DIR / "scheduler.log"), level=logging.INFO)
LOGGER = logging.getLogger("agentcorp.scheduler")
CONSOLE = Console(stderr=True)


class Task(BaseModel):
    name: str
    priority: int = 0


class Scheduler:
    def __init__(self) -> None:
        self.queue: list[Task] = []

    def submit(self, name: str, priority: int = 0) -> Task:
        task = Task(name=name, priority=priority)
        self.queue.append(task)
        LOGGER.info("queued %s", name)
        return task

    def next(self) -> Task | None:
        self.queue.sort(key=lambda t: -t.priority)
        return self.queue.pop(0) if self.queue else None
'''


def _module(rng: random.Random, group: str, index: int, deps: list[str],
            third: dict[str, tuple[str, str]]) -> str:
    mod = f"{group}_{index}"
    cls = "".join(part.title() for part in mod.split("_"))
    lines = ['"""Generated module of the smoke corpus."""', "", "from __future__ import annotations",
             ""]
    lines += [f"import {name}" for name in sorted(rng.sample(STDLIB, 4))]
    chosen = sorted(rng.sample(sorted(third), min(len(third), rng.randint(1, 3))))
    lines += [third[name][0] for name in chosen]
    lines += [f"from agentcorp.{dep} import helper_{dep.rsplit('.', 1)[-1]}" for dep in deps]
    lines += ["", ""]
    for name in chosen:
        lines += [third[name][1].format(cls=cls, mod=mod), ""]
    lines += [
        "",
        f"def helper_{mod}(value: int) -> int:",
        '    """A helper other modules import."""',
        f"    return value * {index + 1}",
        "",
        "",
    ]
    lines += service_lines(f"helper_{mod}", cls, deps)
    return "\n".join(lines).rstrip() + "\n"


def generate(root: Path, modules: int = 160, llm: bool = False, seed: int = 12) -> int:
    """Write the corpus; return the number of Python files smoke will import."""
    rng = random.Random(seed)
    third = {**THIRD_PARTY, **(LLM if llm else {})}
    package = root / "agentcorp"
    for group in GROUPS:
        (package / group).mkdir(parents=True, exist_ok=True)
        (package / group / "__init__.py").write_text("")
    (package / "__init__.py").write_text('"""An orchestrator-shaped corpus."""\n')
    (package / "core" / "scheduler.py").write_text(SCHEDULER)
    names: list[str] = ["core.scheduler"]
    count = 1 + 1 + len(GROUPS)
    for index in range(modules - 12):
        group = GROUPS[index % len(GROUPS)]
        name = f"{group}.{group}_{index}"
        deps = rng.sample(names[-15:], min(len(names[-15:]), rng.randint(0, 2)))
        if index % 2 == 0 and "core.scheduler" not in deps:
            deps.append("core.scheduler")  # half the package imports the scheduler
        source = _module(rng, group, index, [d for d in deps if d != "core.scheduler"], third)
        if "core.scheduler" in deps:
            source += "\n\nfrom agentcorp.core.scheduler import Scheduler  # noqa: E402\n"
        (package / group / f"{group}_{index}.py").write_text(source)
        names.append(name)
        count += 1
    scripts = root / "scripts"
    scripts.mkdir(exist_ok=True)
    (scripts / "script_common.py").write_text("def fmt(value):\n    return str(value)\n")
    count += 1
    for index in range(3):
        (scripts / f"report_{index}.py").write_text(
            "import json\n\nimport script_common\nfrom rich.console import Console\n\n\n"
            "def main():\n    Console().print(json.dumps({'n': script_common.fmt(1)}))\n\n\n"
            'if __name__ == "__main__":\n    main()\n')
        count += 1
    hooks = root / ".claude" / "hooks"
    hooks.mkdir(parents=True, exist_ok=True)
    (hooks / "hook_common.py").write_text("import json\n\n\ndef emit(event):\n"
                                          "    return json.dumps(event)\n")
    for index in range(2):
        (hooks / f"pre_tool_{index}.py").write_text(
            "import sys\n\nimport hook_common\n\n\ndef handle(event):\n"
            "    return hook_common.emit(event)\n\n\n"
            'if __name__ == "__main__":\n    handle({"argv": sys.argv})\n')
    count += 3
    (root / ".gitignore").write_text("build/\nlogs/\n__pycache__/\n")
    build = root / "build" / "lib" / "agentcorp"
    shutil.copytree(package, build)  # what `pip install .` leaves behind: never checked
    (root / "pyproject.toml").write_text('[project]\nname = "agentcorp"\nversion = "0"\n')
    if llm:  # litellm fetches its model cost map over the network at import unless told not to
        (root / "premerge.yaml").write_text(
            'version: 1\nsmoke:\n  env: ["LITELLM_LOCAL_MODEL_COST_MAP"]\n')
    env = {**os.environ, "GIT_AUTHOR_NAME": "corpus", "GIT_AUTHOR_EMAIL": "c@example.invalid",
           "GIT_COMMITTER_NAME": "corpus", "GIT_COMMITTER_EMAIL": "c@example.invalid"}
    subprocess.run(["git", "init", "-q"], cwd=root, check=True, env=env)
    subprocess.run(["git", "add", "-A"], cwd=root, check=True, env=env)
    subprocess.run(["git", "commit", "-qm", "corpus"], cwd=root, check=True, env=env)
    return count


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="smoke_corpus.py", description=__doc__.split("\n")[0])
    parser.add_argument("directory")
    parser.add_argument("--modules", type=int, default=160)
    parser.add_argument("--llm", action="store_true", help="also import litellm and openai")
    parser.add_argument("--seed", type=int, default=12)
    args = parser.parse_args(argv)
    root = Path(args.directory)
    if root.exists() and any(root.iterdir()):
        print(f"smoke_corpus.py: {root} is not empty", file=sys.stderr)
        return 2
    root.mkdir(parents=True, exist_ok=True)
    count = generate(root, args.modules, args.llm, args.seed)
    print(f"{root}: {count} modules")
    return 0


if __name__ == "__main__":
    sys.exit(main())
