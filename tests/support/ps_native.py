"""A model of how a PowerShell script's arguments reach a native Windows program
(PowerShell cannot run here): how the caller builds the one command-line string Windows
hands over (CreateProcessW takes a single string), and how the receiving program splits
it again. Each rule names its source; the tests in tests/checks/test_ps_native_model.py
hold the model to the examples those sources give.

Callers:

- Windows PowerShell 5.1 (``powershell.exe``, every Windows 10/11 PC): its *legacy*
  argument passing. Source: ``NativeCommandParameterBinder.appendOneNativeArgument`` as
  imported from Windows PowerShell into PowerShell/PowerShell at 45140c5752 (2016-03-30,
  "Move files from psl-monad submodule to super-project"), and the summary of its flaws in
  https://github.com/PowerShell/PowerShell/issues/1995 and the RFC it links
  (https://github.com/TSlivede/PowerShell-RFC/blob/master/1-Draft/RFC%23%23%23%23-Improve-generation-of-argument-string-for-executables.md):
  an argument gets ``"..."`` only when it has whitespace outside an even number of ``"``;
  embedded ``"`` are not escaped; an empty string is dropped; a trailing ``\\`` inside
  the added quotes is not doubled (that fix, PowerShell/PowerShell#4965, came with 6.0).
- PowerShell 7.3+ with ``$PSNativeCommandArgumentPassing = 'Windows'`` (its default on
  Windows, about_Preference_Variables, "$PSNativeCommandArgumentPassing"): every argument
  escaped for the C runtime (ProcessStartInfo.ArgumentList, .NET's PasteArguments), empty
  strings passed as ``""``, except for the programs in ``s_legacyCommands`` /
  ``s_legacyFileExtensions`` of NativeCommandProcessor.cs (cmd, cscript, find, sqlcmd,
  wscript; .bat .cmd .js .vbs .wsf), which keep the legacy string (with the 6.0
  trailing-backslash fix). https://github.com/PowerShell/PowerShell/issues/15143
- ``System.Diagnostics.ProcessStartInfo.Arguments`` (check.ps1's ``Invoke-Probe``): the
  string is used as it is; .NET puts the quoted file name in front
  (``"FileName" Arguments``).

Receivers:

- the Microsoft C runtime's rules ("Parsing C command-line arguments",
  https://learn.microsoft.com/cpp/c-language/parsing-c-command-line-arguments; the
  same rules as CommandLineToArgvW): python.exe, powershell.exe, and Rust programs (uv,
  micromamba: Rust's ``std::env::args`` follows them on Windows);
- the Python launcher ``py.exe``: it reads the raw command line and takes only a *first*
  argument whose first raw character is ``-`` as its own option (``-3.11``, ``-V:3.11``,
  ``-0``, ``-0p``, ``--list``, ``--list-paths``, ``-h``); the rest of the raw line goes to
  python.exe unchanged. Source: CPython ``PC/launcher2.c`` ``parseCommandLine`` (3.11+)
  and ``PC/launcher.c`` ``process`` (3.7-3.10, which checks ``argv[1]`` but then skips
  ``wcslen(argv[1])`` characters of the *raw* line); docs:
  https://docs.python.org/3/using/windows.html#python-launcher-for-windows, PEP 397;
- ``cmd.exe /c``: the text after ``/c`` is the command; quotes are kept only in the
  narrow case ``cmd /?`` lists, otherwise a leading ``"`` and the last ``"`` are removed
  (``cmd /?``, "If /C or /K is specified, then the remainder of the command line after
  the switch is processed as a command line ..."). A switch is ``/c`` or ``/C`` as a bare
  token: the model does not guess what cmd makes of ``"/c"``, it refuses it.

The model refuses what its sources leave open (a ``""`` pair inside a quoted span, which
C runtime versions read differently, see MicrosoftDocs/cpp-docs#4643; cmd.exe's reading
of a quoted switch) instead of guessing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass


class Unmodelled(ValueError):
    """The command line depends on behaviour the sources do not settle."""


@dataclass(frozen=True)
class Param:
    """A parameter token written bare in the script (``-c``, ``--json``): PowerShell
    passes its text as it is (``parameter.ParameterText``)."""

    text: str


Arg = str | Param

_WHITESPACE = " \t\n\v\f\r\u0085\u00a0"  # char.IsWhiteSpace, the ones that matter here
LEGACY_COMMANDS = frozenset({"cmd", "cscript", "find", "sqlcmd", "wscript"})
LEGACY_EXTENSIONS = frozenset({".js", ".wsf", ".cmd", ".bat", ".vbs"})


def _is_space(ch: str) -> bool:
    return ch in _WHITESPACE or ch.isspace()


def _legacy_needs_quotes(arg: str) -> bool:
    """appendOneNativeArgument: whitespace outside an even count of ``"`` (5.1 does not
    look at backslashes before a quote)."""
    quotes = 0
    for ch in arg:
        if ch == '"':
            quotes += 1
        elif _is_space(ch) and quotes % 2 == 0:
            return True
    return False


def ps51_arguments(args: Sequence[Arg]) -> str:
    """Windows PowerShell 5.1's argument string for a native command."""
    parts: list[str] = []
    for arg in args:
        if isinstance(arg, Param):
            parts.append(arg.text)
        elif arg == "":
            parts.append("")  # only its separating space remains
        elif _legacy_needs_quotes(arg):
            parts.append('"' + arg + '"')
        else:
            parts.append(arg)
    return " ".join(parts)


