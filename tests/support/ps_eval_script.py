"""The interpreter of tests/support/ps_eval.py, with what a script's loops over host data
use (check.ps1's Python discovery): ``foreach`` and ``continue``; hashtables and arrays
(``@{}``, ``@()``, ``$h['k']``, ``$a[i]``, ``$h['k'] = v``, ``+=``, ``.Add``, ``.Count``,
``.Trim()``, ``.Split('c')``); ``-split``, ``-join``, ``-cmatch`` (which sets
``$Matches``), ``-contains``/``-notcontains``; ``a, b`` lists; ``[void]``; pipelines of
commands the test stands in for (``Get-ChildItem ... | Sort-Object Name``: each gets the
previous one's output as ``input=``). PowerShell's semantics followed here, each from
about_Comparison_Operators, about_Split, about_Hash_Tables and about_Arrays
(learn.microsoft.com/powershell): ``-eq``,
``-contains`` and hashtable keys ignore case, ``-cmatch`` does not; ``-split`` takes a
regular expression; a comparison with an array on the left filters it. Anything else
still raises :class:`~tests.support.ps_eval.Unsupported`.
"""

from __future__ import annotations

import re
from typing import Any

import tree_sitter

from tests.support.ps_eval import Interpreter, Unsupported, Value, _compare, _text


class _Continue(Exception):
    pass


class Hashtable(dict[str, Any]):
    """A PowerShell hashtable: keys compared without case."""

    def __getitem__(self, key: object) -> Any:
        for k, v in self.items():
            if k.lower() == str(key).lower():
                return v
        return None  # a missing key reads as $null

    def set(self, key: str, value: Any) -> None:
        for k in list(self):
            if k.lower() == key.lower():
                del self[k]
        dict.__setitem__(self, key, value)


