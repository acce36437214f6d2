"""Read one profile file as plain data plus the position of every key and value.

PyYAML's ``safe_load`` forgets where values came from, keeps the last of two
duplicate keys silently and reads ``python: 3.10`` as the float 3.1. Here we
compose the node tree (which keeps marks), build the data ourselves and report
each of those traps as a :class:`Diagnostic` with a ``file:line:col``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from provisioner import yamlfast
from provisioner.errors import Diagnostic, Position

# A location inside a profile: mapping keys and list indexes, e.g. ("environment", "pip", 0).
Loc = tuple[str | int, ...]

# Fields whose values are versions: an unquoted number there is mangled by YAML 1.1.
VERSION_FIELDS: tuple[Loc, ...] = (
    ("environment", "python"),
    ("requires", "wsl", "min_kernel"),
    ("requires", "gpu", "vendors", "amd"),
    ("requires", "gpu", "vendors", "intel"),
    ("requires", "gpu", "vendors", "nvidia"),
)

_Loader: Any = yamlfast.LOADER
# Bounds on one document. A profile nests about 5 levels and holds about a hundred
# values; the caps stop deep nesting (libyaml's composer recurses in C and crashes
# the interpreter past ~50,000 levels) and alias bombs (a few hundred bytes of
# ``&a [*b, *b, ...]`` expand to gigabytes), each reported at the place it starts.
MAX_DEPTH = 32
MAX_VALUES = 10_000
_STR_TAG = "tag:yaml.org,2002:str"
_NUMBER_TAGS = ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")


@dataclass
class YamlFile:
    """One parsed file: its data, where each value and key sits, and what went wrong."""

    file: str
    data: Any = None
    values: dict[Loc, Position] = field(default_factory=dict)  # loc -> where its value starts
    keys: dict[Loc, Position] = field(default_factory=dict)  # loc -> where its key starts
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def position(self, loc: Loc) -> Position:
        """The closest known position for ``loc``: itself, else its nearest parent."""
        for n in range(len(loc), -1, -1):
            pos = self.values.get(loc[:n])
            if pos is not None:
                return pos
        return Position(self.file, 1, 1)


def dotted(loc: Loc) -> str:
    """``("environment", "pip", 0)`` -> ``environment.pip[0]``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def parse_yaml(text: str, file: str) -> YamlFile:
    """Parse ``text``; syntax errors, tabs and duplicate keys become diagnostics."""
    result = YamlFile(file)
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        result.diagnostics.append(
            Diagnostic(
                "the file contains a NUL byte; a profile is text: save it as UTF-8 "
                "(UTF-16 puts a NUL in every other byte)",
                Position(file, line, 1),
            )
        )
        return result
    deep = _first_too_deep(text)
    if deep is not None:
        result.diagnostics.append(
            Diagnostic(
                f"nested deeper than {MAX_DEPTH} levels; a profile nests a few levels",
                Position(file, deep.line + 1, deep.column + 1),
            )
        )
        return result
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as e:
        result.diagnostics.append(_syntax_diagnostic(e, text, file))
        return result
    except yaml.YAMLError as e:  # reader errors (control characters) carry no mark object
        result.diagnostics.append(
            Diagnostic(f"YAML error: {_one_line(str(e))}", _reader_position(e, file))
        )
        return result
    if node is None:
        result.data = {}
        return result
    builder = _Builder(result)
    try:
        data = builder.build(node, ())
        result.data = {} if data is None else data  # "---" or "~" alone: an empty profile
    except _TooLarge as e:
        result.data = None
        result.values.clear()
        result.keys.clear()
        result.diagnostics.append(Diagnostic(e.message, _pos(file, e.node)))
    return result


def _first_too_deep(text: str) -> Any:
    """Where the event stream first opens level ``MAX_DEPTH + 1``; None if it never does.

    Events come from a flat loop (no recursion), so this is safe on any input; a
    syntax error stops the scan and is reported by the composer afterwards."""
    depth = 0
    try:
        for event in yaml.parse(text, Loader=_Loader):
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
                if depth > MAX_DEPTH:
                    return event.start_mark  # yaml.Mark (or libyaml's Mark): line, column
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
    except yaml.YAMLError:
        return None
    return None


