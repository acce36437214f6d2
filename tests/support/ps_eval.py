"""A small interpreter for the straight-line PowerShell that decides paths in the scripts
(``Get-PlainPath``, ``Test-ServiceAccount``, ``Get-DataHome`` and the assignments that
use them), so tests can run the scripts' own code for a given environment: SYSTEM, a
user with a space in the name, a trailing ``\\``. PowerShell cannot run here.

It knows assignments, ``if``/``elseif``/``else``, ``while``, ``try``/``catch`` (by
exception type), ``return``, calls of the script's functions and ``Join-Path``, string
literals, ``$env:``, comparisons (``-eq``, ``-ne``, ``-ge``, ``-gt``, ``-le``, ``-lt``,
``-match``, ``-and``, ``-or``, ``-not``), ``[string]`` casts and a few string methods;
anything else raises :class:`Unsupported` rather than guess. Values that come from .NET
(``[Security.Principal.WindowsIdentity]::GetCurrent().User.Value``) are given by the
test, keyed by their source text; a static method (``[IO.File]::Open``) by
``[Type]::Method``, as a function of its arguments, and cmdlets the code calls
(``Start-Sleep``) in ``commands``. Such a stand-in throws :class:`DotNetError` for a .NET
exception, which the script's ``catch [Type]`` clauses catch as PowerShell would.
"""

from __future__ import annotations

import ntpath
import re
from collections.abc import Mapping
from typing import Any

import tree_sitter

from tests.support.powershell import parse, walk
from tests.support.ps_calls import script_functions
from tests.support.ps_values import ps_decode_verbatim

Value = Any  # str | bool | int | None | list[Any]


class Unsupported(NotImplementedError):
    """A construct outside what this interpreter models."""


class DotNetError(Exception):
    """A .NET exception a stand-in throws: its type's full name and its base types'."""

    def __init__(self, *types: str) -> None:
        super().__init__(types[0])
        self.types = tuple(t.lower() for t in (*types, "System.Exception"))

    def caught_by(self, name: str) -> bool:
        """Whether ``catch [name]`` catches it (``IO.IOException``: ``System.`` optional)."""
        name = name.strip("[]").lower()
        return name in self.types or f"system.{name}" in self.types


class _Return(Exception):
    def __init__(self, value: Value) -> None:
        self.value = value


def _text(node: tree_sitter.Node) -> str:
    return (node.text or b"").decode("utf-8")


def truthy(value: Value) -> bool:
    if isinstance(value, list):
        return len(value) > 0
    return bool(value)


