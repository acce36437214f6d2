"""The native-program calls of a PowerShell script, found on its tree-sitter tree, and the
values of their arguments for given values of the variables they use (PowerShell cannot
run here, so the few expression forms the scripts use for arguments are evaluated
here; any other form is reported, never guessed).

A call is native when it runs a program, not a cmdlet or one of the script's functions:
``& $Exe ...``, a bare name that is not ``Verb-Noun`` (``py``, ``cmd.exe``), or a call
of one of the script's own process wrappers (a function that sets
``ProcessStartInfo.Arguments``, check.ps1's ``Invoke-Probe``): ``Wrapper PROGRAM ARGS``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

import tree_sitter

from tests.support.powershell import parse, walk
from tests.support.ps_native import Arg, Param
from tests.support.ps_values import ps_decode_verbatim

Value = str | list[str]
Env = Mapping[str, Sequence[Value]]  # variable (lower case, no sigil) -> candidate values

_VERB_NOUN = re.compile(r"^[A-Za-z]+-[A-Za-z0-9]+$")
_WRAPPERS = ("command", "command_elements")


class Unevaluated(LookupError):
    """An argument whose value the table of worst cases does not give."""


@dataclass(frozen=True)
class NativeCall:
    """One call site: where it is, its program expression and its argument nodes."""

    line: int
    text: str
    program: tree_sitter.Node
    arguments: tuple[tree_sitter.Node, ...]
    wrapper: str | None  # the process wrapper's name, or None for PowerShell's own passing
    redirections: tuple[str, ...]


def _text(node: tree_sitter.Node) -> str:
    return (node.text or b"").decode("utf-8")


def script_functions(root: tree_sitter.Node) -> dict[str, tree_sitter.Node]:
    """The script's functions by lower-case name."""
    found = {}
    for node in walk(root):
        if node.type == "function_statement":
            name = next(c for c in node.children if c.type == "function_name")
            found[_text(name).lower()] = node
    return found


def process_wrappers(root: tree_sitter.Node) -> dict[str, tree_sitter.Node]:
    """Functions that start a process themselves (they set ``$psi.Arguments``)."""
    return {
        name: fn
        for name, fn in script_functions(root).items()
        if re.search(r"\$\w+\.Arguments\s*=", _text(fn))
    }


_REDIRECTION = re.compile(r"^(\d|\*)?>>?(&\d|\$null|.*)$")


def native_calls(source: str) -> list[NativeCall]:
    root = parse(source).root_node
    functions = script_functions(root)
    wrappers = process_wrappers(root)
    calls = []
    for node in walk(root):
        if node.type != "command":
            continue
        elements = next((c for c in node.children if c.type == "command_elements"), None)
        items = (
            [c for c in elements.children if c.type != "command_argument_sep"] if elements else []
        )
        redirections = tuple(
            _text(c)
            for c in items
            if c.type == "redirection"
            or (c.type == "generic_token" and _REDIRECTION.match(_text(c)))
        )
        arguments = tuple(c for c in items if _text(c) not in redirections)
        invoked = any(c.type == "command_invokation_operator" for c in node.children)
        name_node = next(
            c for c in node.children if c.type in ("command_name", "command_name_expr")
        )
        name = _text(name_node)
        if invoked:
            if name_node.type == "command_name_expr" and name.startswith("("):
                continue  # & (scriptblock): PowerShell code, not a program
            calls.append(
                NativeCall(
                    node.start_point[0] + 1, _text(node), name_node, arguments, None, redirections
                )
            )
        elif name.lower() in wrappers:
            if len(arguments) < 1:
                raise AssertionError(f"{name} without a program: {_text(node)}")
            calls.append(
                NativeCall(
                    node.start_point[0] + 1,
                    _text(node),
                    arguments[0],
                    arguments[1:],
                    name,
                    redirections,
                )
            )
        elif not _VERB_NOUN.match(name) and name.lower() not in functions:
            calls.append(
                NativeCall(
                    node.start_point[0] + 1, _text(node), name_node, arguments, None, redirections
                )
            )
    return calls


def variables_used(call: NativeCall) -> set[str]:
    names = set()
    for top in (call.program, *call.arguments):
        for node in walk(top):
            if node.type == "variable":
                names.add(_variable_name(_text(node)))
    return names


def _variable_name(text: str) -> str:
    name = text[1:]
    if name.startswith("{") and name.endswith("}"):
        name = name[1:-1]
    return name.lower()