class _TooLarge(Exception):
    def __init__(self, message: str, node: yaml.Node) -> None:
        super().__init__(message)
        self.message = message
        self.node = node


def _syntax_diagnostic(e: yaml.MarkedYAMLError, text: str, file: str) -> Diagnostic:
    mark = e.problem_mark or e.context_mark
    line = mark.line + 1 if mark else 1
    col = mark.column + 1 if mark else 1
    problem = e.problem or "syntax error"
    lines = text.splitlines()
    src = lines[mark.line] if mark and mark.line < len(lines) else ""
    if "tab" in problem or ("\t" in src and "cannot start any token" in problem):
        tab = src.find("\t")
        return Diagnostic(
            "a tab character is not allowed in YAML indentation; use spaces",
            Position(file, line, tab + 1 if tab >= 0 else col),
        )
    context = f" ({e.context})" if e.context else ""
    return Diagnostic(
        f"YAML syntax error: {_one_line(problem)}{context}", Position(file, line, col)
    )


def _reader_position(e: yaml.YAMLError, file: str) -> Position:
    pos = getattr(e, "position", None)
    name = getattr(e, "name", None)
    del name
    if isinstance(pos, int):
        return Position(file, 1, pos + 1)
    return Position(file, 1, 1)


def _one_line(s: str) -> str:
    return " ".join(s.split())


def _pos(file: str, node: yaml.Node) -> Position:
    return Position(file, node.start_mark.line + 1, node.start_mark.column + 1)


class _Builder:
    """Turns a composed node tree into dicts, lists and scalars, recording marks."""

    def __init__(self, out: YamlFile) -> None:
        self.out = out
        self.constructor = yaml.constructor.SafeConstructor()
        self.count = 0

    def diag(self, loc: Loc, message: str, node: yaml.Node) -> None:
        self.out.diagnostics.append(Diagnostic(message, _pos(self.out.file, node), dotted(loc)))

    def build(self, node: yaml.Node, loc: Loc) -> Any:
        self.count += 1
        if self.count > MAX_VALUES:
            raise _TooLarge(
                f"more than {MAX_VALUES} values once aliases are expanded "
                "(an alias bomb?); write the values out",
                node,
            )
        if len(loc) > MAX_DEPTH:  # a recursive alias: &a [*a]
            raise _TooLarge(f"nested deeper than {MAX_DEPTH} levels (a recursive alias?)", node)
        self.out.values[loc] = _pos(self.out.file, node)
        if isinstance(node, yaml.MappingNode):
            return self.mapping(node, loc)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*loc, i)) for i, item in enumerate(node.value)]
        return self.scalar(node, loc)

    def mapping(self, node: yaml.MappingNode, loc: Loc) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                self.diag(loc, "YAML merge keys (<<) are not supported; use extends", key_node)
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                self.diag(loc, "a key must be a plain name, not a list or mapping", key_node)
                continue
            key = str(key_node.value)
            child = (*loc, key)
            if key in out:
                first = self.out.keys[child]
                self.diag(
                    child,
                    f"duplicate key {key!r} (first set at line {first.line}); "
                    "YAML would silently keep only the last one",
                    key_node,
                )
                continue
            self.out.keys[child] = _pos(self.out.file, key_node)
            out[key] = self.build(value_node, child)
        return out

    def scalar(self, node: yaml.Node, loc: Loc) -> Any:
        if not isinstance(node, yaml.ScalarNode):  # pragma: no cover - compose yields 3 kinds
            return None
        if node.tag == _STR_TAG or node.style in ("'", '"', "|", ">"):
            return str(node.value)
        if loc in VERSION_FIELDS and node.tag in _NUMBER_TAGS:
            value = self._construct(node)
            self.diag(
                loc,
                f"unquoted version {node.value} is read by YAML as the number {value!r}; "
                f'quote it: "{node.value}"',
                node,
            )
            return str(node.value)
        return self._construct(node)

    def _construct(self, node: yaml.ScalarNode) -> Any:
        try:
            return self.constructor.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError, TypeError, OverflowError):
            return str(node.value)
