"""PowerShell, parsed (it cannot run here): tree-sitter-powershell trees and the nodes
that carry parse errors."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache

import tree_sitter
import tree_sitter_powershell


@cache
def _parser() -> tree_sitter.Parser:
    return tree_sitter.Parser(tree_sitter.Language(tree_sitter_powershell.language()))


def parse(source: str) -> tree_sitter.Tree:
    return _parser().parse(source.encode("utf-8"))


def walk(node: tree_sitter.Node) -> Iterator[tree_sitter.Node]:
    """``node`` and every node under it, depth first, in source order."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(current.children))


def nodes_of_type(source: str, node_type: str) -> list[tree_sitter.Node]:
    return [n for n in walk(parse(source).root_node) if n.type == node_type]


def error_nodes(node: tree_sitter.Node) -> list[str]:
    """The innermost nodes that carry an error, described: ERROR, MISSING, or a node
    whose error is in a token tree-sitter does not expose as a child."""
    if not node.has_error:
        return []
    inner = [b for child in node.children for b in error_nodes(child)]
    if inner and node.type != "ERROR" and not node.is_missing:
        return inner
    return [f"{node.type} (missing={node.is_missing}) at {node.start_point}", *inner]


def parse_errors(source: str) -> list[str]:
    """Where ``source`` does not parse; empty when it parses cleanly."""
    return error_nodes(parse(source).root_node)
