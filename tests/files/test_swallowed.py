"""PM210 end to end: a declared file's read/copy/move whose failure a handler swallows.

Every case is a real git repository with a manifest, checked by ``premerge files``, and then
really run with the declared file deleted: a reported case must end with status 0 without
having provisioned the file (the silent success), a clean twin must exit non-zero or provision
the file anyway.  Python has the last word on which is which.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import NamedTuple

import pytest

from premerge.config import RequiredFile
from premerge.files.references import extract
from premerge.files.rules import Declarations
from tests.conftest import run_premerge, run_python
from tests.files.helpers import files_json

HEADER = '''\
import contextlib
import logging
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ROLES = ("developer", "reviewer")
log = logging.getLogger("orch")


class ProvisionError(Exception):
    """Provisioning an agent's worktree failed."""


'''
MAIN = '''

if __name__ == "__main__":
    provision(Path(sys.argv[1]))
'''
#: a manifest declaring CLAUDE.md (worktrees: true) and the role templates
MANIFEST = """\
version: 1
required_files:
  - path: CLAUDE.md
    worktrees: true
  - templates/*.md
"""


class Case(NamedTuple):
    name: str
    body: str  # provision(dest) and whatever it needs
    message: str | None  # PM210's message, None for a clean twin
    main: str = MAIN
    removed: str = "CLAUDE.md"  # deleted before the real run
    manifest: str = MANIFEST

    @property
    def source(self) -> str:
        return HEADER + textwrap.dedent(self.body) + self.main


BUGGY = [
    Case("founding-example", """
        def provision(dest):
            for role in ROLES:
                try:
                    shutil.copy2(ROOT / "CLAUDE.md", dest / role / "CLAUDE.md")
                except Exception as e:
                    print(f"Warning: Could not copy CLAUDE.md to {role}: {e}")
        """, "copying required file 'CLAUDE.md' can fail silently: the handler at line 21 "
             "only prints a warning and the loop goes on"),
    Case("oserror-logged-then-continue", """
        def provision(dest):
            for role in ROLES:
                try:
                    text = (ROOT / "CLAUDE.md").read_text()
                except OSError as exc:
                    log.warning("no briefing for %s: %s", role, exc)
                    continue
                (dest / role / "CLAUDE.md").write_text(text)
        """, "reading required file 'CLAUDE.md' can fail silently: the handler at line 21 "
             "only logs a warning and the loop goes on"),
    Case("bare-except-pass", """
        def provision(dest):
            try:
                shutil.copyfile("CLAUDE.md", dest / "developer" / "CLAUDE.md")
            except:  # noqa: E722
                pass
        """, "copying required file 'CLAUDE.md' can fail silently: the handler at line 20 "
             "does nothing and execution goes on"),
    Case("returns-what-success-returns", """
        def provision(dest):
            try:
                shutil.copy(ROOT / "CLAUDE.md", dest / "developer")
            except FileNotFoundError as exc:
                print("warning:", exc, file=sys.stderr)
                return
            print("provisioned")
        """, "copying required file 'CLAUDE.md' can fail silently: the handler at line 20 "
             "only prints a warning and returns as if it had succeeded"),
    Case("exit-status-zero", """
        def provision(dest):
            try:
                shutil.copy(ROOT / "CLAUDE.md", dest / "developer")
            except OSError:
                print("nothing to provision")
                sys.exit(0)
        """, "copying required file 'CLAUDE.md' can fail silently: the handler at line 20 "
             "only prints a warning and exits with status 0"),
    Case("reraised-then-swallowed-outside", """
        def provision(dest):
            try:
                try:
                    shutil.copy(ROOT / "CLAUDE.md", dest / "developer")
                except FileNotFoundError:
                    log.exception("copy failed")
                    raise
            except Exception as exc:
                print(f"provisioning skipped: {exc}")
        """, "copying required file 'CLAUDE.md' can fail silently: the handler at line 24 "
             "only prints a warning and execution goes on"),
    Case("failure-recorded-but-never-tested", """
        def provision(dest):
            failed = []
            for role in ROLES:
                try:
                    shutil.copy2(ROOT / "CLAUDE.md", dest / role)
                except OSError:
                    failed.append(role)
            print("provisioned")
        """, "copying required file 'CLAUDE.md' can fail silently: the handler at line 22 "
             "does nothing and the loop goes on"),
    Case("template-under-a-declared-glob", """
        def provision(dest):
            for role in ROLES:
                try:
                    text = (ROOT / "templates" / f"{role}.md").read_text()
                except OSError as exc:
                    warn_user(f"no template for {role}: {exc}")
                    continue
                (dest / role / "ROLE.md").write_text(text)


        def warn_user(message):
            print("warning:", message)
        """, "reading required file 'templates/*.md' can fail silently: the handler at line "
             "21 only calls warn_user() and the loop goes on", removed="templates/reviewer.md"),
    Case("moved-through-a-variable", """
        BRIEFING = ROOT / "CLAUDE.md"


        def provision(dest):
            try:
                shutil.move(BRIEFING, dest / "developer" / "CLAUDE.md")
            except shutil.Error:
                pass
            except OSError as exc:
                print(exc)
        """, "moving required file 'CLAUDE.md' can fail silently: the handler at line 25 "
             "only prints a warning and execution goes on"),
]

BUGGY.append(Case("directory-computed-at-run-time", """
        class Provisioner:
            def __init__(self, root):
                self.root = Path(root)

            def provision(self, dest):
                for role in ROLES:
                    try:
                        shutil.copy2(self.root / "CLAUDE.md", dest / role / "CLAUDE.md")
                    except OSError as exc:
                        log.error("could not copy CLAUDE.md to %s: %s", role, exc)


        def provision(dest):
            Provisioner(ROOT).provision(dest)
        """, "copying required file 'CLAUDE.md' can fail silently: the handler at line 25 "
             "only logs an error and the loop goes on"))

BUGGY.append(Case("helper-called-in-a-swallowing-try", """
        class Orchestrator:
            def __init__(self, root):
                self.root = Path(root)

            def _brief(self, tree):
                shutil.copy2(self.root / "CLAUDE.md", tree / "CLAUDE.md")

            def _provision_one(self, tree):
                try:
                    self._brief(tree)
                except OSError as exc:
                    raise ProvisionError(f"cannot brief {tree}") from exc

            def provision(self, dest):
                for role in ROLES:
                    try:
                        self._provision_one(dest / role)
                    except Exception:
                        log.exception("provisioning %s failed", role)


        def provision(dest):
            Orchestrator(ROOT).provision(dest)
        """, "copying required file 'CLAUDE.md' can fail silently: the handler at line 34 "
             "only logs an error and the loop goes on"))

CLEAN = [
    Case("reraises", """
        def provision(dest):
            for role in ROLES:
                try:
                    shutil.copy2(ROOT / "CLAUDE.md", dest / role / "CLAUDE.md")
                except Exception as e:
                    print(f"Warning: Could not copy CLAUDE.md to {role}: {e}")
                    raise
        """, None),
    Case("raises-its-own-error", """
        def provision(dest):
            for role in ROLES:
                try:
                    shutil.copy2(ROOT / "CLAUDE.md", dest / role / "CLAUDE.md")
                except OSError as exc:
                    raise ProvisionError(f"cannot provision {role}") from exc
        """, None),
    Case("exits-non-zero", """
        def provision(dest):
            for role in ROLES:
                try:
                    shutil.copy2(ROOT / "CLAUDE.md", dest / role / "CLAUDE.md")
                except Exception as e:
                    print(f"error: could not copy CLAUDE.md to {role}: {e}")
                    sys.exit(1)
        """, None),
    Case("returns-false-where-success-returns-true", """
        def provision(dest):
            for role in ROLES:
                try:
                    shutil.copy2(ROOT / "CLAUDE.md", dest / role / "CLAUDE.md")
                except OSError as exc:
                    print(f"warning: {exc}")
                    return False
            return True
        """, None, main='''

