"""Lint rules for the files the PowerShell scripts create beside files other users may
see (the provision home under ``%ProgramData%`` for SYSTEM, a shared ``-Prefix``, the
temporary folder): the names must be unpredictable and the temporary files created
exclusively, the rule ``provisioner/target/journal.py`` and ``provisioner/atomic.py``
follow (docs/files.md). Registered in :data:`tests.support.ps_lint.RULES`; each has a
failing example in tests/checks/test_ps1_lint.py.
"""

from __future__ import annotations

from collections.abc import Iterator

import tree_sitter

from tests.support.powershell import walk
from tests.support.ps_lint import Finding, _commands, _line, _method_calls, _parameter, _text, rule

# .NET's own ways to create or truncate a file at a path (System.IO.File); ``Open`` is
# judged by its FileMode argument.
_CREATING_METHODS = (
    "WriteAllText",
    "WriteAllBytes",
    "WriteAllLines",
    "AppendAllText",
    "AppendAllLines",
    "Create",
    "CreateText",
    "OpenWrite",
)
_CREATING_CMDLETS = {
    "set-content": ("LiteralPath", "Path"),
    "add-content": ("LiteralPath", "Path"),
    "out-file": ("LiteralPath", "FilePath"),
    "new-item": ("Path",),
    "copy-item": ("Destination",),
}
_UNPREDICTABLE_SOURCES = ("$pid", "get-random")


@rule("predictable-temp-name")
def predictable_name(root: tree_sitter.Node) -> Iterator[Finding]:
    """A process ID (a small number, listed to every user by ``Get-Process``) or
    ``Get-Random`` (``System.Random``, seeded from the clock in .NET Framework) in a file
    or folder name lets another user create that name first, as a link to a file of
    theirs choosing (CWE-377). Use ``[Guid]::NewGuid()`` (random) or
    ``[IO.Path]::GetRandomFileName()`` (RNGCryptoServiceProvider)."""
    for node in walk(root):
        text = _text(node).lower()
        if node.type == "variable" and text == "$pid":
            command = node.parent
            while command is not None and command.type != "command":
                command = command.parent
            head = _text(command).split(None, 1)[0].lower() if command is not None else ""
            if head == "get-process":  # the running PowerShell itself, not a name
                continue
            yield Finding("predictable-temp-name", _line(node), "a name built from $PID")
        elif node.type == "command" and text.split(None, 1)[0] == "get-random":
            yield Finding("predictable-temp-name", _line(node), "a name built from Get-Random")


def _renamed(root: tree_sitter.Node) -> dict[str, int]:
    """Source text of each path renamed into place (``Move-Item``, ``[IO.File]::Move``,
    ``[IO.File]::Replace``) -> the line of the first rename."""
    found: dict[str, int] = {}
    for command in _commands(root, "Move-Item"):
        source = _parameter(command, "LiteralPath") or _parameter(command, "Path")
        if source:
            found.setdefault(source.lower(), _line(command))
    for name in ("Move", "Replace"):
        for node, args in _method_calls(root, name):
            if args and "File" in _text(node.named_children[0]):
                found.setdefault(_text(args[0]).lower(), _line(node))
    return found


@rule("temp-file-not-exclusive")
def temp_not_exclusive(root: tree_sitter.Node) -> Iterator[Finding]:
    """A temporary file renamed over the real one must be created by this run: opened
    with ``[IO.File]::Open(PATH, 'CreateNew', ...)``: CREATE_NEW "fails" when the name
    exists, a link planted there included (CreateFileW,
    https://learn.microsoft.com/windows/win32/api/fileapi/nf-fileapi-createfilew).
    ``WriteAllText``, ``Set-Content``, ``Out-File`` and ``Open`` with another mode
    write through a link planted at that name (O_CREAT without O_EXCL on Linux)."""
    renamed = _renamed(root)
    if not renamed:
        return
    for method in (*_CREATING_METHODS, "Open"):
        for node, args in _method_calls(root, method):
            if not args or "File" not in _text(node.named_children[0]):
                continue
            path = _text(args[0]).lower()
            if path not in renamed:
                continue
            mode = _text(args[1]).strip("'\"").lower() if len(args) > 1 else ""
            if method == "Open" and mode.endswith("createnew"):
                continue
            yield Finding(
                "temp-file-not-exclusive",
                _line(node),
                f"{_text(node)!r} may write through a link at {_text(args[0])}, renamed on "
                f"line {renamed[path]}: open it with 'CreateNew'",
            )
    for cmdlet, options in _CREATING_CMDLETS.items():
        for command in _commands(root, cmdlet):
            for option in options:
                path = (_parameter(command, option) or "").lower()
                if path and path in renamed:
                    yield Finding(
                        "temp-file-not-exclusive",
                        _line(command),
                        f"{_text(command)!r} may write through a link at {path}, renamed on "
                        f"line {renamed[path]}: open it with 'CreateNew'",
                    )
