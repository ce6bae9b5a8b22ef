"""Benchmark ``premerge check`` and the CI reporters.

1. ``--changed`` on a large generated repository (default 2,000 modules; a pull request that
   touches 3 of them) against the full run: what a pull request pays, with ``--no-cache`` so
   nothing is remembered between runs.
2. The reporters on 10,000 findings over 1,000 files: SARIF (with fingerprints, which read each
   file's lines), GitHub annotations and the job summary, against the foundation's JSON
   reporter as the anchor.

    python scripts/bench.py check [--modules N] [--findings N] [--repeat N] [--keep]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from benchlib import git, premerge_cmd, print_table, time_command

def _package(index: int) -> str:
    return f"pkg{index // 100:03d}"  # 100 modules per package


def _module(index: int, count: int) -> str:
    """A plausible module: imports of earlier modules, a class, functions using them."""
    deps = sorted({(index * 7 + k) % count for k in (1, 2)} - {index})
    deps = [d for d in deps if d < index]
    imports = "".join(f"from {_package(d)} import mod{d:05d}\n" for d in deps)
    uses = " + ".join(f"mod{d:05d}.value()" for d in deps) or "0"
    return (f'"""Generated module {index}."""\nimport json\nimport os\n{imports}\n\n'
            f"CONSTANT = {index}\n\n\n"
            f"def value():\n    return CONSTANT\n\n\n"
            f"def total():\n    return value() + {uses}\n\n\n"
            f"class Thing{index}:\n    def dump(self):\n        return json.dumps(os.sep)\n")


def make_repository(root: Path, modules: int) -> None:
    for index in range(modules):
        package = root / _package(index)
        package.mkdir(exist_ok=True)
        (package / "__init__.py").touch()
        (package / f"mod{index:05d}.py").write_text(_module(index, modules), encoding="utf-8")
    (root / "premerge.yaml").write_text("version: 1\nsmoke:\n  timeout: 20\n", encoding="utf-8")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    git(root, "checkout", "-q", "-b", "feature")
    for index in (1, modules // 2, modules - 1):  # the pull request touches three modules
        path = root / _package(index) / f"mod{index:05d}.py"
        path.write_text(path.read_text(encoding="utf-8") + "\n\ndef added():\n    return 1\n",
                        encoding="utf-8")
    git(root, "commit", "-q", "-am", "feature")


def bench_changed(modules: int, repeat: int, keep: bool) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="premerge-bench-check-"))
    try:
        started = time.perf_counter()
        make_repository(workdir, modules)
        print(f"generated {modules} modules in {time.perf_counter() - started:.1f}s: {workdir}")
        rows = [
            ("check (whole repository)", time_command(
                premerge_cmd("check", "--no-cache", "--fail-on", "never"), repeat, workdir)),
            ("check --changed (3 modules)", time_command(
                premerge_cmd("check", "--no-cache", "--fail-on", "never", "--changed",
                             "--base", "main"), repeat, workdir)),
            ("check --changed --format github", time_command(
                premerge_cmd("check", "--no-cache", "--fail-on", "never", "--changed",
                             "--base", "main", "--format", "github", "--sarif",
                             str(workdir / "r.sarif"), "--summary", str(workdir / "s.md")),
                repeat, workdir)),
        ]
        print_table(f"premerge check on {modules} modules (best of {repeat}, --no-cache)", rows,
                    anchor="check (whole repository)",
                    targets={"check --changed (3 modules)": "well under the full run"})
    finally:
        if not keep:
            shutil.rmtree(workdir, ignore_errors=True)


def bench_reporters(count: int, repeat: int) -> None:
    from premerge.findings import Location  # noqa: PLC0415
    from premerge.input_rules import SyntaxErrorInFile  # noqa: PLC0415
    from premerge.report import ReportContext, render  # noqa: PLC0415

    workdir = Path(tempfile.mkdtemp(prefix="premerge-bench-report-"))
    try:
        files = max(1, count // 10)
        for index in range(files):
            (workdir / f"m{index}.py").write_text("".join(
                f"value_{n} = missing_{n}\n" for n in range(12)), encoding="utf-8")
        findings = [SyntaxErrorInFile.at(
            (workdir / f"m{i % files}.py").as_posix(), i // files + 1, 9, name=f"missing_{i}",
            reason=f"finding {i}", related=[Location((workdir / "m0.py").as_posix(), 1, 1,
                                                     "bound here")]) for i in range(count)]
        context = ReportContext(root=workdir.as_posix(), cwd=workdir.as_posix(), files=files)
        rows = []
        for name in ("json", "sarif", "github", "summary", "text"):
            best = float("inf")
            for _ in range(repeat):
                began = time.perf_counter()
                render(name, findings, context)
                best = min(best, time.perf_counter() - began)
            rows.append((f"{name} ({count} findings)", best))
        print_table(f"reporters on {count} findings in {files} files (best of {repeat}, "
                    "in-process)", rows, anchor=f"json ({count} findings)")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.py check")
    parser.add_argument("--modules", type=int, default=2000)
    parser.add_argument("--findings", type=int, default=10000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the generated repository")
    args = parser.parse_args(argv)
    bench_reporters(args.findings, args.repeat)
    bench_changed(args.modules, args.repeat, args.keep)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    raise SystemExit(main(sys.argv[1:]))