class Interpreter:
    def __init__(
        self,
        source: str,
        *,
        env: Mapping[str, str],
        variables: Mapping[str, Value],
        dotnet: Mapping[str, Value],
        commands: Mapping[str, Any] | None = None,
    ) -> None:
        self.root = parse(source).root_node
        self.functions = script_functions(self.root)
        self.env = {k.lower(): v for k, v in env.items()}
        self.scopes: list[dict[str, Value]] = [{k.lower(): v for k, v in variables.items()}]
        self.dotnet = dict(dotnet)
        self.commands = {k.lower(): v for k, v in (commands or {}).items()}
        self.caught: list[DotNetError] = []  # the errors of the catch blocks running

    # -- variables -----------------------------------------------------------------------
    def get(self, name: str) -> Value:
        name = name.lower()
        if name.startswith("env:"):
            return self.env.get(name[4:])
        if name in ("true", "false", "null"):
            return {"true": True, "false": False, "null": None}[name]
        for scope in reversed(self.scopes):
            if name in scope:
                return scope[name]
        raise Unsupported(f"${name} is not set")

    def assign(self, name: str, value: Value) -> None:
        if "." in name:  # $Ansible.Changed = ...: a property of the object the test gave
            head, member = name.rsplit(".", 1)
            setattr(self.get(head), member, value)
            return
        self.scopes[-1][name.lower()] = value

    # -- running -----------------------------------------------------------------------------
    def call(self, name: str, *args: Value) -> Value:
        fn = self.functions[name.lower()]
        params = [
            _text(v)[1:]
            for n in walk(fn)
            if n.type in ("parameter_list", "param_block")
            for v in walk(n)
            if v.type == "variable" and v.parent is not None and v.parent.type == "script_parameter"
        ]
        body = next(c for c in fn.children if c.type == "script_block")
        self.scopes.append(dict(zip((p.lower() for p in params), args, strict=False)))
        try:
            self.block(body)
        except _Return as r:
            return r.value
        finally:
            self.scopes.pop()
        return None

    def run_top_level(self, assigns: set[str]) -> None:
        """Run the top-level statements that assign one of ``assigns`` (lower case), in order."""
        statements = next(c for c in self.root.children if c.type == "statement_list")
        for statement in statements.named_children:
            if statement.type == "function_statement":
                continue
            targets = {
                _text(n.children[0]).lstrip("$").lower()
                for n in walk(statement)
                if n.type == "assignment_expression"
            }
            if targets & assigns:
                self.statement(statement)

    def block(self, node: tree_sitter.Node) -> None:
        for child in node.named_children:
            if child.type in ("statement_list", "script_block_body", "statement_block"):
                self.block(child)
            elif child.type != "comment":
                self.statement(child)

    def statement(self, node: tree_sitter.Node) -> None:
        kind = node.type
        if kind == "if_statement":
            self._if(node)
        elif kind == "while_statement":
            condition = next(c for c in node.children if c.type == "while_condition")
            body = next(c for c in node.children if c.type == "statement_block")
            while truthy(self.eval(condition.named_children[0])):
                self.block(body)
        elif kind == "try_statement":
            self._try(node)
        elif kind == "flow_control_statement":
            words = _text(node).split(None, 1)
            if words == ["throw"] and self.caught:  # a bare throw in catch: rethrow
                raise self.caught[-1]
            if words[0].lower() != "return":
                raise Unsupported(_text(node))
            pipeline = next((c for c in node.named_children if c.type == "pipeline"), None)
            raise _Return(self.eval(pipeline) if pipeline is not None else None)
        elif kind == "pipeline":
            assignment = next(
                (c for c in node.named_children if c.type == "assignment_expression"), None
            )
            if assignment is not None:
                left = assignment.children[0]
                right = next(c for c in assignment.children[2:] if c.type != "comment")
                self.assign(_text(left).lstrip("$"), self.eval(right))
            else:
                self.eval(node)
        elif kind == "comment":
            return
        else:
            raise Unsupported(f"{kind}: {_text(node)[:60]}")

    def _if(self, node: tree_sitter.Node) -> None:
        children = node.children
        condition = next(c for c in children if c.type == "pipeline")
        body = next(c for c in children if c.type == "statement_block")
        if truthy(self.eval(condition)):
            self.block(body)
            return
        for clauses in (c for c in children if c.type == "elseif_clauses"):
            for clause in clauses.named_children:
                cond = next(c for c in clause.children if c.type == "pipeline")
                if truthy(self.eval(cond)):
                    self.block(next(c for c in clause.children if c.type == "statement_block"))
                    return
        other = next((c for c in children if c.type == "else_clause"), None)
        if other is not None:
            self.block(next(c for c in other.children if c.type == "statement_block"))

    def _try(self, node: tree_sitter.Node) -> None:
        body = next(c for c in node.children if c.type == "statement_block")
        clauses = [
            clause
            for group in node.children
            if group.type == "catch_clauses"
            for clause in group.named_children
        ]
        if any(c.type == "finally_clause" for c in node.children):
            raise Unsupported("try ... finally")
        try:
            self.block(body)
        except DotNetError as error:
            for clause in clauses:
                types = next((c for c in clause.children if c.type == "catch_type_list"), None)
                names = [_text(t) for t in types.named_children] if types else []
                if not names or any(error.caught_by(n) for n in names):
                    self.caught.append(error)
                    try:
                        self.block(next(c for c in clause.children if c.type == "statement_block"))
                    finally:
                        self.caught.pop()
                    return
            raise

    # -- expressions ---------------------------------------------------------------------------
    def eval(self, node: tree_sitter.Node) -> Value:
        text = _text(node)
        if text in self.dotnet:
            return self.dotnet[text]
        kind = node.type
        named = node.named_children
        if kind == "command":
            return self._command(node)
        if kind == "variable":
            return self.get(text[1:].strip("{}"))
        if kind == "string_literal":
            return self._string(node)
        if kind in ("integer_literal", "decimal_integer_literal"):
            return int(text)
        if kind == "parenthesized_expression":
            return self.eval(next(c for c in named if c.type == "pipeline"))
        if kind == "cast_expression" and text.lower().startswith("[string]"):
            value = self.eval(named[-1])
            return "" if value is None else str(value)
        if kind == "type_literal":
            return text
        if kind == "expression_with_unary_operator":
            if len(node.children) == 1:
                return self.eval(named[0])
            operator = _text(node.children[0]).lower()
            if operator in ("-not", "!"):
                return not truthy(self.eval(named[-1]))
            raise Unsupported(text)
        if kind == "invokation_expression":
            return self._method(node)
        if kind == "member_access":
            if named[0].type == "type_literal":  # [StringComparison]::OrdinalIgnoreCase
                return text
            target = self.eval(named[0])
            member = _text(named[-1])
            if member.lower() == "length" and isinstance(target, str):
                return len(target)
            if not isinstance(target, (str, int, bool, list, type(None))):
                return getattr(target, member)  # a .NET stand-in the test gave
            raise Unsupported(text)
        operators = [c for c in node.children if c.type in ("comparison_operator", "-and", "-or")]
        operators += [
            c for c in node.children if not c.is_named and _text(c).lower() in ("-and", "-or", "+")
        ]
        if operators and len(named) >= 2:
            return self._binary(node)
        if len(named) == 1 and len([c for c in node.children if not c.is_named]) == 0:
            return self.eval(named[0])
        if kind in ("pipeline", "pipeline_chain") and len(named) == 1:
            return self.eval(named[0])
        raise Unsupported(f"{kind}: {text[:80]}")

    def _binary(self, node: tree_sitter.Node) -> Value:
        parts = [c for c in node.children if c.type != "comment"]
        value = self.eval(parts[0])
        i = 1
        while i < len(parts):
            operator = _text(parts[i]).lower()
            if operator == "-and":
                value = truthy(value) and truthy(self.eval(parts[i + 1]))
            elif operator == "-or":
                value = truthy(value) or truthy(self.eval(parts[i + 1]))
            elif operator == "+":
                right = self.eval(parts[i + 1])
                value = value + (
                    [right] if isinstance(value, list) and not isinstance(right, list) else right
                )
            else:
                right = self.eval(parts[i + 1])
                value = _compare(operator, value, right)
            i += 2
        return value

    def _string(self, node: tree_sitter.Node) -> str:
        inner = node.named_children[0]
        if inner.type == "verbatim_string_characters":
            return ps_decode_verbatim(_text(inner))[0]
        body = _text(inner)[1:-1]
        if inner.named_children:
            out, pos, start = [], 1, inner.start_byte
            raw = inner.text or b""
            for child in inner.named_children:
                out.append(raw[pos : child.start_byte - start].decode("utf-8"))
                value = self.eval(child)
                out.append("" if value is None else str(value))
                pos = child.end_byte - start
            out.append(raw[pos:-1].decode("utf-8"))
            body = "".join(out)
        return body.replace("`t", "\t").replace("`n", "\n").replace('`"', '"').replace("``", "`")

    def _command(self, node: tree_sitter.Node) -> Value:
        head = next(c for c in node.children if c.type == "command_name")
        name = _text(head)
        if name.lower() in self.commands:
            return self._stand_in(node, name)
        elements = next((c for c in node.children if c.type == "command_elements"), None)
        args = [
            self.eval(c)
            for c in (elements.named_children if elements else [])
            if c.type not in ("command_argument_sep", "comment")
        ]
        if name.lower() == "join-path" and len(args) == 2:
            return ntpath.join(str(args[0]).rstrip("\\/") + "\\", str(args[1]).lstrip("\\/"))
        if name.lower() in self.functions:
            return self.call(name, *args)
        raise Unsupported(f"command {name}")

    def _stand_in(self, node: tree_sitter.Node, name: str) -> Value:
        """A cmdlet the test stands in for: called with its elements (``-Name`` as text)."""
        elements = next((c for c in node.children if c.type == "command_elements"), None)
        args = [
            _text(c) if c.type in ("command_parameter", "generic_token") else self.eval(c)
            for c in (elements.named_children if elements else [])
            if c.type not in ("command_argument_sep", "comment")
        ]
        return self.commands[name.lower()](*args)

    def _method(self, node: tree_sitter.Node) -> Value:
        named = node.named_children
        member = _text(next(c for c in node.children if c.type == "member_name")).lower()
        arguments = next((c for c in node.children if c.type == "argument_list"), None)
        listed = (
            next((c for c in arguments.children if c.type == "argument_expression_list"), None)
            if arguments
            else None
        )
        args = [self.eval(c) for c in listed.named_children] if listed else []
        if named[0].type == "type_literal":  # [IO.File]::Open(...): the test's stand-in
            key = f"{_text(named[0])}::{member}".lower()
            static = {k.lower(): v for k, v in self.dotnet.items()}
            if key not in static:
                raise Unsupported(f"{_text(named[0])}::{member}")
            return static[key](*args)
        target = self.eval(named[0])
        if not isinstance(target, str):  # a .NET object the test stands in for
            names = [a for a in dir(target) if a.lower() == member and not a.startswith("_")]
            if not names or not callable(getattr(target, names[0])):
                raise Unsupported(f"method {member} on {target!r}")
            return getattr(target, names[0])(*args)
        ignore_case = any(isinstance(a, str) and a.endswith("::OrdinalIgnoreCase") for a in args)
        text_args = [a for a in args if not (isinstance(a, str) and "::" in a)]
        if member == "trimend":
            return target.rstrip("".join(text_args) or None)
        if member in ("startswith", "endswith"):
            probe, whole = (
                (text_args[0].lower(), target.lower()) if ignore_case else (text_args[0], target)
            )
            return whole.startswith(probe) if member == "startswith" else whole.endswith(probe)
        if member == "replace":
            return target.replace(text_args[0], text_args[1])
        raise Unsupported(f"method {member}")


def _compare(operator: str, left: Value, right: Value) -> bool:
    if operator == "-eq":
        return str(left).lower() == str(right).lower() if isinstance(left, str) else left == right
    if operator == "-ne":
        return not _compare("-eq", left, right)
    if operator in ("-ge", "-gt", "-le", "-lt"):
        a, b = float(left), float(right)
        return {"-ge": a >= b, "-gt": a > b, "-le": a <= b, "-lt": a < b}[operator]
    if operator == "-match":
        return re.search(str(right), "" if left is None else str(left), re.IGNORECASE) is not None
    raise Unsupported(operator)
