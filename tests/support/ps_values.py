"""The value of a PowerShell string expression as ``quote_ps`` writes it, evaluated from
its tree-sitter parse (PowerShell cannot run here): a verbatim string ``'...'``, or
``('...' + [char]0xNNNN + ...)`` starting with a string. Anything else fails."""

from __future__ import annotations

import tree_sitter

from tests.support.powershell import walk

# PowerShell's single-quote characters: about_Quoting_Rules
PS_SINGLE_QUOTES = "'\u2018\u2019\u201a\u201b"


def ps_decode_verbatim(literal: str) -> tuple[str, int]:
    """Decode a PowerShell verbatim string at the start of ``literal`` the way its lexer
    does: any single-quote character opens and closes it; two in a row stand for the
    second. Returns the value and the index just after the closing quote."""
    assert literal[0] in PS_SINGLE_QUOTES
    out, i = [], 1
    while i < len(literal):
        c = literal[i]
        if c in PS_SINGLE_QUOTES:
            if i + 1 < len(literal) and literal[i + 1] in PS_SINGLE_QUOTES:
                out.append(literal[i + 1])
                i += 2
                continue
            return "".join(out), i + 1
        out.append(c)
        i += 1
    raise AssertionError("unterminated string")


def ps_expression_value(node: tree_sitter.Node) -> str:
    """The string ``node`` (a parsed ``quote_ps`` expression) evaluates to."""
    leaves = [n.text.decode("utf-8") for n in walk(node) if n.child_count == 0 and n.text]
    if len(leaves) == 1:
        return _verbatim(leaves[0])
    assert leaves[0] == "(" and leaves[-1] == ")", leaves
    assert leaves[1].startswith("'"), "a concatenation must start with a string"
    units: list[int] = []
    i = 1
    expect_operand = True
    while i < len(leaves) - 1:
        leaf = leaves[i]
        if expect_operand and leaf.startswith("'"):
            units += _units(_verbatim(leaf))
            i += 1
        elif expect_operand and leaves[i : i + 3] == ["[", "char", "]"]:
            units.append(int(leaves[i + 3], 16))
            i += 4
        elif not expect_operand and leaf == "+":
            i += 1
        else:
            raise AssertionError(f"unexpected token {leaf!r} in {leaves}")
        expect_operand = not expect_operand
    assert not expect_operand, leaves
    data = b"".join(u.to_bytes(2, "little") for u in units)
    return data.decode("utf-16-le", "surrogatepass")


def _verbatim(leaf: str) -> str:
    value, end = ps_decode_verbatim(leaf)
    assert end == len(leaf), f"text after the string: {leaf!r}"
    return value


def _units(text: str) -> list[int]:
    data = text.encode("utf-16-le", "surrogatepass")
    return [int.from_bytes(data[i : i + 2], "little") for i in range(0, len(data), 2)]
