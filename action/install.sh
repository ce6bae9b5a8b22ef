#!/usr/bin/env bash
# Install premerge from the action's own directory into a dedicated virtualenv, so neither
# premerge nor its dependency (PyYAML) lands in the project's environment: smoke
# imports the project with the workflow's Python, and premerge must not change what it sees.
# Inputs (environment only): PREMERGE_ACTION_PATH; writes `python=<venv python>` to $GITHUB_OUTPUT.
set -euo pipefail
# The step starts in the workspace, the pull request's code: every Python here runs isolated
# (-I: no working directory, PYTHONPATH or user site on sys.path) from a directory outside it,
# so a venv/, pip/ or premerge/ in the checkout can never run in this step.

action_path="${PREMERGE_ACTION_PATH:?PREMERGE_ACTION_PATH is not set}"
venv="${RUNNER_TEMP:-${TMPDIR:-/tmp}}/premerge-venv"
cd "${RUNNER_TEMP:-${TMPDIR:-/tmp}}"

# The workflow's Python first (actions/setup-python puts it on PATH); premerge needs 3.10+, and a
# project tested on 3.9 still gets premerge from a newer interpreter on the runner.
interpreter=""
for candidate in python3 python python3.13 python3.12 python3.11 python3.10 /usr/bin/python3; do
  if command -v "$candidate" >/dev/null 2>&1 &&
     "$candidate" -I -c 'import sys; raise SystemExit(sys.version_info < (3, 10))' >/dev/null 2>&1; then
    interpreter="$candidate"
    break
  fi
done
if [ -z "$interpreter" ]; then
  echo "::error title=premerge::premerge needs Python 3.10 or newer on PATH: add actions/setup-python before this step"
  exit 2
fi

"$interpreter" -I -m venv "$venv"
if [ -x "$venv/bin/python" ]; then
  venv_python="$venv/bin/python"
else
  venv_python="$venv/Scripts/python.exe"
fi
"$venv_python" -I -m pip install --quiet --disable-pip-version-check "$action_path"
echo "premerge: installed $("$venv_python" -I -m premerge --version) with $("$interpreter" --version 2>&1) into $venv" >&2
echo "python=$venv_python" >> "${GITHUB_OUTPUT:?GITHUB_OUTPUT is not set}"