def _ps7_legacy_arguments(args: Sequence[Arg]) -> str:
    """PowerShell 7's legacy string: 5.1's, with the trailing backslashes inside added
    quotes doubled (PowerShell/PowerShell#4965)."""
    parts: list[str] = []
    for arg in args:
        if isinstance(arg, Param):
            parts.append(arg.text)
        elif arg == "":
            parts.append("")
        elif _legacy_needs_quotes(arg):
            trailing = len(arg) - len(arg.rstrip("\\"))
            parts.append('"' + arg + "\\" * trailing + '"')
        else:
            parts.append(arg)
    return " ".join(parts)


def paste_argument(arg: str) -> str:
    """One argument escaped for the C runtime, as .NET's PasteArguments.AppendArgument
    does (ProcessStartInfo.ArgumentList on Windows)."""
    if arg and not any(_is_space(c) or c == '"' for c in arg):
        return arg
    out = ['"']
    i = 0
    while i < len(arg):
        j = i
        while j < len(arg) and arg[j] == "\\":
            j += 1
        backslashes = j - i
        if j == len(arg):
            out.append("\\" * (backslashes * 2))
        elif arg[j] == '"':
            out.append("\\" * (backslashes * 2 + 1) + '"')
        else:
            out.append("\\" * backslashes + arg[j])
        i = j + 1
    out.append('"')
    return "".join(out)


def ps73_arguments(args: Sequence[Arg], program: str) -> str:
    """PowerShell 7.3+ on Windows (``$PSNativeCommandArgumentPassing = 'Windows'``)."""
    base = re.split(r"[\\/]", program)[-1]
    stem, dot, ext = base.rpartition(".")
    name = stem if dot else base
    if name.lower() in LEGACY_COMMANDS or (dot and "." + ext.lower() in LEGACY_EXTENSIONS):
        return _ps7_legacy_arguments(args)
    return " ".join(a.text if isinstance(a, Param) else paste_argument(a) for a in args)


def command_line(program: str, arguments: str) -> str:
    """What CreateProcessW gets from .NET's Process.Start: the quoted file name, a space,
    the argument string."""
    return f'"{program}" {arguments}' if arguments else f'"{program}"'


