"""PM0xx: input and tool problems.  A bad file gets one of these, never a traceback."""

from __future__ import annotations

from premerge.findings import Rule, Severity


class UnreadableFile(Rule):
    code = "PM001"
    title = "unreadable file"
    template = "cannot read this file: {reason}"
    help = ("The file could not be read (permissions, a dangling or looping symlink, an I/O "
            "error). It was skipped; the other files were still checked.")
    example = "ln -s missing.py broken.py"


class SyntaxErrorInFile(Rule):
    code = "PM002"
    title = "syntax error"
    template = "syntax error: {reason}"
    help = ("Python cannot parse the file, so nothing in it was analysed. The same error would "
            "stop the module from importing.")
    example = "def f(:\n    pass"


class BadEncoding(Rule):
    code = "PM003"
    title = "undecodable source"
    template = "cannot decode this file: {reason}"
    help = ("The bytes do not decode with the file's declared encoding (PEP 263 coding cookie, "
            "BOM, else UTF-8), or the file holds NUL bytes: Python would refuse to import it.")
    example = "# -*- coding: utf-8 -*-\\nname = '\\xff'  (raw byte 0xff)"


class SkippedFile(Rule):
    code = "PM004"
    title = "file skipped"
    template = "not analysed: {reason}"
    severity = Severity.WARNING
    help = ("The file was not analysed (too large, binary content, nested too deeply for the "
            "parser). Nothing is known about it; split it or exclude it in premerge.yaml.")
    example = "a 50 MB generated module"


class NotRegularFile(Rule):
    code = "PM006"
    title = "not a regular file"
    template = "not read: {reason}"
    help = ("A path premerge was asked to read is a device, a FIFO, a socket or a directory "
            "(often a committed symlink to one, such as /dev/zero). Reading it could block "
            "forever or never end, so it was not opened for reading; Python would hang or fail "
            "on it the same way. Commit a regular file, or exclude the path.")
    example = "ln -s /dev/zero z.py"


class NotChecked(Rule):
    code = "PM005"
    title = "names not checked"
    template = "names in this file were not checked: {reason}"
    severity = Severity.NOTE
    help = ("The module makes its namespace unknowable statically (a star import from a module "
            "that cannot be resolved, writes to globals(), a module-level __getattr__, exec). "
            "premerge stays silent about undefined names there rather than guess, and says so "
            "once per file.")
    example = "from somewhere_unknown import *"


class InternalError(Rule):
    code = "PM009"
    title = "internal error"
    template = "premerge failed on this file: {reason}"
    help = ("An unexpected error inside premerge while checking this file. The other files were "
            "still checked. Please report it with the file that triggers it.")
    example = ""