def bindings(call: NativeCall, env: Env, limit: int = 256) -> Iterator[dict[str, Value]]:
    """Every combination of the candidate values of the variables the call uses."""
    names = sorted(variables_used(call))
    for name in names:
        if name not in env:
            raise Unevaluated(
                f"line {call.line}: no worst-case values for ${name} in {call.text!r}"
            )
    combos: list[dict[str, Value]] = [{}]
    for name in names:
        combos = [{**c, name: v} for c in combos for v in env[name]]
        if len(combos) > limit:
            raise AssertionError(f"too many combinations for {call.text!r}")
    yield from combos


def _single(node: tree_sitter.Node) -> tree_sitter.Node:
    """Descend through the grammar's one-child expression wrappers."""
    while node.named_child_count == 1 and node.type not in (
        "variable",
        "string_literal",
        "element_access",
        "parenthesized_expression",
        "array_expression",
        "sub_expression",
        "member_access",
    ):
        named = [c for c in node.children if c.is_named]
        if len(named) != 1 or len(node.children) != 1:
            break
        node = named[0]
    return node


def evaluate(
    node: tree_sitter.Node, values: Mapping[str, Value], extra: Mapping[str, Value]
) -> Value | Param:
    """The value of an argument node. ``extra`` maps an expression's source text (a
    parenthesised command, a subexpression) to its worst-case value."""
    text = _text(node)
    if text in extra:
        return extra[text]
    if node.type == "command_parameter":
        return Param(text)
    if node.type == "generic_token":
        if "$" in text or "`" in text:
            raise Unevaluated(f"bare word with expansion: {text!r}")
        return text
    node = _single(node)
    kind = node.type
    if kind == "variable":
        name = _variable_name(text)
        if name not in values:
            raise Unevaluated(f"${name}")
        return values[name]
    if kind == "string_literal":
        return _string(node, values, extra)
    if kind in ("integer_literal", "decimal_integer_literal"):
        return text
    if kind == "element_access":
        target, index = node.named_children[0], node.named_children[1]
        base = evaluate(target, values, extra)
        if not isinstance(base, list) or not re.fullmatch(r"\d+", _text(index)):
            raise Unevaluated(text)
        return base[int(_text(index))]
    if kind == "array_expression":  # @(a, b)
        inner = [c for c in node.named_children if c.type == "statement_list"]
        if not inner:
            return []
        return _flatten(_comma_items(inner[0], values, extra))
    if kind == "array_literal_expression" and any(c.type == "," for c in node.children):
        return _flatten(_comma_items(node, values, extra))
    if kind == "parenthesized_expression":
        inner = [c for c in walk(node) if c.type == "additive_expression" and _has_plus(c)]
        if inner:
            return _sum(inner[0], values, extra)
        return _join_path(node, values, extra)
    if kind == "additive_expression" and _has_plus(node):
        return _sum(node, values, extra)
    raise Unevaluated(f"{kind}: {text!r}")


def _has_plus(node: tree_sitter.Node) -> bool:
    return any(c.type == "+" for c in node.children)


def _sum(node: tree_sitter.Node, values: Mapping[str, Value], extra: Mapping[str, Value]) -> Value:
    """``a + b``: array concatenation when the left side is an array, else text."""
    operands = [c for c in node.children if c.is_named]
    result: Value | Param = evaluate(operands[0], values, extra)
    for operand in operands[1:]:
        right = evaluate(operand, values, extra)
        if isinstance(result, Param) or isinstance(right, Param):
            raise Unevaluated(_text(node))
        if isinstance(result, list):
            result = result + (right if isinstance(right, list) else [right])
        elif isinstance(right, list):
            raise Unevaluated(_text(node))
        else:
            result = result + right
    assert not isinstance(result, Param)
    return result


def script_constants(source: str) -> dict[str, list[Value]]:
    """Top-level ``$Name = 'text'`` assignments: the value is the script's own."""
    root = parse(source).root_node
    found: dict[str, list[Value]] = {}
    statements = next((c for c in root.children if c.type == "statement_list"), None)
    for statement in statements.named_children if statements else []:
        assignment = next((c for c in walk(statement) if c.type == "assignment_expression"), None)
        if assignment is None or assignment.start_byte != statement.start_byte:
            continue
        left, _, right = assignment.children[0], assignment.children[1], assignment.children[2]
        names = [c for c in walk(left) if c.type == "variable"]
        literals = [c for c in walk(right) if c.type == "string_literal"]
        if len(names) != 1 or len(literals) != 1 or _text(literals[0]) != _text(right).strip():
            continue
        try:
            value = evaluate(literals[0], {}, {})
        except Unevaluated:
            continue
        if isinstance(value, str):
            found.setdefault(_variable_name(_text(names[0])), []).append(value)
    return found


