"""Reference discovery, one form at a time: what is found, and the clean twins that are not."""

from __future__ import annotations

import textwrap

import pytest

from premerge.files.references import CHECK, GUARDED_READ, OTHER, READ, WRITE, extract


def refs(source: str, relpath: str = "pkg/mod.py") -> list[tuple[str, str, tuple[str, ...], bool]]:
    found = extract(textwrap.dedent(source), relpath)
    return [(r.target, r.anchor, tuple(sorted(r.usages)), r.dynamic) for r in found]


@pytest.mark.parametrize(("source", "target"), [
    ('from pathlib import Path\nPath(__file__).parent.joinpath("CLAUDE.md").read_text()\n',
     "pkg/CLAUDE.md"),
    ('from pathlib import Path\n(Path(__file__).parent / "CLAUDE.md").read_text()\n',
     "pkg/CLAUDE.md"),
    ('from pathlib import Path\n(Path(__file__).resolve().parents[1] / "templates" / "x.md")'
     '.read_text()\n', "templates/x.md"),
    ('import os\nopen(os.path.join(os.path.dirname(__file__), "templates", "x.md")).read()\n',
     "pkg/templates/x.md"),
    ('import os\nopen(os.path.join(os.path.dirname(os.path.abspath(__file__)), "x.md"))\n',
     "pkg/x.md"),
    ('import os.path as osp\nopen(osp.join(osp.dirname(osp.realpath(__file__)), "..", "x.md"))\n',
     "x.md"),
    ('from os.path import dirname, join\nopen(join(dirname(__file__), "data/x.json"))\n',
     "pkg/data/x.json"),
    ('import pathlib\nopen(pathlib.Path(__file__).with_name("settings.toml"))\n',
     "pkg/settings.toml"),
    ('from pathlib import Path\nPath(__file__).with_suffix(".json").read_text()\n',
     "pkg/mod.json"),
    ('from pathlib import Path\nHERE = Path(__file__).parent\nopen(f"{HERE}/assets/logo.png")\n',
     "pkg/assets/logo.png"),
    ('import os\nHERE = os.path.dirname(__file__)\nopen(HERE + "/x.txt")\n', "pkg/x.txt"),
    ('import os\nopen(os.path.split(__file__)[0] + "/x.txt")\n', "pkg/x.txt"),
    ('import pkgutil\npkgutil.get_data(__name__, "data/x.json")\n', "pkg/data/x.json"),
    ('from importlib.resources import files\nfiles(__package__).joinpath("x.json").read_text()\n',
     "pkg/x.json"),
    ('import importlib.resources\n(importlib.resources.files("pkg") / "x.json").read_bytes()\n',
     "pkg/x.json"),
    ('from importlib import resources\n'
     '(resources.files("pkg.vendor") / "tlds.txt").read_text()\n', "pkg/vendor/tlds.txt"),
    ('try:\n    from importlib.resources import files\nexcept ImportError:\n'
     '    from importlib_resources import files\n'
     'files(__package__).joinpath("schemas.json").read_text()\n', "pkg/schemas.json"),
    ('import pkg_resources\npkg_resources.resource_string(__name__, "launcher manifest.xml")\n',
     "pkg/launcher manifest.xml"),
])
def test_file_derived_paths(source: str, target: str) -> None:
    found = refs(source)
    assert [(t, a) for t, a, _, _ in found] == [(target, "file")], found
    assert READ in found[0][2] or OTHER in found[0][2]


def test_module_constant_used_elsewhere_is_a_reference() -> None:
    # other modules may import it (settings.BRIEFING): a resource, though no read is seen
    found = refs('from pathlib import Path\nBRIEFING = Path(__file__).parent / "CLAUDE.md"\n')
    assert found == [("pkg/CLAUDE.md", "file", (OTHER,), False)]


def test_variable_chain_across_functions() -> None:
    found = refs('''
        from pathlib import Path
        ROOT = Path(__file__).resolve().parents[1]
        BRIEFING = ROOT / "CLAUDE.md"

        def provision(worktree):
            import shutil
            shutil.copy(BRIEFING, worktree / "CLAUDE.md")
    ''')
    assert found == [("CLAUDE.md", "file", (READ,), False)]


def test_directory_with_computed_name_is_dynamic() -> None:
    found = refs('''
        from pathlib import Path
        TEMPLATES = Path(__file__).parent / "templates"
        def role(name):
            return (TEMPLATES / f"{name}.md").read_text()
    ''')
    assert found == [("pkg/templates", "file", (READ,), True)]