def crt_argv(line: str) -> list[str]:
    """argv as the Microsoft C runtime splits ``line`` (argv[0] included)."""
    n = len(line)
    if line.startswith('"'):  # argv[0]: no escapes, a quoted part ends at the next quote
        end = line.find('"', 1)
        if end < 0:
            raise Unmodelled("unterminated quote in the program name")
        argv = [line[1:end]]
        i = end + 1
    else:
        i = 0
        while i < n and line[i] not in " \t":
            i += 1
        argv = [line[:i]]
    while True:
        while i < n and line[i] in " \t":
            i += 1
        if i >= n:
            return argv
        current: list[str] = []
        quoted = False
        while i < n:
            ch = line[i]
            if ch == "\\":
                j = i
                while j < n and line[j] == "\\":
                    j += 1
                count = j - i
                if j < n and line[j] == '"':
                    current.append("\\" * (count // 2))
                    if count % 2:  # an odd count escapes the quote
                        current.append('"')
                        j += 1
                    i = j
                else:  # backslashes are literal unless a quote follows
                    current.append("\\" * count)
                    i = j
                continue
            if ch == '"':
                if quoted and i + 1 < n and line[i + 1] == '"':
                    raise Unmodelled('a "" pair inside quotes: C runtime versions differ')
                quoted = not quoted
                i += 1
                continue
            if ch in " \t" and not quoted:
                break
            current.append(ch)
            i += 1
        # An unterminated quote: "all the characters read so far are output as the last
        # argument" (the same page).
        argv.append("".join(current))


def _argv0_end(line: str) -> int:
    """launcher2.c ``findArgv0Length``: a quoted argv0 ends after its closing quote,
    otherwise at the first space or tab."""
    if line.startswith('"'):
        end = line.find('"', 1)
        return len(line) if end < 0 else end + 1
    i = 0
    while i < len(line) and line[i] not in " \t":
        i += 1
    return i


@dataclass(frozen=True)
class LauncherCall:
    """What py.exe does with a command line: its own option (or None) and the argv
    python.exe then gets (None when the launcher only lists interpreters)."""

    option: str | None
    python_argv: tuple[str, ...] | None


_LIST_OPTIONS = ("-0", "--list", "-0p", "--list-paths")


def _is_launcher_option(token: str) -> bool:
    body = token[1:]
    return (
        body[:1] in ("2", "3")
        or body.startswith(("V:", "-version:"))
        or token in _LIST_OPTIONS
        or token in ("-h", "--help")
    )


def py_launcher_311(line: str) -> LauncherCall:
    """launcher2.c (the launcher of Python 3.11 and later)."""
    rest = line[_argv0_end(line) :]
    arg = rest.lstrip(" \t")
    python = '"C:\\Program Files\\Python311\\python.exe"'
    if arg.startswith("-") and len(arg) > 1:
        end = 0
        while end < len(arg) and not arg[end].isspace():
            end += 1
        token = arg[:end]  # raw: quotes are not removed here
        if _is_launcher_option(token):
            if token in _LIST_OPTIONS:
                return LauncherCall(token, None)
            after = arg[end:] if token not in ("-h", "--help") else arg
            return LauncherCall(token, tuple(crt_argv(python + after)[1:]))
    return LauncherCall(None, tuple(crt_argv(python + rest)[1:]))


def py_launcher_37(line: str) -> LauncherCall:
    """launcher.c (Python 3.7-3.10): ``argv[1]`` decides, then ``command += wcslen(p)``
    skips that many characters of the raw line after the program name."""
    argv = crt_argv(line)
    raw = line[_argv0_end(line) :].lstrip(" \t")
    python = '"C:\\Program Files\\Python310\\python.exe"'
    if len(argv) < 2 or not argv[1].startswith("-"):
        return LauncherCall(None, tuple(crt_argv(python + " " + raw)[1:]))
    first = argv[1]
    if len(argv) == 2 and (first.startswith("-0") or first.startswith("--list")):
        return LauncherCall(first, None)
    if re.fullmatch(r"-[23](\.\d+)?(-(32|64))?", first):
        # Skips len(argv[1]) raw characters: quotes around it in the raw line shift
        # the cut into the next argument.
        return LauncherCall(first, tuple(crt_argv(python + " " + raw[len(first) :])[1:]))
    return LauncherCall(None, tuple(crt_argv(python + " " + raw)[1:]))


def cmd_command(line: str) -> str:
    """The command ``cmd.exe /c`` runs, from its raw command line (``cmd /?``)."""
    i = _argv0_end(line)
    rest = ""
    while True:
        while i < len(line) and line[i] in " \t":
            i += 1
        end = i
        while end < len(line) and line[end] not in " \t":
            end += 1
        token = line[i:end]
        if not token:
            raise Unmodelled("cmd.exe got no /c switch")
        if token.lower() == "/c":
            rest = line[end:].lstrip(" \t")
            break
        if token.startswith("/") and '"' not in token:
            i = end  # another switch (/d, /s, /u ...)
            continue
        raise Unmodelled(f"cmd.exe reads {token!r} where it expects a /c switch")
    inner = rest.split('"')[1] if rest.count('"') == 2 else ""
    if inner and not re.search(r"[&<>()@^|]", inner) and re.search(r"\s", inner):
        raise Unmodelled("cmd.exe keeps these quotes if they name an executable file")
    if rest.startswith('"'):
        last = rest.rfind('"')
        rest = rest[1:last] + rest[last + 1 :]
    return rest
