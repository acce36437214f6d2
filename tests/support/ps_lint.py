"""Lint rules for Windows PowerShell 5.1 pitfalls, on the tree-sitter tree of a script.

Each rule names the 5.1 behaviour it guards against and where it is documented; each has
a failing example in tests/checks/test_ps1_lint.py, and every rendered script and golden
file must pass all of them. PowerShell cannot run here, so these are read off the tree.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import tree_sitter

from tests.support.powershell import parse, walk
from tests.support.ps_calls import Unevaluated, evaluate, native_calls, script_functions


@dataclass(frozen=True)
class Finding:
    rule: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.line}: {self.rule}: {self.message}"


Rule = Callable[[tree_sitter.Node], Iterator[Finding]]
RULES: dict[str, Rule] = {}


def rule(name: str) -> Callable[[Rule], Rule]:
    def register(fn: Rule) -> Rule:
        RULES[name] = fn
        return fn

    return register


def lint(source: str, only: str | None = None) -> list[Finding]:
    root = parse(source).root_node
    found: list[Finding] = []
    for name, fn in RULES.items():
        if only is None or name == only:
            found.extend(fn(root))
    return sorted(found, key=lambda f: (f.line, f.rule))


# -- tree helpers --------------------------------------------------------------------------
def _text(node: tree_sitter.Node) -> str:
    return (node.text or b"").decode("utf-8")


def _line(node: tree_sitter.Node) -> int:
    return node.start_point[0] + 1


def _commands(root: tree_sitter.Node, name: str) -> Iterator[tree_sitter.Node]:
    for node in walk(root):
        if node.type == "command":
            head = next((c for c in node.children if c.type == "command_name"), None)
            if head is not None and _text(head).lower() == name.lower():
                yield node


def _elements(command: tree_sitter.Node) -> list[tree_sitter.Node]:
    elements = next((c for c in command.children if c.type == "command_elements"), None)
    return [c for c in elements.children if c.type != "command_argument_sep"] if elements else []


def _parameter(command: tree_sitter.Node, name: str) -> str | None:
    """The value after ``-name`` (case-insensitive, a unique prefix is not resolved), '' for
    a switch, None when absent."""
    items = _elements(command)
    for i, item in enumerate(items):
        if item.type == "command_parameter":
            text = _text(item)
            bare, _, joined = text.partition(":")
            if bare.lower() == "-" + name.lower():
                if joined:
                    return joined
                following = items[i + 1] if i + 1 < len(items) else None
                if following is not None and following.type != "command_parameter":
                    return _text(following).strip("'\"")
                return ""
    return None


def _inside(node: tree_sitter.Node, kind: str, *, stop: str | None = None) -> bool:
    current = node.parent
    while current is not None:
        if current.type == kind:
            return True
        if stop is not None and current.type == stop:
            return False
        current = current.parent
    return False


def _in_try_body(node: tree_sitter.Node) -> bool:
    """Inside the ``{ }`` of a try (not its catch or finally)."""
    current = node
    while current.parent is not None:
        parent = current.parent
        if parent.type == "try_statement" and current.type == "statement_block":
            return True
        if parent.type == "function_statement":
            return False
        current = parent
    return False


def _sets_stop(root: tree_sitter.Node) -> bool:
    return bool(re.search(r"(?im)^\s*\$ErrorActionPreference\s*=\s*'Stop'", _text(root)))


# -- rules -----------------------------------------------------------------------------------
@rule("native-stderr-under-stop")
def native_stderr(root: tree_sitter.Node) -> Iterator[Finding]:
    """Windows PowerShell 5.1 turns each stderr line of a native command whose stderr is
    redirected (``2>$null``, ``2>&1``) into an error record; under ``Stop`` the first one
    ends the script (about_Redirection; PowerShell/PowerShell#3996, changed only in 7.2,
    about_Preference_Variables ``$PSNativeCommandUseErrorActionPreference``)."""
    if not _sets_stop(root):
        return
    for call in native_calls(_text(root)):
        if call.wrapper is None and any(r.startswith(("2>", "*>")) for r in call.redirections):
            node = _node_at(root, call.line, call.text)
            if node is None or not _in_try_body(node):
                yield Finding(
                    "native-stderr-under-stop",
                    call.line,
                    f"{call.text.splitlines()[0]!r} redirects stderr under 'Stop' outside a try",
                )


def _node_at(root: tree_sitter.Node, line: int, text: str) -> tree_sitter.Node | None:
    for node in walk(root):
        if node.type == "command" and _line(node) == line and _text(node) == text:
            return node
    return None


_DATE_FORMAT = re.compile(r"yy|MM|dd|HH|hh|mm|ss|ff|FF|tt|zz")


def _method_calls(
    root: tree_sitter.Node, name: str
) -> Iterator[tuple[tree_sitter.Node, list[tree_sitter.Node]]]:
    for node in walk(root):
        if node.type != "invokation_expression":
            continue
        member = next((c for c in node.children if c.type == "member_name"), None)
        if member is None or _text(member).lower() != name.lower():
            continue
        arguments = next((c for c in node.children if c.type == "argument_list"), None)
        listed = (
            next((c for c in arguments.children if c.type == "argument_expression_list"), None)
            if arguments
            else None
        )
        yield node, [c for c in listed.named_children] if listed else []


@rule("date-format-without-culture")
def date_format(root: tree_sitter.Node) -> Iterator[Finding]:
    """A custom date format takes its separators and calendar from the current culture
    (fi-FI writes ``HH:mm`` as ``10.22``, th-TH counts Buddhist years): "Custom date and
    time format strings", https://learn.microsoft.com/dotnet/standard/base-types/custom-date-and-time-format-strings.
    Pass ``[Globalization.CultureInfo]::InvariantCulture``."""
    for node, args in _method_calls(root, "ToString"):
        literal = _text(args[0]) if len(args) == 1 else ""
        if literal[:1] in ("'", '"') and _DATE_FORMAT.search(literal):
            yield Finding(
                "date-format-without-culture",
                _line(node),
                f"{_text(node)!r} formats in the current culture",
            )
    for command in _commands(root, "Get-Date"):
        if _parameter(command, "Format") is not None or _parameter(command, "UFormat") is not None:
            yield Finding(
                "date-format-without-culture",
                _line(command),
                f"{_text(command)!r}: -Format uses the current culture",
            )
    for node in walk(root):
        if node.type == "format_expression" and any(
            c.type == "format_operator" for c in node.children
        ):
            first = node.named_children[0]
            if re.search(r"\{\d+:[^}]*(yy|MM|dd|HH|mm|ss)", _text(first)):
                yield Finding(
                    "date-format-without-culture",
                    _line(node),
                    f"{_text(node)!r}: -f uses the current culture",
                )


_WEB = ("invoke-webrequest", "invoke-restmethod", "start-bitstransfer")


@rule("web-request-before-tls12")
def web_before_tls(root: tree_sitter.Node) -> Iterator[Finding]:
    """.NET Framework 4.x on older Windows 10 builds offers SSL3/TLS 1.0 unless told
    otherwise, and PyPI and conda channels refuse them: set
    ``[Net.ServicePointManager]::SecurityProtocol`` with Tls12 at the top, before any web
    request in the file (https://learn.microsoft.com/dotnet/framework/network-programming/tls)."""
    tls = [
        n
        for n in walk(root)
        if n.type == "assignment_expression"
        and "SecurityProtocol" in _text(n)
        and "Tls12" in _text(n)
        and not _inside(n, "function_statement")
    ]
    first_tls = min((n.start_byte for n in tls), default=None)
    for node in walk(root):
        web = (node.type == "command" and _text(node).split(" ", 1)[0].lower() in _WEB) or (
            node.type in ("type_literal", "type_name") and "WebClient" in _text(node)
        )
        if web and (first_tls is None or node.start_byte < first_tls):
            yield Finding(
                "web-request-before-tls12",
                _line(node),
                f"{_text(node).splitlines()[0]!r} before TLS 1.2 is enabled",
            )


@rule("get-content-without-encoding")
def get_content(root: tree_sitter.Node) -> Iterator[Finding]:
    """Windows PowerShell 5.1 reads a file without a BOM in the ANSI code page
    (about_Character_Encoding): a UTF-8 file Python wrote (JSON, a stamp) loses its
    non-ASCII text. Say ``-Encoding UTF8``."""
    for command in _commands(root, "Get-Content"):
        if _parameter(command, "Encoding") is None:
            yield Finding(
                "get-content-without-encoding",
                _line(command),
                f"{_text(command)!r} has no -Encoding",
            )


@rule("get-command-not-application")
def get_command(root: tree_sitter.Node) -> Iterator[Finding]:
    """``Get-Command NAME`` also finds functions, aliases and cmdlets: a shell hook named
    ``micromamba`` or ``conda`` (what ``micromamba shell init`` installs in a profile)
    would be invoked instead of the program. Every lookup here is for a program:
    ``-CommandType Application``."""
    for command in _commands(root, "Get-Command"):
        kind = _parameter(command, "CommandType")
        if kind is None or kind.lower() != "application":
            yield Finding(
                "get-command-not-application",
                _line(command),
                f"{_text(command)!r} may find a function or alias",
            )


@rule("method-on-maybe-null")
def method_on_null(root: tree_sitter.Node) -> Iterator[Finding]:
    """``Get-Content`` of an empty file gives ``$null`` in Windows PowerShell 5.1 (also
    with ``-Raw``), and a method call on ``$null`` throws: ``(Get-Content x).Trim()``.
    Cast first: ``([string](Get-Content ...)).Trim()``."""
    for node in walk(root):
        if node.type not in ("invokation_expression", "member_access"):
            continue
        target = node.named_children[0] if node.named_children else None
        if target is None or target.type != "parenthesized_expression":
            continue
        inner = _text(target)[1:].lstrip()
        if re.match(r"(?i)get-content\b", inner):
            yield Finding(
                "method-on-maybe-null",
                _line(node),
                f"{_text(node)!r}: $null for an empty file in 5.1",
            )


@rule("remove-recurse-outside-try")
def remove_recurse(root: tree_sitter.Node) -> Iterator[Finding]:
    """A file in use (a Python, Jupyter or editor holding the old environment) makes
    ``Remove-Item -Recurse`` fail half way; under 'Stop' outside a try that ends the
    script with the folder half deleted and no report. Catch it (and say which file), or
    make it best effort with ``-ErrorAction SilentlyContinue``."""
    for command in _commands(root, "Remove-Item"):
        if _parameter(command, "Recurse") is None:
            continue
        action = (_parameter(command, "ErrorAction") or "").lower()
        if action in ("silentlycontinue", "ignore") or _in_try_body(command):
            continue
        yield Finding(
            "remove-recurse-outside-try", _line(command), f"{_text(command)!r} outside a try"
        )


_WRITES = re.compile(
    r"(?i)^(new-item|set-content|add-content|out-file|copy-item|move-item|remove-item|rename-item|expand-archive)$"
)


def _exits(node: tree_sitter.Node) -> list[tree_sitter.Node]:
    """``exit`` statements under ``node``, not in a nested function or trap."""
    found = []
    for n in walk(node):
        if n.type == "flow_control_statement" and _text(n).split()[0].lower() == "exit":
            current = n.parent
            nested = False
            while current is not None and current != node:
                if current.type in ("function_statement", "trap_statement"):
                    nested = True
                    break
                current = current.parent
            if not nested:
                found.append(n)
    return found


def _called(node: tree_sitter.Node, names: set[str]) -> set[str]:
    out = set()
    for n in walk(node):
        if n.type == "command":
            head = next((c for c in n.children if c.type == "command_name"), None)
            if head is not None and _text(head).lower() in names:
                out.add(_text(head).lower())
    return out


@rule("exit-before-report")
def exit_before_report(root: tree_sitter.Node) -> Iterator[Finding]:
    """In a script that writes a report (a ``Write-Report`` function), once the work has
    started (its first top-level statement that writes a file) every way out goes through
    the function that writes the report, cleans up and exits: a bare ``exit``, or a call
    of a function that exits without the report, leaves no report and a temporary folder."""
    functions = script_functions(root)
    if "write-report" not in functions:
        return
    names = set(functions)
    finishers = {
        n for n, fn in functions.items() if _exits(fn) and "write-report" in _called(fn, names)
    }
    exiting = {n for n, fn in functions.items() if _exits(fn) and n not in finishers}
    changed = True
    while changed:  # functions that call an exiting function exit too
        changed = False
        for n, fn in functions.items():
            if n not in exiting and n not in finishers and _called(fn, names) & exiting:
                exiting.add(n)
                changed = True
    statements = next(c for c in root.children if c.type == "statement_list").named_children
    started = False
    for statement in statements:
        if statement.type in ("function_statement", "trap_statement"):
            continue
        if not started:
            started = any(
                n.type == "command"
                and _WRITES.match(
                    _text(next((c for c in n.children if c.type == "command_name"), n))
                )
                for n in walk(statement)
            ) or bool(
                re.search(
                    r"\[IO\.(File|Directory)\]::(Write|Move|Replace|Create)", _text(statement)
                )
            )
            if not started:
                continue
        for exit_node in _exits(statement):
            yield Finding(
                "exit-before-report",
                _line(exit_node),
                f"{_text(exit_node)!r} after the work started, without the report",
            )
        for name in sorted(_called(statement, names) & exiting):
            yield Finding(
                "exit-before-report",
                _line(statement),
                f"{name} exits without the report after the work started",
            )


_PS7_PARAMETERS = {
    ("foreach-object", "parallel"): "ForEach-Object -Parallel (7.0)",
    ("convertfrom-json", "ashashtable"): "ConvertFrom-Json -AsHashtable (6.0)",
    ("convertfrom-json", "depth"): "ConvertFrom-Json -Depth (6.2)",
    ("convertfrom-json", "noenumerate"): "ConvertFrom-Json -NoEnumerate (7.0)",
    ("get-content", "asbytestream"): "-AsByteStream (6.0)",
    ("set-content", "asbytestream"): "-AsByteStream (6.0)",
    ("join-path", "additionalchildpath"): "Join-Path -AdditionalChildPath (6.0)",
    ("split-path", "leafbase"): "Split-Path -LeafBase (6.0)",
    ("split-path", "extension"): "Split-Path -Extension (6.0)",
    ("get-date", "asutc"): "Get-Date -AsUTC (7.1)",
    ("invoke-webrequest", "skipcertificatecheck"): "-SkipCertificateCheck (6.0)",
    ("invoke-webrequest", "resume"): "-Resume (6.1)",
}
_PS7_COMMANDS = {
    "test-json": "Test-Json (6.1)",
    "start-threadjob": "Start-ThreadJob (6.0)",
    "get-error": "Get-Error (7.0)",
}
_PS7_ENCODINGS = {"utf8nobom", "utf8bom"}
_PS7_VARIABLES = {"$iswindows", "$islinux", "$ismacos", "$iscoreclr"}


@rule("powershell-7-only")
def ps7_only(root: tree_sitter.Node) -> Iterator[Finding]:
    """Syntax and parameters Windows PowerShell 5.1 does not have (about_Operators,
    about_Pipeline_Chain_Operators, "What's New in PowerShell 7"): ``??``, ``??=``,
    ``?.``, ``?[]``, ``a ? b : c``, ``&&``/``||``, ``-Parallel``, ``-AsHashtable``,
    ``utf8NoBOM``, ``$IsWindows``; and ``.Split('ab')``, which .NET Framework reads as
    the characters a and b, .NET as the string."""
    for node in walk(root):
        if node.type == "pipeline_chain_tail":
            yield Finding(
                "powershell-7-only", _line(node), f"{_text(node)!r}: a pipeline chain (7.0)"
            )
        elif node.type == "ERROR" and "?" in _text(node):
            yield Finding(
                "powershell-7-only", _line(node), f"{_text(node)!r}: ?? ?. or a ternary (7.0)"
            )
        elif node.type == "variable" and _text(node).lower() in _PS7_VARIABLES:
            yield Finding("powershell-7-only", _line(node), f"{_text(node)} is not set in 5.1")
        elif node.type == "command":
            head = next((c for c in node.children if c.type == "command_name"), None)
            name = _text(head).lower() if head is not None else ""
            if name in _PS7_COMMANDS:
                yield Finding("powershell-7-only", _line(node), _PS7_COMMANDS[name])
            for (cmd, parameter), what in _PS7_PARAMETERS.items():
                if name == cmd and _parameter(node, parameter) is not None:
                    yield Finding("powershell-7-only", _line(node), what)
            encoding = _parameter(node, "Encoding")
            if encoding is not None and encoding.lower() in _PS7_ENCODINGS:
                yield Finding("powershell-7-only", _line(node), f"-Encoding {encoding} (6.0)")
            if (
                name == "join-path"
                and len([e for e in _elements(node) if e.type != "command_parameter"]) > 2
            ):
                yield Finding(
                    "powershell-7-only", _line(node), "Join-Path with more than two parts (6.0)"
                )
    for node, args in _method_calls(root, "Split"):
        if args and _text(args[0])[:1] in ("'", '"'):
            try:
                separator = evaluate(args[0], {}, {})
            except Unevaluated:
                continue
            if isinstance(separator, str) and len(separator) > 1:
                yield Finding(
                    "powershell-7-only",
                    _line(node),
                    f"{_text(node)!r}: 5.1 splits on each character",
                )


@rule("file-redirection-utf16")
def file_redirection(root: tree_sitter.Node) -> Iterator[Finding]:
    """``>``/``>>`` to a file and ``Out-File`` without ``-Encoding`` write UTF-16LE in
    Windows PowerShell 5.1 (about_Redirection, about_Character_Encoding), which Python and
    the report reader do not expect."""
    for node in walk(root):
        text = _text(node)
        is_file = node.type == "redirection" or (
            node.type == "generic_token" and re.match(r"^\d?>>?[^&]", text)
        )
        if is_file and ">&" not in text:
            target = re.sub(r"^\d?>>?\s*", "", text)
            if target.lower() != "$null":
                yield Finding(
                    "file-redirection-utf16", _line(node), f"{text!r} writes UTF-16 in 5.1"
                )
    for command in _commands(root, "Out-File"):
        if _parameter(command, "Encoding") is None:
            yield Finding(
                "file-redirection-utf16", _line(command), f"{_text(command)!r} writes UTF-16 in 5.1"
            )


# The rules on the files the scripts create (names, exclusive creation) live beside these.
from tests.support import ps_lint_files  # noqa: E402, F401  (registers its rules in RULES)