if __name__ == "__main__":
    sys.exit(0 if provision(Path(sys.argv[1])) else 1)
'''),
    Case("failures-collected-and-tested-after-the-loop", """
        def provision(dest):
            failed = []
            for role in ROLES:
                try:
                    shutil.copy2(ROOT / "CLAUDE.md", dest / role / "CLAUDE.md")
                except Exception as e:
                    print(f"Warning: Could not copy CLAUDE.md to {role}: {e}")
                    failed.append(role)
            if failed:
                raise ProvisionError(f"CLAUDE.md not provisioned for {', '.join(failed)}")
        """, None),
    Case("missing-file-created-from-a-template", """
        def provision(dest):
            briefing = ROOT / "CLAUDE.md"
            try:
                text = briefing.read_text()
            except FileNotFoundError:
                text = (ROOT / "templates" / "developer.md").read_text()
                briefing.write_text(text)
            for role in ROLES:
                (dest / role / "CLAUDE.md").write_text(text)
        """, None),
    Case("logged-then-raised", """
        def provision(dest):
            for role in ROLES:
                try:
                    shutil.copy2(ROOT / "CLAUDE.md", dest / role / "CLAUDE.md")
                except OSError:
                    logging.exception("could not copy CLAUDE.md to %s", role)
                    raise
        """, None),
    Case("a-narrower-exception-the-copy-cannot-raise", """
        def provision(dest):
            for role in ROLES:
                try:
                    shutil.copy2(ROOT / "CLAUDE.md", dest / role / "CLAUDE.md")
                except ValueError as exc:
                    print(f"warning: {exc}")
        """, None),
    Case("returns-none-where-success-returns-the-text", """
        def briefing():
            try:
                return (ROOT / "CLAUDE.md").read_text()
            except FileNotFoundError:
                log.warning("no CLAUDE.md")
                return None


        def provision(dest):
            text = briefing()
            if text is None:
                sys.exit("CLAUDE.md is missing")
            (dest / "developer" / "CLAUDE.md").write_text(text)
        """, None),
    Case("helper-whose-caller-stops-on-the-failure", """
        def copy_brief(tree):
            shutil.copy2(ROOT / "CLAUDE.md", tree / "CLAUDE.md")


        def provision(dest):
            for role in ROLES:
                try:
                    copy_brief(dest / role)
                except OSError as exc:
                    print(f"error: {exc}", file=sys.stderr)
                    sys.exit(1)
        """, None),
    Case("success-flag-tested-after", """
        def provision(dest):
            copied = False
            try:
                shutil.copy2(ROOT / "CLAUDE.md", dest / "developer" / "CLAUDE.md")
                copied = True
            except OSError as exc:
                print(f"warning: {exc}")
            if not copied:
                sys.exit(2)
        """, None),
]


def _repo(make_repo, case: Case):
    files = {"orch/__init__.py": "", "orch/provision.py": case.source,
             "CLAUDE.md": "# briefing\n", "templates/developer.md": "develop\n",
             "templates/reviewer.md": "review\n", "premerge.yaml": case.manifest}
    return make_repo(files)


def _pm210(run_cli, repo) -> list[dict]:
    _code, findings = files_json(run_cli, repo.path)
    return [f for f in findings if f["code"] == "PM210"]


def _run_without(repo, case: Case, tmp_path: Path):
    """Delete the declared file and really run the provisioning; which roles got it."""
    (repo.path / case.removed).unlink()
    dest = tmp_path / f"trees-{case.name}"
    for role in ("developer", "reviewer"):
        (dest / role).mkdir(parents=True)
    proc = run_python(repo.path / "orch" / "provision.py", repo.path, str(dest))
    provisioned = [p for p in dest.rglob("*") if p.is_file()]
    return proc, provisioned


@pytest.mark.parametrize("case", BUGGY, ids=[c.name for c in BUGGY])
def test_swallowed_failure_is_reported_and_really_silent(make_repo, run_cli, tmp_path,
                                                         case: Case) -> None:
    repo = _repo(make_repo, case)
    found = _pm210(run_cli, repo)
    assert [f["message"] for f in found] == [case.message], found
    finding = found[0]
    assert (finding["path"], finding["line"]) == ("orch/provision.py",
                                                  int(case.message.split("line ")[1].split()[0]))
    related = finding["related"]
    assert (related[0]["path"], related[-1]["path"]) == ("orch/provision.py", "premerge.yaml")
    if case.name == "helper-called-in-a-swallowing-try":  # the calls that lead to the handler
        assert [(r["line"], r["col"], r["message"]) for r in related[1:-1]] == [
            (26, 13, "called here"), (33, 17, "called here, inside the try")]
    else:
        assert len(related) == 2
    # the code really fails silently: status 0, and the file did not reach every worktree
    proc, provisioned = _run_without(repo, case, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert len(provisioned) < 2, provisioned


@pytest.mark.parametrize("case", CLEAN, ids=[c.name for c in CLEAN])
def test_clean_twin_is_silent_and_really_surfaces_the_failure(make_repo, run_cli, tmp_path,
                                                              case: Case) -> None:
    repo = _repo(make_repo, case)
    assert _pm210(run_cli, repo) == []
    proc, provisioned = _run_without(repo, case, tmp_path)
    # the failure surfaces (status != 0), or the handler recovered and provisioned the file
    assert proc.returncode != 0 or len(provisioned) == 2, (proc.returncode, provisioned)


def test_undeclared_file_is_not_pm210(make_repo, run_cli) -> None:
    case = BUGGY[0]._replace(manifest="version: 1\nrequired_files:\n  - templates/*.md\n")
    repo = _repo(make_repo, case)
    code, findings = files_json(run_cli, repo.path)
    assert [f["code"] for f in findings] == ["PM207"]  # undeclared, and nothing about handlers


def test_severity_follows_the_entrys_worktrees_flag(make_repo, run_cli) -> None:
    with_worktrees = _repo(make_repo, BUGGY[0])
    code, findings = files_json(run_cli, with_worktrees.path)
    assert (code, [f["severity"] for f in findings]) == (1, ["error"])
    plain = _repo(make_repo, BUGGY[0]._replace(
        manifest="version: 1\nrequired_files:\n  - CLAUDE.md\n  - templates/*.md\n"))
    code, findings = files_json(run_cli, plain.path)
    assert (code, [f["severity"] for f in findings]) == (0, ["warning"])
    related = findings[0]["related"]
    assert (related[1]["line"], related[1]["message"]) == (3, "declared required here")


def test_noqa_on_the_handler_line(make_repo, run_cli) -> None:
    case = BUGGY[0]._replace(body=BUGGY[0].body.replace(
        "except Exception as e:", "except Exception as e:  # noqa: PM210"))
    repo = _repo(make_repo, case)
    assert _pm210(run_cli, repo) == []


FOUNDING = '''\
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def provision(roles, worktrees):
    for role in roles:
        try:
            shutil.copy2(ROOT / "CLAUDE.md", worktrees[role] / "CLAUDE.md")
        except Exception as e:
            print(f"Warning: Could not copy CLAUDE.md to {role}: {e}")


