"""``premerge init``'s proposed entries are a plain ``premerge.records`` class: each has its own
notes, and the command's start-up imports no ``dataclasses`` (nor the ``inspect`` it pulls in)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from premerge.files.starter import _Entry


def test_entries_have_their_own_notes_and_compare_by_value() -> None:
    first = _Entry("data/a.txt", False, [])
    second = _Entry(path="empty.txt", is_dir=False, references=[("main.py", 2, "open()")])
    first.notes.append("data/a.txt is empty today")
    assert second.notes == [] and (second.allow_empty, second.tracked) == (False, True)
    assert first == _Entry("data/a.txt", False, [], notes=["data/a.txt is empty today"])
    with pytest.raises(TypeError):
        hash(first)


def test_init_notes_only_the_empty_file_and_skips_dataclasses(make_repo) -> None:
    repo = make_repo({"main.py": 'open("data/a.txt").read()\nopen("empty.txt").read()\n',
                      "data/a.txt": "x\n", "empty.txt": ""})

    def imported(*args: str) -> set[str]:
        proc = subprocess.run([sys.executable, "-X", "importtime", *args], cwd=repo.path,
                              capture_output=True, text=True, timeout=120,
                              stdin=subprocess.DEVNULL)
        assert proc.returncode == 0, proc.stderr
        return {line.split("|")[-1].strip() for line in proc.stderr.splitlines()
                if line.startswith("import time:")}

    baseline = imported("-c", "pass")
    during = imported("-m", "premerge", "init")
    assert "premerge.files.starter" in during
    assert not (during - baseline) & {"dataclasses", "inspect"}
    manifest = (repo.path / "premerge.yaml").read_text()
    assert manifest.count("is empty today") == 1 and "# note: empty.txt is empty today" in manifest
    assert manifest.count("allow_empty: true") == 1