def _comma_items(
    node: tree_sitter.Node, values: Mapping[str, Value], extra: Mapping[str, Value]
) -> list[Value]:
    """The elements of ``a, b, c`` (an array literal, possibly under a statement list)."""
    current = node
    while True:
        if current.type == "array_literal_expression" and any(
            c.type == "," for c in current.children
        ):
            out: list[Value] = []
            for child in current.named_children:
                value = evaluate(child, values, extra)
                if isinstance(value, Param):
                    raise Unevaluated(_text(child))
                out.append(value)
            return out
        named = current.named_children
        if len(named) != 1:
            raise Unevaluated(_text(node))
        current = named[0]
        if current.type in ("string_literal", "variable", "element_access"):
            value = evaluate(current, values, extra)
            if isinstance(value, Param):
                raise Unevaluated(_text(node))
            return [value]


def _flatten(items: Sequence[Value]) -> list[str]:
    out: list[str] = []
    for item in items:
        out.extend(item if isinstance(item, list) else [item])
    return out


def _join_path(
    node: tree_sitter.Node, values: Mapping[str, Value], extra: Mapping[str, Value]
) -> str:
    """``(Join-Path A B)``: A, one ``\\``, B (Join-Path's documented result)."""
    commands = [c for c in walk(node) if c.type == "command"]
    if len(commands) != 1:
        raise Unevaluated(_text(node))
    command = commands[0]
    name = _text(next(c for c in command.children if c.type == "command_name"))
    elements = next(c for c in command.children if c.type == "command_elements")
    args = [c for c in elements.children if c.type != "command_argument_sep"]
    if name.lower() != "join-path" or len(args) != 2:
        raise Unevaluated(_text(node))
    parent, child = (evaluate(a, values, extra) for a in args)
    if not isinstance(parent, str) or not isinstance(child, str):
        raise Unevaluated(_text(node))
    return parent.rstrip("\\/") + "\\" + child.lstrip("\\/")


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "0": "\0", "a": "\a", "b": "\b", "f": "\f", "v": "\v"}


def _string(node: tree_sitter.Node, values: Mapping[str, Value], extra: Mapping[str, Value]) -> str:
    inner = node.named_children[0] if node.named_children else node
    text = _text(inner)
    if inner.type == "verbatim_string_characters":
        decoded, end = ps_decode_verbatim(text)
        assert end == len(text)
        return decoded
    if inner.type != "expandable_string_literal":
        raise Unevaluated(text)
    body = inner.text or b""
    start = inner.start_byte
    out: list[str] = []
    pos = 1  # after the opening quote
    for child in inner.named_children:
        out.append(_unescape(body[pos : child.start_byte - start].decode("utf-8")))
        piece = _text(child)
        if piece in extra:
            value: Value | Param = extra[piece]
        elif child.type == "variable":
            value = evaluate(child, values, extra)
        else:
            raise Unevaluated(piece)
        if isinstance(value, Param):
            raise Unevaluated(piece)
        out.append(value if isinstance(value, str) else " ".join(value))  # $OFS
        pos = child.end_byte - start
    out.append(_unescape(body[pos:-1].decode("utf-8")))
    return "".join(out)


def _unescape(text: str) -> str:
    out, i = [], 0
    while i < len(text):
        ch = text[i]
        if ch == "`" and i + 1 < len(text):
            out.append(_ESCAPES.get(text[i + 1], text[i + 1]))
            i += 2
        elif ch == '"' and i + 1 < len(text) and text[i + 1] == '"':
            out.append('"')
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def argument_values(
    call: NativeCall, values: Mapping[str, Value], extra: Mapping[str, Value]
) -> tuple[str, list[Arg]]:
    """(program, arguments) of one call for one binding: arrays are passed as one
    argument per element, as PowerShell does for a native command."""
    if call.program.type == "command_name":  # a bare name: py, cmd.exe
        program: Value | Param = _text(call.program)
    else:
        program = evaluate(call.program, values, extra)
    if isinstance(program, Param):
        raise Unevaluated(call.text)
    if isinstance(program, list):  # & $c[0]: already indexed; a list here is a bug
        raise Unevaluated(f"program is a list: {call.text!r}")
    args: list[Arg] = []
    for node in call.arguments:
        value = evaluate(node, values, extra)
        if isinstance(value, list):
            args.extend(value)
        else:
            args.append(value)
    return program, args
