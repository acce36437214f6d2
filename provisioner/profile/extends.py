"""Resolve ``extends``: read every file in the chain and merge them, keeping positions.

Mappings deep-merge (the extending file wins). The package lists
``environment.conda`` and ``environment.pip`` merge by package name: an entry
re-pins an inherited package in place, a new name is appended, and ``"!name"``
removes an inherited entry. Every value keeps the position (file:line:col) of the
file that set it, so errors and ``show --origin`` point at the right file.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from provisioner.errors import Diagnostic, Position, relpath
from provisioner.names import canonicalize_name
from provisioner.profile.reading import Unreadable, read_profile_text
from provisioner.profile.yamlnodes import Loc, YamlFile, dotted, parse_yaml

PACKAGE_LISTS: dict[Loc, str] = {("environment", "conda"): "conda", ("environment", "pip"): "pip"}
REMOVE_PREFIX = "!"
# Bounds on an extends graph: far beyond any real layering, well below Python's recursion limit.
MAX_EXTENDS_DEPTH = 32
MAX_EXTENDS_FILES = 256
_NAME_RE = re.compile(r"^\s*(?:\S*::)?([A-Za-z0-9_][A-Za-z0-9._-]*)")


def package_name(spec: object, kind: str) -> str | None:
    """The package a spec names (``conda-forge::numpy>=1`` -> ``numpy``); None if unparsable.

    pip names are compared normalised (PEP 503: case and ``-_.`` runs folded).
    """
    if not isinstance(spec, str):
        return None
    m = _NAME_RE.match(spec)
    if not m:
        return None
    name = m.group(1).lower()
    return canonicalize_name(name) if kind == "pip" else name


@dataclass
class Merged:
    """The merged data of an ``extends`` chain with the position of every key and value."""

    data: dict[str, Any]
    values: dict[Loc, Position] = field(default_factory=dict)
    keys: dict[Loc, Position] = field(default_factory=dict)
    sources: list[Path] = field(default_factory=list)

    def position(self, loc: Loc) -> Position:
        """Where ``loc`` was set, else its nearest parent that was."""
        for n in range(len(loc), 0, -1):
            pos = self.values.get(loc[:n])
            if pos is not None:
                return pos
        shown = relpath(self.sources[-1]) if self.sources else ""  # as the file's own errors
        return self.values.get((), Position(shown, 1, 1))

    def key_position(self, loc: Loc) -> Position:
        return self.keys.get(loc) or self.position(loc)

    def origins(self) -> dict[str, Position]:
        """Dotted path -> position; package items keyed by name (``environment.pip[torch]``)."""
        out: dict[str, Position] = {}
        for loc, pos in self.values.items():
            if not loc:
                continue
            out[origin_key(loc, self.data)] = pos
        return out


def origin_key(loc: Loc, data: dict[str, Any]) -> str:
    """The documented origin key of ``loc``: package-list items by name, other items by index."""
    parent = loc[:-1]
    if parent in PACKAGE_LISTS and isinstance(loc[-1], int):
        items = data.get("environment", {}).get(loc[1], [])
        if isinstance(items, list) and loc[-1] < len(items):
            name = package_name(items[loc[-1]], PACKAGE_LISTS[parent])
            if name:
                return f"{dotted(parent)}[{name}]"
    return dotted(loc)


def resolve(path: Path) -> tuple[Merged | None, list[Diagnostic]]:
    """Read ``path`` and everything it extends; return the merge and every problem found.

    Each file is read once however often it is extended (a diamond of extends is
    linear, not exponential), and a chain deeper than :data:`MAX_EXTENDS_DEPTH` or
    longer than :data:`MAX_EXTENDS_FILES` files is refused.
    """
    diags: list[Diagnostic] = []
    shown = relpath(path)
    try:
        text = read_profile_text(path, "pass an existing profile file")
    except Unreadable as e:
        message = f"cannot read profile: {e.reason} (fix: {e.fix})"
        diags.append(Diagnostic(message, Position(shown, 1, 1)))
        return None, diags
    real = real_path(path)
    merged = _Loader(diags).load(real, shown, text, [real])
    if merged is not None:
        _report_unmatched_removals(merged, diags)
    return merged, diags


def real_path(path: Path) -> Path:
    """``path`` made absolute with symlinks resolved; a symlink loop stays unresolved
    (reading it then reports the loop)."""
    try:
        return path.resolve()
    except (OSError, RuntimeError, ValueError):  # RuntimeError: symlink loop on 3.10-3.12
        return Path(os.path.abspath(path))


class _Loader:
    """Loads an ``extends`` graph, each file once (``done``), within the limits."""

    def __init__(self, diags: list[Diagnostic]) -> None:
        self.diags = diags
        self.done: dict[Path, Merged | None] = {}

    def load(self, real: Path, shown: str, text: str, stack: list[Path]) -> Merged | None:
        diags = self.diags
        parsed = parse_yaml(text, shown)
        diags.extend(parsed.diagnostics)
        if parsed.data is None:
            return None
        if not isinstance(parsed.data, dict):
            diags.append(
                Diagnostic(
                    f"a profile is a mapping of keys (name:, target:, ...), got a "
                    f"{type(parsed.data).__name__}",
                    parsed.position(()),
                )
            )
            return None
        refs = _extends_refs(parsed, diags)
        own = _own(parsed, real)
        base: Merged | None = None
        fatal = False
        for loc, ref in refs:
            sub = self.extended(parsed.position(loc), ref, real, stack)
            if sub is None:
                fatal = True
                continue
            base = sub if base is None else merge(base, sub)
        if fatal:
            return None
        return own if base is None else merge(base, own)

    def extended(self, at: Position, ref: str, real: Path, stack: list[Path]) -> Merged | None:
        """The merge of one ``extends`` entry, read once per file; None after a diagnostic.

        A bare name with no such file beside this one is a shipped profile (shipped.py)."""
        from provisioner.profile.shipped import is_profile_name, name_hint, shipped_profile

        target = real_path(real.parent / ref)
        if not target.exists() and is_profile_name(ref):
            target = shipped_profile(ref) or target
        if target in stack:
            chain = " -> ".join(p.name for p in [*stack[stack.index(target) :], target])
            self.diags.append(Diagnostic(f"extends cycle: {chain}", at, "extends"))
            return None
        if target in self.done:
            return self.done[target]
        if len(stack) > MAX_EXTENDS_DEPTH or len(self.done) >= MAX_EXTENDS_FILES:
            self.diags.append(
                Diagnostic(
                    f"extends goes deeper than {MAX_EXTENDS_DEPTH} files or names more than "
                    f"{MAX_EXTENDS_FILES}; flatten the chain",
                    at,
                    "extends",
                )
            )
            self.done[target] = None
            return None
        try:
            sub_text = read_profile_text(target, name_hint(ref))
        except Unreadable as e:
            message = f'cannot read extended profile "{ref}": {e.reason} (fix: {e.fix})'
            self.diags.append(Diagnostic(message, at, "extends"))
            self.done[target] = None
            return None
        sub = self.load(target, relpath(target), sub_text, [*stack, target])
        self.done[target] = sub
        return sub


def _extends_refs(parsed: YamlFile, diags: list[Diagnostic]) -> list[tuple[Loc, str]]:
    raw = parsed.data.pop("extends", None)
    if raw is None:
        return []
    items: list[tuple[Loc, Any]] = (
        [(("extends",), raw)]
        if not isinstance(raw, list)
        else [(("extends", i), v) for i, v in enumerate(raw)]
    )
    refs: list[tuple[Loc, str]] = []
    for loc, value in items:
        if isinstance(value, str) and value.strip() and value.isprintable():
            refs.append((loc, value))
        else:
            diags.append(
                Diagnostic(
                    f"extends takes a file path or a list of paths, got {value!r}",
                    parsed.position(loc),
                    dotted(loc),
                )
            )
    return refs


def _own(parsed: YamlFile, real: Path) -> Merged:
    values = {k: v for k, v in parsed.values.items() if k[:1] != ("extends",)}
    keys = {k: v for k, v in parsed.keys.items() if k[:1] != ("extends",)}
    return Merged(parsed.data, values, keys, [real])


def merge(base: Merged, over: Merged) -> Merged:
    """``over`` on top of ``base``: deep-merge mappings, package lists by name."""
    sources = list(dict.fromkeys([*base.sources, *over.sources]))  # a diamond lists a file once
    out = Merged({}, dict(base.values), dict(base.keys), sources)
    out.data = _merge_value(out, over, (), base.data, over.data)
    if () in over.values:
        out.values[()] = over.values[()]
    return out


def _merge_value(out: Merged, over: Merged, loc: Loc, base_val: Any, over_val: Any) -> Any:
    if isinstance(base_val, dict) and isinstance(over_val, dict):
        result = dict(base_val)
        for key, value in over_val.items():
            child = (*loc, key)
            if key in result:
                result[key] = _merge_value(out, over, child, result[key], value)
                if child in over.keys:
                    out.keys[child] = over.keys[child]
            else:
                _copy_marks(out, over, child)
                result[key] = value
        return result
    if loc in PACKAGE_LISTS and isinstance(base_val, list) and isinstance(over_val, list):
        return _merge_packages(out, over, loc, base_val, over_val, PACKAGE_LISTS[loc])
    _drop_marks(out, loc)
    _copy_marks(out, over, loc)
    return over_val


def _merge_packages(
    out: Merged, over: Merged, loc: Loc, base_list: list[Any], over_list: list[Any], kind: str
) -> list[Any]:
    items: list[tuple[Any, Position]] = [
        (v, out.values.get((*loc, i), out.position(loc))) for i, v in enumerate(base_list)
    ]
    for j, value in enumerate(over_list):
        pos = over.values.get((*loc, j), over.position(loc))
        removing = isinstance(value, str) and value.startswith(REMOVE_PREFIX)
        name = package_name(value[1:] if removing else value, kind)
        found = next(
            (i for i, (v, _) in enumerate(items) if name and package_name(v, kind) == name), None
        )
        if removing and found is not None:
            del items[found]
        elif found is not None and not removing:
            items[found] = (value, pos)
        else:
            items.append((value, pos))  # new package, or a removal that matched nothing
    _drop_marks(out, loc)
    out.values[loc] = over.values.get(loc, out.position(loc))
    if loc in over.keys:
        out.keys[loc] = over.keys[loc]
    for i, (_, pos) in enumerate(items):
        item: Loc = (*loc, i)
        out.values[item] = pos
    return [v for v, _ in items]


def _report_unmatched_removals(merged: Merged, diags: list[Diagnostic]) -> None:
    env = merged.data.get("environment")
    if not isinstance(env, dict):
        return
    for loc, kind in PACKAGE_LISTS.items():
        items = env.get(loc[1])
        if not isinstance(items, list):
            continue
        kept: list[Any] = []
        positions: list[Position] = []
        for i, value in enumerate(items):
            pos = merged.values.get((*loc, i), merged.position(loc))
            if isinstance(value, str) and value.startswith(REMOVE_PREFIX):
                diags.append(
                    Diagnostic(
                        f'"{value}" removes nothing: no extended profile lists '
                        f'"{value[1:]}" in {kind}',
                        pos,
                        dotted((*loc, i)),
                    )
                )
                continue
            kept.append(value)
            positions.append(pos)
        if len(kept) != len(items):
            _drop_marks(merged, loc, keep_self=True)
            for i, pos in enumerate(positions):
                item: Loc = (*loc, i)
                merged.values[item] = pos
            env[loc[1]] = kept


def _drop_marks(out: Merged, loc: Loc, keep_self: bool = False) -> None:
    n = len(loc)
    for marks in (out.values, out.keys):
        for k in [k for k in marks if k[:n] == loc and (not keep_self or len(k) > n)]:
            del marks[k]


def _copy_marks(out: Merged, over: Merged, loc: Loc) -> None:
    n = len(loc)
    for src, dst in ((over.values, out.values), (over.keys, out.keys)):
        for k, v in src.items():
            if k[:n] == loc:
                dst[k] = v
