"""Manifest loading and validation: every error is one line with file, line and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from premerge.config import ConfigError, load_config, parse_manifest


def parse(text: str, root: Path) -> object:
    return parse_manifest(text, root, "premerge.yaml")


def test_no_manifest_gives_defaults(tmp_path: Path) -> None:
    config = load_config(tmp_path)
    assert config.manifest is None
    assert config.required_files == []
    assert config.smoke.timeout == 20.0 and config.smoke.include == ["**/*.py"]


def test_full_manifest(tmp_path: Path) -> None:
    config = parse(
        "version: 1\n"
        "required_files:\n"
        "  - CLAUDE.md\n"
        "  - path: templates/*.md\n"
        "    reason: briefings\n"
        "    min_count: 2\n"
        "    allow_empty: true\n"
        "    tracked: false\n"
        "    worktrees: true\n"
        "scope:\n  exclude: ['scheduler_backups/**']\n"
        "smoke:\n  python: .venv/bin/python\n  timeout: 5\n  jobs: 2\n  env: [LANG]\n",
        tmp_path)
    first, second = config.required_files
    assert (first.path, first.line, first.tracked) == ("CLAUDE.md", 3, True)
    assert (second.path, second.min_count, second.allow_empty, second.tracked,
            second.worktrees, second.line) == ("templates/*.md", 2, True, False, True, 4)
    assert second.is_glob and not first.is_glob
    assert config.scope.exclude == ["scheduler_backups/**"]
    assert (config.smoke.python, config.smoke.timeout, config.smoke.jobs) == (
        ".venv/bin/python", 5.0, 2)


@pytest.mark.parametrize(("text", "expected"), [
    ("versoin: 1\n", "premerge.yaml:1: unknown key 'versoin' (did you mean 'version'?)"),
    ("version: 2\n", "premerge.yaml:1: unsupported 'version': 2"),
    ("version: 1\nrequired_files: CLAUDE.md\n", "premerge.yaml:2: 'required_files' must be a list"),
    ("required_files:\n  - path: a\n    min_cout: 2\n",
     "premerge.yaml:3: unknown key required_files[].'min_cout' (did you mean 'min_count'?)"),
    ("required_files:\n  - path: a\n    allow_empty: yes please\n",
     "premerge.yaml:3: 'allow_empty' must be true or false, got a string"),
    ("required_files:\n  - /etc/passwd\n", "premerge.yaml:2: 'required_files': '/etc/passwd' is absolute"),
    ("required_files:\n  - ../secret\n", "premerge.yaml:2: 'required_files': '../secret' leaves the repository"),
    ("required_files:\n  - a.md\n  - ./a.md\n", "premerge.yaml:3: duplicate required_files entry './a.md' (first at line 2)"),
    ("smoke:\n  timeout: -1\n", "premerge.yaml:2: 'smoke.timeout' must be more than 0"),
    ("smoke:\n  jobs: 1.5\n", "premerge.yaml:2: 'smoke.jobs' must be a whole number, got a number"),
    ("smoke: [1]\n", "premerge.yaml:1: 'smoke' must be a mapping, got a list"),
    ("version: 1\nversion: 1\n", "premerge.yaml:2: duplicate key 'version' (first at line 1)"),
    ("required_files: [a\n", "premerge.yaml:2:1: invalid YAML"),
    ("- just\n- a list\n", "premerge.yaml:1: 'the manifest' must be a mapping"),
])
def test_invalid_manifests(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse(text, tmp_path)
    message = str(info.value)
    assert message.startswith(expected), message
    assert "\n" not in message


def test_symlink_leaving_repository(tmp_path: Path) -> None:
    outside = tmp_path / "outside.md"
    outside.write_text("x")
    root = tmp_path / "repo"
    root.mkdir()
    (root / "link.md").symlink_to(outside)
    with pytest.raises(ConfigError, match=r"premerge.yaml:2: 'required_files': 'link.md' is a "
                                          r"symlink that points outside"):
        parse("required_files:\n  - link.md\n", root)


def test_empty_manifest_is_valid(tmp_path: Path) -> None:
    (tmp_path / "premerge.yaml").write_text("# nothing yet\n")
    config = load_config(tmp_path)
    assert config.manifest == tmp_path / "premerge.yaml"
    assert config.required_files == []


def test_binary_manifest_is_one_line_error(tmp_path: Path) -> None:
    (tmp_path / "premerge.yaml").write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(tmp_path)


def test_cli_reports_invalid_manifest_exit_2(run_cli, make_repo) -> None:
    repo = make_repo({"premerge.yaml": "required_files:\n  - path: a\n    bogus: 1\n"})
    result = run_cli("scope", cwd=repo.path)
    assert result.code == 2
    assert result.err.strip().startswith("premerge: error: premerge.yaml:3: unknown key")


# --- hostile and unusual manifests: bounded, one line, never a hang or a traceback ----------

BILLION_LAUGHS = (
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    + "".join(f"{n}: &{n} [{', '.join([f'*{p}'] * 9)}]\n"
              for p, n in zip("abcdefgh", "bcdefghi"))
)


@pytest.mark.parametrize(("text", "expected"), [
    (BILLION_LAUGHS, "expands to more than 100000 values"),
    ("a: &a [*a]\n", "a recursive alias"),
    # premerge's own depth bound, or PyYAML >= 6.0.4's "exceeded maximum nesting depth"
    ("scope: " + "[" * 5000 + "]" * 5000 + "\n", "nest"),
    ("base: &base {exclude: [x]}\nscope:\n  <<: *base\n", "merge keys ('<<') are not supported"),
    ("smoke:\n  python: !!python/object/apply:os.system ['echo pwned']\n", "invalid value"),
    ("version: !!binary aGVsbG8=\n", "'version' must be a number"),
    ("? [a, b]\n: 1\n", "keys must be strings"),
    ("version: 1\n\tbad: tab\n", "invalid YAML"),
])
def test_hostile_manifests_are_bounded_errors(tmp_path: Path, text: str, expected: str) -> None:
    import time

    start = time.perf_counter()
    with pytest.raises(ConfigError) as info:
        parse(text, tmp_path)
    assert time.perf_counter() - start < 10  # not a hang (generous: CI machines are slow)
    message = str(info.value)
    assert expected in message, message
    assert message.startswith("premerge.yaml:") and "\n" not in message


def test_aliases_within_bounds_still_work(tmp_path: Path) -> None:
    config = parse("scope:\n  exclude: &ex ['build/**']\nsmoke:\n  exclude: *ex\n", tmp_path)
    assert config.smoke.exclude == ["build/**"] == config.scope.exclude


def test_huge_manifest_is_refused_before_parsing(tmp_path: Path) -> None:
    (tmp_path / "premerge.yaml").write_text("# x\n" * 400_000)
    with pytest.raises(ConfigError, match="over 1024 KiB"):
        load_config(tmp_path)


def test_manifest_that_is_a_directory(tmp_path: Path) -> None:
    (tmp_path / "premerge.yaml").mkdir()
    with pytest.raises(ConfigError, match="is a directory"):
        load_config(tmp_path)


def test_explicit_missing_manifest(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such manifest file"):
        load_config(tmp_path, tmp_path / "nope.yaml")


def test_glob_under_a_symlinked_directory_leaving_the_repository(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    root = tmp_path / "repo"
    root.mkdir()
    (root / "templates").symlink_to(outside, target_is_directory=True)
    with pytest.raises(ConfigError, match=r"premerge.yaml:2: 'path': 'templates/\*.md' is a "
                                          r"symlink that points outside"):
        parse("required_files:\n  - path: templates/*.md\n", root)


def test_symlink_inside_the_repository_is_fine(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "CLAUDE.md").write_text("x")
    (tmp_path / "CLAUDE.md").symlink_to("docs/CLAUDE.md")
    assert parse("required_files: [CLAUDE.md]\n", tmp_path).required_files[0].path == "CLAUDE.md"


def test_entry_columns_point_at_the_value(tmp_path: Path) -> None:
    config = parse("required_files:\n  - CLAUDE.md\n  -   path: x.md\n", tmp_path)
    assert [(e.line, e.col) for e in config.required_files] == [(2, 5), (3, 7)]


def test_cached_parse_still_validates_the_disk(tmp_path: Path) -> None:
    """The YAML node tree is cached by content; the checks against the disk are not."""
    root = tmp_path / "repo"
    root.mkdir()
    (root / "premerge.yaml").write_text("required_files:\n  - link.md\n")
    assert load_config(root).required_files[0].path == "link.md"  # fills the cache
    outside = tmp_path / "secret.md"
    outside.write_text("x")
    (root / "link.md").symlink_to(outside)
    with pytest.raises(ConfigError, match="symlink that points outside"):
        load_config(root)  # same text: the cached tree, validated again
    (root / "link.md").unlink()
    (root / "premerge.yaml").write_text("required_files:\n  - link.md\n  - link.md\n")
    with pytest.raises(ConfigError, match="duplicate required_files entry"):
        load_config(root, use_cache=False)


def test_cached_and_fresh_parse_agree(tmp_path: Path) -> None:
    text = ("version: 1\nrequired_files:\n  - CLAUDE.md\n  - path: t/*.md\n    min_count: 2\n"
            "    worktrees: true\nsmoke:\n  timeout: 2.5\n  env: [LANG]\n")
    (tmp_path / "premerge.yaml").write_text(text)
    first = load_config(tmp_path)
    second = load_config(tmp_path)  # from the cache
    fresh = load_config(tmp_path, use_cache=False)
    assert first.required_files == second.required_files == fresh.required_files
    assert first.smoke == second.smoke == fresh.smoke and first.lines == second.lines
