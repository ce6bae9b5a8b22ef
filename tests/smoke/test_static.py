"""Static facts: imports for the graph and script effects (decided without running code)."""

from __future__ import annotations

import ast
import textwrap

import pytest

from premerge.smoke.static import _ScriptEffects, facts_from_source


def effect(source: str) -> tuple[int, str] | None:
    return facts_from_source(textwrap.dedent(source)).script_effect


@pytest.mark.parametrize("source, line, reason", [
    ("import sys\nname = sys.argv[1]\n", 2, "reads sys.argv"),
    ("from sys import argv\nprint(argv)\n", 2, "reads sys.argv"),
    ("import sys\nsys.exit(1)\n", 2, "calls sys.exit()"),
    ("answer = input('?')\n", 1, "reads standard input"),
    ("import subprocess as sp\nsp.run(['ls'])\n", 2, "runs a subprocess"),
    ("from subprocess import check_call\ncheck_call('ls')\n", 2, "runs a subprocess"),
    ("import os\nos.system('ls')\n", 2, "runs a shell command"),
    ("import socket\ns = socket.socket()\n", 2, "opens a socket"),
    ("import psycopg2\nconn = psycopg2.connect('')\n", 2, "connects to a database"),
    ("import requests\nrequests.get('http://x')\n", 2, "makes a network request"),
    ("class Job:\n    data = input()\n", 2, "reads standard input"),
    ("import click\n@click.command()\ndef cli():\n    pass\ncli()\n", 5,
     "runs the command-line interface cli()"),
])
def test_effects(source: str, line: int, reason: str) -> None:
    found = effect(source)
    assert found is not None and found[0] == line and reason in found[1], found


@pytest.mark.parametrize("source, line, reason", [
    ("open('out.txt', 'w').write('x')\n", 1, "opens a file for writing"),
    ("from pathlib import Path\nPath('x').write_text('y')\n", 2, "writes files"),
    ("import shutil\nshutil.rmtree('build')\n", 2, "deletes a directory tree"),
    ("import sqlite3\nDB = sqlite3.connect('app.db')\n", 2, "opens a database file"),
    ("for f in files:\n    import os\n    os.remove(f)\n", 3, "deletes files"),
])
def test_writes_never_stop_an_import(source: str, line: int, reason: str) -> None:
    """The pristine snapshot takes them (and PM311 reports them): no script effect, even a
    deletion; they are writes, not programs."""
    assert effect(source) is None
    tree = ast.parse(textwrap.dedent(source))
    found = _ScriptEffects(tree, [n for n in ast.walk(tree)
                                  if isinstance(n, (ast.Import, ast.ImportFrom))]
                           ).first_effect(["write"])
    assert found is not None and found[0] == line and reason in found[1], found


@pytest.mark.parametrize("source", [
    "with open('log', mode='a') as f:\n    pass\n",
    "import os\nos.makedirs('logs', exist_ok=True)\n",
    "from pathlib import Path\nPath('logs').mkdir(exist_ok=True)\n",
    "import logging, os\nos.makedirs('logs', exist_ok=True)\n"
    "logging.basicConfig(filename='logs/app.log')\nLOG = open('logs/run.log', 'a')\n",
    "open('lock', 'x').close()\n",
])
def test_creating_files_and_directories_never_stops_an_import(source: str) -> None:
    assert effect(source) is None


@pytest.mark.parametrize("source, reason", [
    ("import os\nos.makedirs('logs')\nimport subprocess\nsubprocess.run(['x'])\n",
     "runs a subprocess"),
    ("while True:\n    poll()\n", "loops forever"),
    ("import os\ndef main():\n    os.makedirs('out')\n    input()\nmain()\n",
     "which reads standard input"),
])
def test_an_unsafe_effect_after_a_write_still_stops_the_import(source: str, reason: str
                                                                ) -> None:
    found = effect(source)
    assert found is not None and reason in found[1], found


@pytest.mark.parametrize("source", [
    "while True:\n    if poll():\n        break\n",
    "while True:\n    for x in y:\n        pass\n    raise SystemExit\n",
    "while False:\n    pass\n",
])
def test_loops_that_end_are_no_effect(source: str) -> None:
    assert effect(source) is None


@pytest.mark.parametrize("source", [
    "import sys\n\ndef main():\n    return sys.argv\n\nif __name__ == '__main__':\n    main()\n",
    "import sys\nif '__main__' == __name__:\n    sys.exit(main())\n",
    "import os\nPATH = os.path.join('a', 'b')\n",
    "data = open('config.json').read()\n",  # reading is not an effect (a failure, if any)
    "import subprocess\n\ndef run():\n    subprocess.run(['ls'])\n",
    "handler = lambda: input()\n",
    "def exit():\n    pass\nexit()\n",  # a local function called exit
    "text = 'a'.replace('a', 'b')\n",
    "import sys\nVERBOSE = False\n",
    # an HTTP session or client built at import sends nothing
    "import requests\nfrom requests.adapters import HTTPAdapter\nS = requests.Session()\n"
    "S.mount('https://', HTTPAdapter(max_retries=2))\n",
    "import httpx\nCLIENT = httpx.Client(timeout=5)\n",
])
def test_no_effect(source: str) -> None:
    assert effect(source) is None


def test_followed_call_reports_the_inner_reason() -> None:
    found = effect("""\
        import sys

        def helper():
            return sys.argv[1:]

        def main():
            helper()

        main()
        """)
    assert found == (9, "calls main(), which calls helper(), which reads sys.argv (line 4) "
                        "(line 7)")


def test_recursive_local_calls_terminate() -> None:
    assert effect("def a():\n    b()\n\ndef b():\n    a()\n\na()\n") is None


def test_imports_with_flags() -> None:
    facts = facts_from_source(textwrap.dedent("""\
        import os, a.b as ab
        from . import sibling
        from ..up import thing
        from typing import TYPE_CHECKING
        if TYPE_CHECKING:
            import only_for_types

        def f():
            import inside
        """))
    got = [(i.module, i.level, i.import_time, i.runtime, i.line) for i in facts.imports]
    assert got == [("os", 0, True, True, 1), ("a.b", 0, True, True, 1),
                   ("", 1, True, True, 2), ("up", 2, True, True, 3),
                   ("typing", 0, True, True, 4), ("only_for_types", 0, True, False, 6),
                   ("inside", 0, False, True, 9)]


def test_parse_error_is_recorded_not_raised() -> None:
    facts = facts_from_source("def f(:\n")
    assert facts.parse_error and facts.imports == [] and facts.script_effect is None