class ScriptInterpreter(Interpreter):
    def statement(self, node: tree_sitter.Node) -> None:
        kind = node.type
        if kind == "empty_statement":
            return
        if kind == "foreach_statement":
            variable = next(c for c in node.children if c.type == "variable")
            source = next(c for c in node.children if c.type == "pipeline")
            body = next(c for c in node.children if c.type == "statement_block")
            items = self.eval(source)
            for item in items if isinstance(items, list) else ([] if items is None else [items]):
                self.assign(_text(variable)[1:], item)
                try:
                    self.block(body)
                except _Continue:
                    continue
            return
        if kind == "flow_control_statement" and _text(node).split()[0].lower() == "continue":
            raise _Continue
        assignment = next(
            (c for c in node.named_children if c.type == "assignment_expression"), None
        )
        if kind == "pipeline" and assignment is not None:
            self._assignment(assignment)
            return
        super().statement(node)

    def _assignment(self, node: tree_sitter.Node) -> None:
        left = node.children[0]
        operator = _text(node.children[1])
        value = self.eval(next(c for c in node.children[2:] if c.type != "comment"))
        target = left
        while target.type not in ("element_access", "variable") and len(target.named_children) == 1:
            target = target.named_children[0]  # the grammar's one-child wrappers
        if target.type == "element_access":
            container = self.eval(target.named_children[0])
            key = self.eval(target.named_children[1])
            if not isinstance(container, Hashtable) or operator != "=":
                raise Unsupported(_text(node))
            container.set(str(key), value)
            return
        name = _text(left).lstrip("$")
        if operator == "+=":
            current = self.get(name)
            value = current + (value if isinstance(value, list) else [value])
        elif operator != "=":
            raise Unsupported(_text(node))
        self.assign(name, value)

    def eval(self, node: tree_sitter.Node) -> Value:
        kind = node.type
        named = node.named_children
        text = _text(node)
        if kind == "hash_literal_expression":
            if named:
                raise Unsupported(text)
            return Hashtable()
        if kind == "array_expression":
            inner = [c for c in named if c.type == "statement_list"]
            return self._array(inner[0]) if inner else []
        if kind == "element_access":
            container = self.eval(named[0])
            key = self.eval(named[1])
            if isinstance(container, list):
                return container[int(key)] if -len(container) <= int(key) < len(container) else None
            if isinstance(container, dict):
                return container[key] if isinstance(container, Hashtable) else container.get(key)
            raise Unsupported(text)
        if kind == "array_literal_expression" and any(c.type == "," for c in node.children):
            return [self.eval(c) for c in named]
        if kind == "cast_expression" and text.lower().startswith("[void]"):
            self.eval(named[-1])
            return None
        if kind == "member_access" and named[0].type != "type_literal":
            target = self.eval(named[0])
            member = _text(named[-1])
            if isinstance(target, dict):
                return Hashtable(target)[member]
            if isinstance(target, list) and member.lower() == "count":
                return len(target)
        if kind == "pipeline_chain" and len([c for c in named if c.type == "command"]) > 1:
            return self._pipeline([c for c in named if c.type == "command"])
        operator = next((c for c in node.children if c.type == "comparison_operator"), None)
        if kind == "comparison_expression" and operator is not None:
            word = _text(operator).lower()
            if word in ("-split", "-join", "-cmatch", "-contains", "-notcontains"):
                left = self.eval(named[0])
                right = self.eval(named[-1])
                return self._operator(word, left, right)
        return super().eval(node)

    def _array(self, statements: tree_sitter.Node) -> list[Value]:
        out: list[Value] = []
        for statement in statements.named_children:
            if statement.type == "empty_statement":
                continue
            value = self.eval(statement)
            out.extend(value if isinstance(value, list) else ([] if value is None else [value]))
        return out

    def _pipeline(self, commands: list[tree_sitter.Node]) -> Value:
        value: Value = None
        for i, command in enumerate(commands):
            name = _text(next(c for c in command.children if c.type == "command_name"))
            if name.lower() not in self.commands:
                raise Unsupported(f"{name} in a pipeline")
            elements = next((c for c in command.children if c.type == "command_elements"), None)
            args = [
                _text(c) if c.type in ("command_parameter", "generic_token") else self.eval(c)
                for c in (elements.named_children if elements else [])
                if c.type not in ("command_argument_sep", "comment")
            ]
            stand_in = self.commands[name.lower()]
            value = stand_in(*args) if i == 0 else stand_in(*args, input=value)
        return value

    def _operator(self, word: str, left: Value, right: Value) -> Value:
        if word == "-join":
            items = left if isinstance(left, list) else [left]
            return str(right).join("" if i is None else str(i) for i in items)
        if word == "-split":
            return re.split(str(right), "" if left is None else str(left), flags=re.IGNORECASE)
        if word in ("-contains", "-notcontains"):
            items = left if isinstance(left, list) else [left]
            found = any(_compare("-eq", item, right) for item in items)
            return found if word == "-contains" else not found
        # -cmatch: case-sensitive; $Matches set when a single value matches
        if isinstance(left, list):
            return [item for item in left if re.search(str(right), str(item))]
        m = re.search(str(right), "" if left is None else str(left))
        if m is not None:
            matches = Hashtable({"0": m.group(0)})
            for i, group in enumerate(m.groups(), start=1):
                if group is not None:
                    matches.set(str(i), group)
            self.scopes[-1]["matches"] = matches
        return m is not None

    def _method(self, node: tree_sitter.Node) -> Value:
        named = node.named_children
        if named[0].type != "type_literal":
            target = self.eval(named[0])
            member = _text(next(c for c in node.children if c.type == "member_name")).lower()
            arguments = next((c for c in node.children if c.type == "argument_list"), None)
            listed = (
                next((c for c in arguments.children if c.type == "argument_expression_list"), None)
                if arguments
                else None
            )
            args = [self.eval(c) for c in listed.named_children] if listed else []
            if isinstance(target, list) and member == "add":
                target.append(args[0])
                return len(target) - 1
            if isinstance(target, str) and member == "trim" and not args:
                return target.strip()
            if isinstance(target, str) and member == "split" and len(args) == 1:
                return target.split(str(args[0])) if len(str(args[0])) == 1 else _unsplit(node)
        return super()._method(node)


def _unsplit(node: tree_sitter.Node) -> Value:
    raise Unsupported(f"{_text(node)}: .Split of more than one character")
