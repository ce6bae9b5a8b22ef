"""PM112: a name imported from a first-party module that does not define it (issue 11 item 8).

Reported only where the module is in the repository and its module-level names are statically
known; each verdict is confirmed by running the code in a fresh interpreter (the
``test_verdicts`` discipline): the buggy ones raise ImportError, the clean twins run.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.scope.helpers import execute, last_error, scope_findings, write_module

JOBS = "class JobRunner:\n    pass\n"

#: (id, {file: source}, code run, expected PM112 (file, line, name), error raised)
CASES = [
    ("renamed-class", {"jobs.py": JOBS, "user.py": "from jobs import Runner\n"},
     "import user", [("user.py", 1, "Runner")], "ImportError"),
    ("inside-a-function", {"jobs.py": JOBS, "user.py": (
        "def go():\n    from jobs import JobRunner, Runner\n    return Runner\n")},
     "import user; user.go()", [("user.py", 2, "Runner")], "ImportError"),
    ("relative-in-a-package", {"pkg/__init__.py": "", "pkg/jobs.py": JOBS,
                               "pkg/user.py": "from .jobs import Runner\n"},
     "import pkg.user", [("pkg/user.py", 1, "Runner")], "ImportError"),
    # clean twins
    ("defined-in-a-branch", {"jobs.py": "import sys\nif sys.platform == 'x':\n    Runner = 1\n"
                                        "else:\n    Runner = 2\n",
                             "user.py": "from jobs import Runner\n"}, "import user", [], None),
    ("star-import-in-the-module", {"jobs.py": "from os.path import *\n",
                                   "user.py": "from jobs import join\n"}, "import user", [], None),
    ("module-getattr", {"jobs.py": "def __getattr__(name):\n    return name\n",
                        "user.py": "from jobs import Runner\n"}, "import user", [], None),
    ("globals-write", {"jobs.py": "globals()['Run' + 'ner'] = 1\n",
                       "user.py": "from jobs import Runner\n"}, "import user", [], None),
    ("global-in-a-function", {"jobs.py": "def setup():\n    global Run\n    Run = 1\nsetup()\n",
                              "user.py": "from jobs import Run\n"}, "import user", [], None),
    ("submodule", {"pkg/__init__.py": "", "pkg/sub.py": "X = 1\n",
                   "user.py": "from pkg import sub\n"}, "import user", [], None),
    ("except-import-error", {"jobs.py": JOBS, "user.py": (
        "try:\n    from jobs import Runner\nexcept ImportError:\n    Runner = None\n")},
     "import user", [], None),
    ("type-checking-only", {"jobs.py": JOBS, "user.py": (
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from jobs import Runner\n")},
     "import user", [], None),
    ("module-dunder", {"jobs.py": JOBS, "user.py": "from jobs import __file__ as where\n"},
     "import user", [], None),
]


@pytest.mark.parametrize("files, code, expected, error",
                         [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_first_party_name_verdict_matches_python(tmp_path: Path, files: dict[str, str],
                                                 code: str, expected: list[tuple[str, int, str]],
                                                 error: str | None) -> None:
    for name, source in files.items():
        write_module(tmp_path, source, name)
    findings = [f for f in scope_findings(tmp_path) if f.code.startswith("PM1")]
    assert [(Path(f.path).relative_to(tmp_path).as_posix(), f.line, f.name)
            for f in findings if f.code == "PM112"] == expected, findings
    assert [f.code for f in findings if f.code != "PM112"] == []
    assert last_error(execute(tmp_path, code, "-S")) == error


def test_message_names_where_the_module_is(tmp_path: Path) -> None:
    write_module(tmp_path / "app", JOBS, "jobs.py")
    write_module(tmp_path / "app", "", "__init__.py")
    write_module(tmp_path, "from app.jobs import Runner\n", "user.py")
    [finding] = [f for f in scope_findings(tmp_path) if f.code == "PM112"]
    assert "'Runner'" in finding.message and "app/jobs.py" in finding.message
    assert finding.severity.value == "error"


def test_cached_run_follows_a_change_to_the_imported_module(tmp_path: Path) -> None:
    """Only user.py is checked; jobs.py is read for PM112, so changing it drops the answer the
    cache kept for the run."""
    jobs = write_module(tmp_path, JOBS, "jobs.py")
    user = write_module(tmp_path, "from jobs import Runner\n", "user.py")
    first = scope_findings(tmp_path, user, use_cache=True)
    assert [f.code for f in first] == ["PM112"]
    jobs.write_text(JOBS + "Runner = JobRunner\n", encoding="utf-8")
    assert scope_findings(tmp_path, user, use_cache=True) == []
    assert last_error(execute(tmp_path, "import user", "-S")) is None
