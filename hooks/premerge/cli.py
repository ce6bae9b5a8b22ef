"""Command line: parse -> run checks -> report -> exit code.

Exit codes: 0 no finding at or above ``--fail-on``; 1 such findings; 2 usage error, invalid
manifest or internal error, always with a one-line message on stderr and never a traceback
(``PREMERGE_DEBUG=1`` shows it).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from premerge import __version__, startup

#: typing.TYPE_CHECKING without importing typing: these names serve annotations only
TYPE_CHECKING = False
if TYPE_CHECKING:
    from premerge.config import Config, RunOptions

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


class UsageError(Exception):
    """A problem with how premerge was called; one line for the user."""


class _HelpFormatter(argparse.HelpFormatter):
    """argparse's formatter, sized without importing ``shutil``.

    argparse builds a formatter on every ``add_argument`` (to check the metavar), and the stock
    one imports ``shutil`` for its terminal width: ~3 ms (zlib, bz2, lzma) on every run, when
    only help and usage errors print anything.  The width is ``shutil.get_terminal_size``'s:
    ``COLUMNS`` if set, else the terminal's, else 80.
    """

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24,
                 width: int | None = None) -> None:
        if width is None:
            try:
                width = int(os.environ["COLUMNS"])
            except (KeyError, ValueError):
                width = 0
            if width <= 0:
                try:
                    stdout = sys.__stdout__
                    width = os.get_terminal_size(
                        stdout.fileno()).columns  # type: ignore[union-attr]
                except (AttributeError, ValueError, OSError):
                    width = 0
                width = width or 80
            width -= 2  # what the stock formatter leaves free
        super().__init__(prog, indent_increment, max_help_position, width)


def _common(parser: argparse.ArgumentParser, paths: bool = True) -> None:
    from premerge.report import FORMATS  # noqa: PLC0415 - the table of reporters

    if paths:
        parser.add_argument("paths", nargs="*", metavar="PATH",
                            help="files or directories (default: the repository)")
    out = parser.add_argument_group("output")
    out.add_argument("--format", choices=FORMATS, default="text",
                     help="report format (default: text)")
    out.add_argument("--output", metavar="FILE", help="write the report to FILE")
    out.add_argument("--summary", metavar="FILE",
                     help="also write a Markdown job summary to FILE (appended)")
    out.add_argument("--sarif", metavar="FILE",
                     help="also write a SARIF report to FILE (for CI: annotations and SARIF "
                          "from one run)")
    out.add_argument("--fail-on", choices=("error", "warning", "never"), default="error",
                     help="lowest severity that makes the exit code 1 (default: error)")
    out.add_argument("--statistics", action="store_true",
                     help="print how many findings each code has instead of the findings "
                          "(text format)")
    out.add_argument("-q", "--quiet", action="store_true",
                     help="print the findings only: no notes and no closing summary")
    run = parser.add_argument_group("run")
    run.add_argument("--config", metavar="FILE",
                     help="manifest (default: premerge.yaml at the repository root)")
    run.add_argument("--no-cache", action="store_true", help="ignore and do not write the cache")
    run.add_argument("--changed", action="store_true",
                     help="only what changed since the merge base with --base")
    run.add_argument("--base", metavar="REF",
                     help="base for --changed (default: origin/HEAD, main or master)")


def _smoke_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("smoke")
    group.add_argument("--python", metavar="PATH",
                       help="interpreter that imports the project's modules")
    group.add_argument("--timeout", type=_positive_float, metavar="SECONDS",
                       help="per-module import timeout (default 20)")
    group.add_argument("--jobs", type=_non_negative_int, metavar="N",
                       help="parallel imports (default: CPUs)")
    group.add_argument("--shard", type=_shard, metavar="I/N",
                       help="only the I-th of N deterministic slices of the modules")
    group.add_argument("-v", "--verbose", action="store_true",
                       help="print each module's import time and the slowest modules")


def _scope_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("fixes")
    mode = group.add_mutually_exclusive_group()
    mode.add_argument("--fix", action="store_true", help="apply safe fixes in place")
    mode.add_argument("--diff", action="store_true",
                      help="print the safe fixes as a unified diff; write nothing")


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 < value < float("inf"):  # NaN compares false: refused too
        raise argparse.ArgumentTypeError("must be more than 0, and finite")
    return value


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def _shard(text: str) -> tuple[int, int]:
    index, _, count = text.partition("/")
    try:
        i, n = int(index), int(count)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected I/N such as 1/4, got {text!r}") from None
    if n < 1 or not 1 <= i <= n:
        raise argparse.ArgumentTypeError(f"shard {text!r} is out of range (1 <= I <= N)")
    return i, n


def _scope_parser(parser: argparse.ArgumentParser) -> None:
    _common(parser)
    _scope_options(parser)


def _files_parser(parser: argparse.ArgumentParser) -> None:
    _common(parser, paths=False)


def _smoke_parser(parser: argparse.ArgumentParser) -> None:
    _common(parser)
    _smoke_options(parser)


def _check_parser(parser: argparse.ArgumentParser) -> None:
    _common(parser)
    parser.add_argument("--checks", default="scope,files,smoke", metavar="LIST",
                        help="comma-separated checks to run (default: scope,files,smoke)")
    _smoke_options(parser)


def _init_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--force", action="store_true", help="overwrite an existing manifest")
    parser.add_argument("--config", metavar="FILE",
                        help="where to write (default: premerge.yaml)")


def _rules_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("code", nargs="?", help="a code such as PM101")


#: subcommand -> (help, description, adds its arguments)
COMMANDS: dict[str, tuple[str, str, Callable[[argparse.ArgumentParser], None]]] = {
    "scope": ("static import-scoping analysis (no code runs)",
              "Report names that raise NameError or UnboundLocalError on some path.",
              _scope_parser),
    "files": ("required-files manifest check (premerge.yaml)",
              "Check that required files exist, are committed, non-empty, in every worktree, "
              "and declared.", _files_parser),
    "smoke": ("import every module first, in a fresh interpreter",
              "Import smoke test with isolation and runtime global checks.", _smoke_parser),
    "check": ("scope + files + smoke as configured, one report",
              "Run the configured checks and merge their findings.", _check_parser),
    "init": ("write a starter premerge.yaml",
             "Write a commented starter premerge.yaml from what the repository contains.",
             _init_parser),
    "rules": ("list the finding codes, or explain one",
              "List every finding code with its title, or show one code's help text.",
              _rules_parser),
}


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The command line's parser; ``only`` builds just that subcommand (what a run that names
    it needs: each subparser costs ~0.8 ms of argparse and gettext set-up), ``None`` all of
    them (``premerge --help`` lists them)."""
    parser = argparse.ArgumentParser(
        prog="premerge",
        description="Stop, before merge, the Python failures that only show when code runs.",
        formatter_class=_HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"premerge {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name, (summary, description, add_arguments) in COMMANDS.items():
        if only is None or name == only:
            add_arguments(sub.add_parser(name, help=summary, description=description,
                                         formatter_class=_HelpFormatter))
    return parser


def entry() -> int:
    """The process entry (the ``premerge`` console script, ``python -m premerge``): :func:`main`,
    then an immediate exit when an orderly shutdown has nothing left to do.

    That shutdown frees every object and module one by one (~7 ms of a one-file run's ~140);
    the operating system reclaims the memory at once.  In-process callers (tests) use
    :func:`main`, which always returns.
    """
    problem = _isolate_from_checked_repository(sys.argv[1:])
    if problem:
        print(f"premerge: error: {problem}", file=sys.stderr)
        return EXIT_ERROR
    code = main(ends_process=True)
    startup.exit_now(code)
    return code  # something still needs the normal shutdown


def _isolate_from_checked_repository(arguments: Sequence[str]) -> str:
    """Drop from ``sys.path`` every directory inside the checked repository (the working
    directory ``python -m`` adds, a ``PYTHONPATH=.``), so no module premerge imports later
    (json, yaml, ...) can come from it.  Returns why premerge must not go on, or "": a module
    was already imported from such a directory (a ``sitecustomize.py`` found through
    ``PYTHONPATH`` runs before any of premerge's code), so this process is not premerge's
    alone any more.  What runs premerge stays trusted even inside the repository: premerge's
    own directory (an editable install checking itself) and the interpreter's prefixes (a
    project's ``.venv``).  The hooks and the Action start ``python -I``: nothing to drop."""
    from premerge.repo import find_root  # noqa: PLC0415 - what the run imports anyway

    anchors = [a for a in arguments[1:] if a and not a.startswith("-")][:1]
    found = {find_root(), *(find_root(a) for a in anchors if os.sep in a)}
    raw_roots = {os.fspath(root) + os.sep for root in found if root is not None}
    if not raw_roots:
        return ""
    roots = raw_roots | {os.path.realpath(root) + os.sep for root in raw_roots}
    # a trusted directory that holds the whole repository would trust all of it
    trusted = {os.path.abspath(path) + os.sep for path in
               (os.path.dirname(os.path.dirname(__file__)), sys.prefix, sys.exec_prefix,
                sys.base_prefix, sys.base_exec_prefix)}
    trusted = tuple(path for path in trusted if not any(r.startswith(path) for r in roots))
    real_trusted: list[tuple[str, ...]] = []  # resolved only when a path needs it

    def inside(directory: str) -> bool:
        if (os.path.abspath(directory or os.curdir) + os.sep).startswith(trusted):
            return False  # the usual case, answered without a system call
        real = os.path.realpath(directory or os.curdir) + os.sep
        if not real.startswith(tuple(roots)):
            return False
        if not real_trusted:
            resolved = {os.path.realpath(path) + os.sep for path in trusted}
            real_trusted.append(tuple(p for p in resolved
                                      if not any(r.startswith(p) for r in roots)))
        return not real.startswith(real_trusted[0])

    dropped = [entry for entry in sys.path if inside(entry)]
    if not dropped:
        return ""
    sys.path[:] = [entry for entry in sys.path if entry not in dropped]
    sys.path_importer_cache.clear()
    prefixes = tuple(os.path.abspath(entry or os.curdir) + os.sep for entry in dropped)
    for name, module in list(sys.modules.items()):
        origin = getattr(module, "__file__", None)
        if isinstance(origin, str) and origin.startswith(prefixes) \
                and inside(os.path.dirname(origin)):
            return (f"module {name!r} was imported from the checked repository ({origin}) "
                    "before premerge started (PYTHONPATH points into it?): its code has run "
                    "in this process, so premerge stops; unset PYTHONPATH or run "
                    "`python -I -m premerge`")
    return ""


def main(argv: Sequence[str] | None = None, ends_process: bool = False) -> int:
    """Run the command line ``argv`` (default: ``sys.argv[1:]``); the exit code.
    ``ends_process``: the caller exits right after, without freeing anything (:func:`entry`)."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    named = arguments[0] if arguments and arguments[0] in COMMANDS else None
    args = build_parser(named).parse_args(arguments)
    startup.exit_after_run(ends_process)
    try:
        return _dispatch(args)
    except KeyboardInterrupt:
        print("premerge: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_ERROR
    except Exception as exc:  # every failure becomes one line, never a bare traceback
        from premerge.config import ConfigError  # noqa: PLC0415
        from premerge.repo import GitError  # noqa: PLC0415

        if os.environ.get("PREMERGE_DEBUG"):
            raise
        if isinstance(exc, (ConfigError, GitError, UsageError)):
            print(f"premerge: error: {exc}", file=sys.stderr)
        else:
            print(f"premerge: internal error: {type(exc).__name__}: {exc} "
                  "(set PREMERGE_DEBUG=1 for the traceback)", file=sys.stderr)
        return EXIT_ERROR


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "rules":
        return _rules(args.code)
    if args.command == "init":
        return _init(args)
    checks = {"scope": ["scope"], "files": ["files"], "smoke": ["smoke"]}.get(args.command)
    if checks is None:
        checks = [c.strip() for c in args.checks.split(",") if c.strip()]
        unknown = sorted(set(checks) - {"scope", "files", "smoke"})
        if unknown or not checks:
            raise UsageError(f"--checks: unknown check {', '.join(unknown) or '(none)'}; "
                             "choose from scope, files, smoke")
    return _run(args, checks)


def _load(args: argparse.Namespace, paths: Sequence[str]):  # -> Config
    from premerge.config import load_config  # noqa: PLC0415
    from premerge.repo import find_root  # noqa: PLC0415

    anchor = paths[0] if paths else None
    root = find_root(anchor) or find_root()
    in_git = root is not None
    if root is None:
        root = Path.cwd()
    return load_config(root, getattr(args, "config", None), in_git=in_git,
                       use_cache=not getattr(args, "no_cache", False))


def _run_options(args: argparse.Namespace, config: Config, checks: list[str]) -> RunOptions:
    """The command line's part of the run (a new ``RunOptions``; the loaded config is kept)."""
    from premerge.config import RunOptions  # noqa: PLC0415

    base = changed = None
    if args.changed:
        from premerge.repo import Repository  # noqa: PLC0415

        if not config.in_git:
            raise UsageError("--changed needs a git repository")
        repo = Repository(config.root)
        base = args.base or repo.default_base()
        changed = repo.changed_files(base)
    elif args.base:
        raise UsageError("--base goes with --changed")
    return RunOptions(
        use_cache=not args.no_cache, changed=changed, base=base,
        fix=bool(getattr(args, "fix", False)), diff=bool(getattr(args, "diff", False)),
        jobs=getattr(args, "jobs", None), timeout=getattr(args, "timeout", None),
        shard=getattr(args, "shard", None), python=getattr(args, "python", None),
        # a progress line only on a terminal, never under CI (whose log is no terminal even
        # when a pseudo-terminal says otherwise)
        progress=(sys.stderr.isatty() and args.format == "text" and not args.output
                  and os.environ.get("CI", "").lower() not in ("1", "true", "yes")),
        verbose=bool(getattr(args, "verbose", False)))


def _run(args: argparse.Namespace, checks: list[str]) -> int:
    from premerge.check import fails, run_checks  # noqa: PLC0415
    from premerge.report import ReportContext, render  # noqa: PLC0415
    from premerge.report.color import wanted as color_wanted  # noqa: PLC0415

    paths = list(getattr(args, "paths", []) or [])
    loaded = _load(args, paths)
    config = loaded.replace(run=_run_options(args, loaded, checks))
    if len(checks) != 1:  # another check runs after the first: it is not the last thing
        startup.exit_after_run(False)
    opts = config.run
    if args.statistics and args.format != "text":
        raise UsageError("--statistics goes with --format text")

    result = run_checks(config, paths, checks)
    context = ReportContext(root=config.root.as_posix(), files=result.files,
                            seconds=result.seconds, by_check=result.by_check,
                            checks=result.checks, notes=result.notes, counts=result.counts,
                            color=args.format == "text" and not args.output
                            and color_wanted(sys.stdout))
    if args.statistics:
        from premerge.report.text import statistics  # noqa: PLC0415

        report = statistics(result.findings, context)
    else:
        report = render(args.format, result.findings, context)
    diff = result.facts.get("scope", {}).get("diff") if opts.diff else None
    if diff:
        # The diff is what --diff asks for; a machine-readable report printed to stdout
        # must stay parseable, so there the diff goes to stderr instead.
        machine_stdout = args.format != "text" and not args.output
        (sys.stderr if machine_stdout else sys.stdout).write(str(diff))
    if args.output:
        Path(args.output).write_text(report, encoding="utf-8")
    elif report:
        sys.stdout.write(report)
    if args.summary:
        summary = render("summary", result.findings, context)
        with open(args.summary, "a", encoding="utf-8") as handle:
            handle.write(summary)
    if args.sarif:
        Path(args.sarif).write_text(render("sarif", result.findings, context), encoding="utf-8")
    if args.format == "text" and not args.quiet:
        from premerge.report.text import summary_line  # noqa: PLC0415

        for note in result.notes:
            print(f"premerge: {note}", file=sys.stderr)
        print(summary_line(result.findings, context.replace(color=color_wanted(sys.stderr))),
              file=sys.stderr)
    return EXIT_FINDINGS if fails(result.findings, args.fail_on) else EXIT_OK


def _init(args: argparse.Namespace) -> int:
    from premerge.config import Config  # noqa: PLC0415
    from premerge.files.starter import write_starter  # noqa: PLC0415
    from premerge.repo import find_root  # noqa: PLC0415

    root = find_root()  # never read the manifest init (re)writes: it may be absent or invalid
    config = Config(root=root or Path.cwd(), in_git=root is not None)
    target = Path(args.config) if args.config else config.root / "premerge.yaml"
    message = write_starter(config, target, force=args.force)
    print(message)
    return EXIT_OK


def _rules(code: str | None) -> int:
    from premerge.findings import all_rules  # noqa: PLC0415

    rules = all_rules()
    if code is None:
        for rule in rules.values():
            print(f"{rule.code}  {rule.severity.value:<7}  {rule.title}")
        return EXIT_OK
    rule = rules.get(code.upper())
    if rule is None:
        raise UsageError(f"unknown code {code!r}; `premerge rules` lists them")
    print(f"{rule.code}: {rule.title} ({rule.severity.value})\n\n{rule.help}")
    if rule.example:
        print(f"\nExample:\n{rule.example}")
    return EXIT_OK
