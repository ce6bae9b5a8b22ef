"""Shared fixtures: real git repositories, real subprocesses, the CLI in-process."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from premerge.cli import main as premerge_main

ROOT = Path(__file__).resolve().parent.parent
#: data the tests read (the SARIF 2.1.0 schema, the pinned-action table): part of the repository
DATA = ROOT / "tests" / "data"

GIT_ENV = {
    "GIT_AUTHOR_NAME": "premerge tests",
    "GIT_AUTHOR_EMAIL": "tests@premerge.invalid",
    "GIT_COMMITTER_NAME": "premerge tests",
    "GIT_COMMITTER_EMAIL": "tests@premerge.invalid",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--run-slow", action="store_true", help="also run tests marked slow")


def on_ci() -> bool:
    """CI=true (CI services set it; .ci/run defaults it): slow tests run, missing tools fail."""
    return os.environ.get("CI", "").lower() in ("1", "true")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--run-slow") or on_ci():
        return
    skip = pytest.mark.skip(reason="slow corpus test: run with --run-slow (CI runs it)")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path_factory: pytest.TempPathFactory,
                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test gets its own premerge cache and git identity; nothing leaks from the host."""
    monkeypatch.setenv("PREMERGE_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    for key, value in GIT_ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    for key in ("NO_COLOR", "FORCE_COLOR"):  # text output is plain unless a test asks
        monkeypatch.delenv(key, raising=False)


def git(cwd: Path, *args: str, check: bool = True) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, **GIT_ENV}, check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {proc.stderr}")
    return proc.stdout


@dataclass
class Repo:
    """A real git repository in a temporary directory."""

    path: Path

    def write(self, rel: str, content: str | bytes, dedent: bool = True) -> Path:
        target = self.path / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(textwrap.dedent(content) if dedent else content, encoding="utf-8")
        return target

    def files(self, mapping: Mapping[str, str | bytes]) -> None:
        for rel, content in mapping.items():
            self.write(rel, content)

    def git(self, *args: str, check: bool = True) -> str:
        return git(self.path, *args, check=check)

    def commit(self, message: str = "commit", paths: tuple[str, ...] = ()) -> str:
        self.git("add", "-A", *paths) if not paths else self.git("add", *paths)
        self.git("commit", "-q", "--allow-empty", "-m", message)
        return self.git("rev-parse", "HEAD").strip()


def init_repo(path: Path, files: Mapping[str, str | bytes] | None = None, commit: bool = True,
              branch: str = "main") -> Repo:
    """The tests' one repository factory: a real git repository at ``path`` (created if
    missing) holding ``files`` (dedented), committed unless ``commit`` is false."""
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", branch)
    repo = Repo(path)
    if files:
        repo.files(files)
    if commit:
        repo.commit("initial")
    return repo


@pytest.fixture
def make_repo(tmp_path: Path) -> Callable[..., Repo]:
    """Factory: ``make_repo({"a.py": "..."}, commit=True)`` -> a real git repo."""
    counter = iter(range(1000))

    def factory(files: Mapping[str, str | bytes] | None = None, commit: bool = True,
                name: str | None = None, branch: str = "main") -> Repo:
        path = tmp_path / (name or f"repo{next(counter)}")
        if path.exists():
            raise FileExistsError(path)
        return init_repo(path, files, commit, branch)

    return factory


@dataclass
class CliResult:
    code: int
    out: str
    err: str


@pytest.fixture
def run_cli(monkeypatch: pytest.MonkeyPatch) -> Callable[..., CliResult]:
    """Run ``premerge ARGS`` in-process in ``cwd``; returns exit code, stdout, stderr."""

    def runner(*args: str, cwd: Path | None = None) -> CliResult:
        if cwd is not None:
            monkeypatch.chdir(cwd)
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = premerge_main(list(args))
            except SystemExit as exc:  # argparse usage errors and --version
                code = exc.code if isinstance(exc.code, int) else 2
        return CliResult(code, out.getvalue(), err.getvalue())

    return runner


def run_premerge(*args: str, cwd: Path, env: Mapping[str, str] | None = None,
                 timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run premerge as a real subprocess (``python -m premerge``)."""
    return subprocess.run([sys.executable, "-m", "premerge", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})}, stdin=subprocess.DEVNULL)


def run_python(code_or_file: str | Path, cwd: Path, *args: str, flags: Sequence[str] = (),
               pythonpath: Path | None = None,
               timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """The tests' one snippet runner: execute fixture code (or a file) in a fresh, real
    interpreter, to prove a NameError really happens and a clean twin really runs.
    ``flags`` go to the interpreter (``-X importtime``); ``pythonpath`` comes first on
    ``sys.path`` (and no bytecode is written there)."""
    target = [str(code_or_file)] if isinstance(code_or_file, Path) else ["-c", code_or_file]
    env = None if pythonpath is None else {
        **os.environ, "PYTHONPATH": str(pythonpath), "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run([sys.executable, *flags, *target, *args], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout, env=env,
                          stdin=subprocess.DEVNULL)


@pytest.fixture(scope="session")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One PRE_COMMIT_HOME for the session so hook environments are built once."""
    yield tmp_path_factory.mktemp("pre-commit-home")


@dataclass(frozen=True)
class HookRepo:
    """This checkout's working tree committed into one scratch repository."""

    path: Path
    rev: str


@pytest.fixture(scope="session")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> HookRepo:
    """The checkout's working tree (tracked and new files) as one commit, shared by the session.

    `pre-commit try-repo ROOT` on a dirty checkout commits a fresh shadow repository on every
    call, so each call would build a new hook environment; one commit shared by every hook test
    builds it once and still tests the working tree, not just HEAD.
    """
    shadow = tmp_path_factory.mktemp("hook-repo")
    git(shadow, "init", "-q", "-b", "main")
    listed = git(ROOT, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    for rel in filter(None, listed.split("\0")):
        source = ROOT / rel
        if source.is_file():
            target = shadow / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    git(shadow, "add", "-A")
    git(shadow, "commit", "-q", "-m", "premerge working tree")
    return HookRepo(shadow, git(shadow, "rev-parse", "HEAD").strip())


def pre_commit_env(home: Path) -> dict[str, str]:
    """The environment a developer's pre-commit runs with, using the session's hook envs."""
    env = {**os.environ, **GIT_ENV, "PRE_COMMIT_HOME": str(home)}
    for key in ("PREMERGE_DEBUG", "VIRTUAL_ENV"):
        env.pop(key, None)
    return env


def try_repo(project: Path, home: Path, hook: HookRepo, hook_id: str,
             *args: str) -> subprocess.CompletedProcess[str]:
    """Real `pre-commit try-repo <this checkout> HOOK_ID` in ``project``."""
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(hook.path), hook_id,
         "--ref", hook.rev, *args], cwd=project, capture_output=True, text=True,
        env=pre_commit_env(home), timeout=600, stdin=subprocess.DEVNULL)
