"""Resolve ``extends``: read every file in the chain and merge them, keeping positions.

Mappings deep-merge (the extending file wins). The package lists
``environment.conda`` and ``environment.pip`` merge by package name: an entry
re-pins an inherited package in place, a new name is appended, and ``"!name"``
removes an inherited entry. Every value keeps the position (file:line:col) of the
file that set it, so errors and ``show --origin`` point at the right file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from provisioner.errors import Diagnostic, Position, relpath
from provisioner.profile.yamlnodes import Loc, YamlFile, dotted, parse_yaml

PACKAGE_LISTS: dict[Loc, str] = {("environment", "conda"): "conda", ("environment", "pip"): "pip"}
REMOVE_PREFIX = "!"
_NAME_RE = re.compile(r"^\s*(?:[^\s:]+::)?([A-Za-z0-9_][A-Za-z0-9._-]*)")


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
    return re.sub(r"[-_.]+", "-", name) if kind == "pip" else name


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
        return self.values.get((), Position(str(self.sources[-1]) if self.sources else "", 1, 1))

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
    """Read ``path`` and everything it extends; return the merge and every problem found."""
    diags: list[Diagnostic] = []
    shown = relpath(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        message = (
            f"cannot read profile: {_reason(e)} (fix: {_fix(e, 'pass an existing profile file')})"
        )
        diags.append(Diagnostic(message, Position(shown, 1, 1)))
        return None, diags
    merged = _load(path.resolve(), shown, text, [path.resolve()], diags)
    if merged is not None:
        _report_unmatched_removals(merged, diags)
    return merged, diags


def _reason(e: Exception) -> str:
    if isinstance(e, UnicodeDecodeError):
        return f"not UTF-8 text (byte {e.start})"
    if isinstance(e, OSError):
        return e.strerror or type(e).__name__
    return str(e)


def _fix(e: Exception, missing: str) -> str:
    """What to do about a profile file that could not be read (``missing``: when absent)."""
    if isinstance(e, UnicodeDecodeError):
        return "save it as UTF-8"
    if isinstance(e, IsADirectoryError):
        return "name a profile YAML file, not a folder"
    if isinstance(e, PermissionError):
        return "make the file readable"
    return missing


def _load(
    real: Path, shown: str, text: str, stack: list[Path], diags: list[Diagnostic]
) -> Merged | None:
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
        at = parsed.position(loc)
        target = (real.parent / ref).resolve()
        if target in stack:
            chain = " -> ".join(p.name for p in [*stack[stack.index(target) :], target])
            diags.append(Diagnostic(f"extends cycle: {chain}", at, "extends"))
            fatal = True
            continue
        try:
            sub_text = target.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            fix = _fix(e, "give an existing file, relative to this one")
            message = f'cannot read extended profile "{ref}": {_reason(e)} (fix: {fix})'
            diags.append(Diagnostic(message, at, "extends"))
            fatal = True
            continue
        sub = _load(target, relpath(target), sub_text, [*stack, target], diags)
        if sub is None:
            fatal = True
            continue
        base = sub if base is None else merge(base, sub)
    if fatal:
        return None
    return own if base is None else merge(base, own)


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
        if isinstance(value, str) and value.strip():
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
    out = Merged({}, dict(base.values), dict(base.keys), [*base.sources, *over.sources])
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