def test_literal_names_in_file_apis() -> None:
    found = refs('''
        import json, os, shutil
        from pathlib import Path
        CONFIG = "settings.json"
        open("README.md").read()
        json.load(open(CONFIG))
        shutil.copy("CLAUDE.md", "/tmp/x")
        Path("docs/index.md").read_text()
        os.path.exists("setup.cfg")
    ''')
    assert found == [
        ("README.md", "cwd", (READ,), False),
        ("settings.json", "cwd", (READ,), False),
        ("CLAUDE.md", "cwd", (READ,), False),
        ("docs/index.md", "cwd", (READ,), False),
        ("setup.cfg", "cwd", (CHECK,), False),
    ]


def test_usages_write_check_guarded() -> None:
    found = {t: u for t, _, u, _ in refs('''
        import os, contextlib
        from pathlib import Path
        HERE = Path(__file__).parent
        (HERE / "out.json").write_text("{}")
        open(HERE / "log.txt", "a").write("x")
        (HERE / "build").mkdir(exist_ok=True)
        if (HERE / "local.yaml").exists():
            pass
        try:
            (HERE / "optional.txt").read_text()
        except FileNotFoundError:
            pass
        with contextlib.suppress(OSError):
            open(HERE / "maybe.txt").read()
        open(HERE / "rw.txt", mode="r+").read()
    ''')}
    assert found == {
        "pkg/out.json": (WRITE,), "pkg/log.txt": (WRITE,), "pkg/build": (WRITE,),
        "pkg/local.yaml": (CHECK,), "pkg/optional.txt": (GUARDED_READ,),
        "pkg/maybe.txt": (GUARDED_READ,), "pkg/rw.txt": (READ,),
    }


@pytest.mark.parametrize("source", [
    # runtime data: none of these is a repository path
    'from pathlib import Path\n(Path.home() / ".config" / "CLAUDE.md").read_text()\n',
    'import os\nopen(os.path.expanduser("~/CLAUDE.md")).read()\n',
    'import tempfile, os\nopen(os.path.join(tempfile.gettempdir(), "CLAUDE.md")).read()\n',
    'import os\nopen(os.path.join(os.environ["DATA"], "CLAUDE.md")).read()\n',
    'import os\nopen(os.path.join(os.getenv("DATA", "."), "CLAUDE.md")).read()\n',
    'import sys\nopen(sys.argv[1]).read()\n',
    'from pathlib import Path\ndef f(base):\n    return (base / "CLAUDE.md").read_text()\n',
    'from pathlib import Path\ndef f(base=Path.cwd()):\n    return (base / "x.md").read_text()\n',
    'from pathlib import Path\nclass A:\n    def f(self):\n        return (self.root / "x.md").read_text()\n',
    # a name bound twice is unknown: which value reaches the read depends on the run
    'from pathlib import Path\nimport sys\nBASE = Path(__file__).parent\nif sys.argv:\n'
    '    BASE = Path(sys.argv[1])\n(BASE / "x.md").read_text()\n',
    # rebinding through `global` or `nonlocal` makes the value depend on what ran first
    'from pathlib import Path\nBASE = None\ndef setup():\n    global BASE\n'
    '    BASE = Path(__file__).parent\ndef read():\n    return (BASE / "x.md").read_text()\n',
    'from pathlib import Path\ndef outer():\n    d = Path(__file__).parent\n    def inner():\n'
    '        nonlocal d\n        d = d / "y"\n    return (d / "z.md").read_text()\n',
    # a path variable never used is not a reference; neither is the module's own directory
    'from pathlib import Path\ndef f():\n    unused = Path(__file__).parent / "x.md"\n',
    'from pathlib import Path\nimport sys\nsys.path.insert(0, str(Path(__file__).parent))\n',
    # leaving the repository is not ours to judge
    'from pathlib import Path\n(Path(__file__).parents[5] / "x.md").read_text()\n',
    'from pathlib import Path\n(Path(__file__).parent / "/etc/passwd").read_text()\n',
    # a shadowed __file__
    'import sys\n__file__ = sys.argv[0]\nfrom pathlib import Path\n'
    '(Path(__file__).parent / "x.md").read_text()\n',
    # strings that are not paths in file APIs
    'print("CLAUDE.md")\nname = "CLAUDE.md"\n',
    'def open(x):\n    return x\nopen("README.md")\n',
])
def test_runtime_data_and_unknowns_are_silent(source: str) -> None:
    assert refs(source) == []


def test_unparsable_source_raises_syntax_error() -> None:
    with pytest.raises(SyntaxError):
        extract("def f(:\n", "x.py")
