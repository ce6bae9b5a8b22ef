"""PM2xx: required files and the manifest.  One class per message, pyflakes-style.

Findings about a manifest entry are reported at the entry's line in ``premerge.yaml``; findings
about a code reference (PM207, PM208) at the code line that makes it.
"""

from __future__ import annotations

from premerge.findings import Rule, Severity

_CLONE = "it would be missing from every clean clone, CI run and new worktree"


class MissingFile(Rule):
    code = "PM201"
    title = "required file missing"
    template = "required file '{name}' is missing{detail}"
    help = ("A file declared in premerge.yaml's required_files does not exist at the repository "
            "root. Code that reads it fails at run time (or, worse, prints a warning and carries "
            "on). Restore the file, or remove the entry if it is no longer needed.")
    example = "required_files: [CLAUDE.md]   # and no CLAUDE.md in the repository"


class TooFewMatches(Rule):
    code = "PM202"
    title = "glob matches too few files"
    template = "'{name}' matches {count} file{plural}, fewer than min_count {min_count}"
    help = ("A required_files glob matches fewer files than its min_count (default 1): a "
            "directory of templates or briefings was emptied, renamed or never added.")
    example = "- path: templates/*.md\n  min_count: 2   # and only one template exists"


class UntrackedFile(Rule):
    code = "PM203"
    title = "required file not committed"
    template = "'{name}' exists here but is not committed (untracked): " + _CLONE
    help = ("The file is on disk in this checkout but git does not track it, so every clean "
            "clone, CI run and new git worktree lacks it. `git add` and commit it (or set "
            "`tracked: false` on the entry if it is generated on purpose).")
    example = "CLAUDE.md created locally, never `git add`-ed"


class IgnoredFile(Rule):
    code = "PM204"
    title = "required file ignored by git"
    template = "'{name}' exists here but git ignores it ({source}): " + _CLONE
    help = ("The file is on disk but matched by a .gitignore (or .git/info/exclude, or the "
            "global excludes file) rule, so `git add` skips it and every clean clone, CI run "
            "and new git worktree lacks it. Narrow the ignore rule (the related location shows "
            "it) or force-add the file.")
    example = ".gitignore: *.md   # and CLAUDE.md is required"


class EmptyFile(Rule):
    code = "PM205"
    title = "required file empty"
    template = "required file '{name}' is empty"
    help = ("The declared file exists but has no content. An empty briefing or template is "
            "as bad as a missing one, only quieter. Fill it, or set `allow_empty: true` on the "
            "entry when an empty file is valid.")
    example = "touch CLAUDE.md"


class MissingInWorktree(Rule):
    code = "PM206"
    title = "required file missing from a worktree"
    template = "'{name}' is missing from the git worktree {worktree} ({branch}){detail}"
    help = ("The entry has `worktrees: true`, and one of the repository's git worktrees "
            "(`git worktree list`) lacks the file: the agent or build working there runs "
            "without it. Commit the file on that worktree's branch (or rebase it), or copy it "
            "in, and make the provisioning step fail loudly instead of warning.")
    example = ("- path: CLAUDE.md\n  worktrees: true   # and `git worktree add ../agent1` on a "
               "branch without it")


class UndeclaredReference(Rule):
    code = "PM207"
    title = "referenced file not declared"
    template = "'{name}' is {usage} by this code but not declared in premerge.yaml{detail}"
    help = ("The code reaches for a repository file (a path built from __file__, from the "
            "repository root, or the literal name of a tracked file in open()/Path()/"
            "shutil.copy()/read_text()) that required_files does not declare, so nothing stops "
            "it from being deleted, emptied or left out of a worktree. Declare it (a glob "
            "covers a directory), or list the path under `files.exclude`. Runtime data (home, "
            "temp, environment, arguments, files the program writes) is never reported.")
    example = 'BRIEFING = Path(__file__).parent / "CLAUDE.md"   # CLAUDE.md not in premerge.yaml'


class BrokenReference(Rule):
    code = "PM208"
    title = "broken resource path"
    template = "'{name}' {problem}: this code reads it relative to {anchor}"
    help = ("The code reads a path built from __file__ (or the repository root) that is not in "
            "the repository: it does not exist, or exists only here without being committed. "
            "The read fails at run time, in a clean clone or in CI. Paths the code checks "
            "first (`.exists()`, a try/except OSError), writes or creates itself, hands to "
            "code premerge cannot see (which may create them), or that .gitignore ignores are "
            "treated as optional or runtime data and not reported.")
    example = 'Path(__file__).parent.joinpath("templates", "role.md").read_text()  # no such file'


class ManifestNotCommitted(Rule):
    code = "PM209"
    title = "manifest not committed"
    template = "{name} is not committed ({state}): CI and clean clones check none of its entries"
    severity = Severity.WARNING
    help = ("The manifest itself is untracked or ignored, so every other checkout (CI, a "
            "colleague's clone, a new worktree) runs without its declarations. Commit it.")
    example = "premerge init   # and premerge.yaml never committed"


class SwallowedFailure(Rule):
    code = "PM210"
    title = "required file's failure swallowed"
    template = ("{verb} required file '{name}' can fail silently: the handler at line "
                "{handler_line} {behaviour}")
    severity = Severity.WARNING  # an error for entries with `worktrees: true`
    help = ("The code reads, copies or moves a file premerge.yaml declares inside a try whose "
            "handler catches the failure (OSError or a subclass, shutil.Error, Exception, "
            "BaseException, a bare except) and then only logs, prints, warns, passes or "
            "continues, or inside `with contextlib.suppress(...)` -- in its own function or in "
            "a caller in the same module: the file goes missing and the run still succeeds. Re-raise (or raise "
            "your own error), exit non-zero, return a value the caller can tell from success, "
            "or record the failure and test it after the loop. An error for entries with "
            "`worktrees: true` (provisioning is their whole point), a warning otherwise.")
    example = ("try:\n    shutil.copy2(ROOT / \"CLAUDE.md\", tree / \"CLAUDE.md\")\n"
               "except Exception as e:\n    print(f\"Warning: Could not copy CLAUDE.md: {e}\")")
