#!/usr/bin/env python3
"""Save scope's reports on real corpora, to show a refactoring changed no verdict.

    python scripts/report_snapshot.py OUT [--premerge CMD] [DIR ...]
    diff -r BEFORE AFTER

Runs ``premerge scope --no-cache --format json`` on the running interpreter's standard library,
its site-packages, this repository's tests and any DIR given, from a neutral directory, and
writes one JSON file per corpus with the timing fields removed and keys sorted, so two
snapshots (say, one from a checkout of the commit before a change, one after) differ only
where a finding did.  ``--premerge`` names the command to run (default: this interpreter's
``-m premerge``), e.g. another virtualenv's ``bin/premerge``.  Prints each corpus's count.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def corpora(extra: Sequence[str]) -> dict[str, Path]:
    """Name -> directory: the stdlib, the base installation's site-packages (the same for every
    virtualenv made from it), the tests, then each extra directory."""
    paths = sysconfig.get_paths(vars={"base": sys.base_prefix, "platbase": sys.base_exec_prefix})
    found = {"stdlib": Path(paths["stdlib"]), "site-packages": Path(paths["purelib"]),
             "tests": ROOT / "tests"}
    for directory in extra:
        path = Path(directory).resolve()
        found[path.name or "root"] = path
    return found


def snapshot(premerge: Sequence[str], directory: Path) -> dict[str, object]:
    """The JSON report on ``directory`` without the fields that change from run to run."""
    with tempfile.TemporaryDirectory() as neutral:  # never run inside a corpus
        env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
        proc = subprocess.run([*premerge, "scope", "--no-cache", "--fail-on", "never",
                               "--format", "json", str(directory)],
                              cwd=neutral, capture_output=True, text=True, env=env,
                              stdin=subprocess.DEVNULL, check=False)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"premerge exited {proc.returncode} on {directory}: "
                         f"{proc.stderr.strip()[-500:]}")
    report = json.loads(proc.stdout)
    report["summary"].pop("seconds", None)
    return report


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="report_snapshot.py", description=__doc__.split("\n")[0])
    parser.add_argument("out", help="directory to write one JSON file per corpus into")
    parser.add_argument("dirs", nargs="*", help="more corpora")
    parser.add_argument("--premerge", default=f"{shlex.quote(sys.executable)} -m premerge",
                        help="the premerge command to run (default: %(default)s)")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for name, directory in corpora(args.dirs).items():
        report = snapshot(shlex.split(args.premerge), directory)
        (out / f"{name}.json").write_text(json.dumps(report, indent=1, sort_keys=True) + "\n",
                                          encoding="utf-8")
        print(f"{name}: {len(report['findings'])} findings in {report['summary']['files']} "
              f"files ({directory})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