if __name__ == "__main__":
    trees = {role: Path(sys.argv[1]) / role for role in ("developer", "reviewer")}
    for tree in trees.values():
        tree.mkdir(parents=True, exist_ok=True)
    provision(trees, trees)
    print("provisioned")
'''
FIXED = FOUNDING.replace(
    '''            print(f"Warning: Could not copy CLAUDE.md to {role}: {e}")''',
    '''            raise SystemExit(f"error: could not copy CLAUDE.md to {role}: {e}")''')


@pytest.mark.parametrize(("source", "silent"), [(FOUNDING, True), (FIXED, False)],
                         ids=["founding", "fixed"])
def test_founding_example_runs_silently_and_its_fix_does_not(make_repo, tmp_path,
                                                             source: str, silent: bool) -> None:
    repo = make_repo({"orch/__init__.py": "", "orch/provision.py": source,
                      "CLAUDE.md": "# briefing\n",
                      "premerge.yaml": "version: 1\nrequired_files:\n  - path: CLAUDE.md\n"
                                       "    worktrees: true\n"})
    check = run_premerge("files", cwd=repo.path)
    if silent:
        assert check.returncode == 1
        assert check.stdout.splitlines()[0] == (
            "orch/provision.py:12:9: PM210 copying required file 'CLAUDE.md' can fail "
            "silently: the handler at line 12 only prints a warning and the loop goes on")
    else:
        assert (check.returncode, check.stdout) == (0, "")
    # CLAUDE.md goes missing: the buggy orchestrator still ends with status 0
    (repo.path / "CLAUDE.md").unlink()
    proc = run_python(repo.path / "orch" / "provision.py", repo.path, str(tmp_path / "trees"))
    if silent:
        assert proc.returncode == 0
        assert "Warning: Could not copy CLAUDE.md to developer: [Errno 2] No such file or " \
               "directory" in proc.stdout
        assert proc.stdout.rstrip().endswith("provisioned")
    else:
        assert proc.returncode == 1
        assert "error: could not copy CLAUDE.md to developer" in proc.stderr
    assert not (tmp_path / "trees" / "developer" / "CLAUDE.md").exists()


def _swallowed(source: str) -> list[tuple[str, int, str, str]]:
    """(target, handler line, verb, behaviour) of each swallowed use extraction finds."""
    found = extract(HEADER + textwrap.dedent(source), "orch/provision.py")
    return [(ref.target, s.handler_line - HEADER.count("\n"), s.verb, s.behaviour)
            for ref in found for s in ref.swallowed]


@pytest.mark.parametrize(("source", "expected"), [
    # `return False` where success falls off the end (None): the caller can tell them apart
    ("""
     def provision(dest):
         try:
             shutil.copy(ROOT / "CLAUDE.md", dest)
         except OSError:
             return False
     """, []),
    # the inner handler raises its own error, which the outer `except OSError` does not catch
    ("""
     def provision(dest):
         try:
             try:
                 shutil.copy(ROOT / "CLAUDE.md", dest)
             except OSError as exc:
                 raise ProvisionError(str(exc)) from exc
         except OSError:
             pass
     """, []),
    # ... but `except Exception` outside catches it, and passes
    ("""
     def provision(dest):
         try:
             try:
                 shutil.copy(ROOT / "CLAUDE.md", dest)
             except OSError as exc:
                 raise ProvisionError(str(exc)) from exc
         except Exception:
             pass
     """, [("CLAUDE.md", 8, "copying", "does nothing and execution goes on")]),
    # a missing file reaches the FileNotFoundError handler, not the PermissionError one
    ("""
     def provision(dest):
         try:
             text = (ROOT / "CLAUDE.md").read_text()
         except PermissionError:
             raise
         except FileNotFoundError:
             log.info("no briefing")
             return
         dest.write_text(text)
     """, [("CLAUDE.md", 7, "reading", "only logs a message and returns as if it had "
                                      "succeeded")]),
    # a helper defined here that raises surfaces the failure
    ("""
     def die(message):
         raise SystemExit(message)


     def provision(dest):
         try:
             shutil.copy(ROOT / "CLAUDE.md", dest)
         except OSError as exc:
             die(f"cannot copy: {exc}")
     """, []),
    # a fallback value the function goes on to use is handling, not swallowing
    ("""
     def briefing():
         try:
             text = (ROOT / "CLAUDE.md").read_text()
         except FileNotFoundError:
             text = "(no briefing)"
         return text
     """, []),
    # the else clause and the handler itself are not protected by the try
    ("""
     def provision(dest):
         try:
             pass
         except OSError:
             pass
         else:
             shutil.copy(ROOT / "CLAUDE.md", dest)
     """, []),
])
def test_handler_verdicts(source: str, expected: list) -> None:
    assert _swallowed(source) == expected


def test_contextlib_suppress_is_a_handler_that_does_nothing() -> None:
    assert _swallowed("""
        def provision(dest):
            for role in ROLES:
                with contextlib.suppress(FileNotFoundError):
                    shutil.copy(ROOT / "CLAUDE.md", dest / role)
        """) == [("CLAUDE.md", 4, "copying",
                  "suppresses it (contextlib.suppress) and the loop goes on")]
    # suppressing an error the copy cannot raise for a missing file swallows nothing
    assert _swallowed("""
        def provision(dest):
            with contextlib.suppress(KeyError):
                shutil.copy(ROOT / "CLAUDE.md", dest)
        """) == []


def test_a_computed_directory_is_matched_by_the_files_name(make_repo, run_cli) -> None:
    case = next(c for c in BUGGY if c.name == "directory-computed-at-run-time")
    repo = _repo(make_repo, case)
    code, findings = files_json(run_cli, repo.path)
    assert [f["code"] for f in findings] == ["PM210"]  # no PM207/PM208 about a guessed path
    assert findings[0]["related"][0]["message"] == (
        "copying '.../CLAUDE.md' here (its directory is computed at run time)")


@pytest.mark.parametrize("source", [
    # the user's home, not the repository
    """
    def provision(dest):
        try:
            shutil.copy(Path.home() / "CLAUDE.md", dest)
        except OSError:
            pass
    """,
    # written, not read
    """
    def provision(dest):
        import os
        try:
            with open(os.path.join(dest, "CLAUDE.md"), "w") as handle:
                handle.write("x")
        except OSError:
            pass
    """,
    # the last component is computed: nothing names the file
    """
    def provision(dest, name):
        try:
            shutil.copy(dest / name, dest / "copy")
        except OSError:
            pass
    """,
])
def test_computed_directories_that_name_no_repository_file(source: str) -> None:
    assert _swallowed(source) == []


def test_a_tail_names_an_entry_only_where_the_entry_says_where_the_file_is() -> None:
    entries = [RequiredFile(path="CLAUDE.md", line=1), RequiredFile(path="docs/AGENTS.md", line=2),
               RequiredFile(path="templates/*.md", line=3), RequiredFile(path="**/*.json", line=4)]
    declared = Declarations(entries)
    assert [getattr(declared.entry_for_tail(tail), "line", None) for tail in (
        "CLAUDE.md", "AGENTS.md", "templates/dev.md", "dev.md", "origin.json")] == [
        1, 2, 3, None, None]
