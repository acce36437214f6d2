"""Read a conda-lock v1 lockfile as a stream: bounded, and checked field by field.

The file is read through the one bounded reader (:mod:`provisioner.inputs`, kind
``LOCKFILE``: a regular file of at most 32 MiB) and parsed from libyaml's event
stream, not composed into a document first: each ``package`` entry becomes a frozen
:class:`~provisioner.lock.LockedPackage` as soon as its mapping ends and its dict is
dropped. So a lock of 100,000 packages needs a small multiple of its size in memory
(composing the whole document took 45 times its size) and a few seconds.

Every field is checked against the ones conda-lock's v1 models require (not with
conda-lock itself: importing it costs 0.7 s on every apply); a wrong type anywhere,
``metadata.platforms`` included, is a :class:`Malformed` with its place. YAML tags
other than the safe ones, and anchors or aliases (conda-lock never writes them; an
alias can make a small file expand without bound), are refused.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

import yaml
from yaml import events as ev
from yaml.constructor import SafeConstructor
from yaml.nodes import ScalarNode

from provisioner import yamlfast
from provisioner.errors import ExitCode, ProvisionError
from provisioner.inputs import LOCKFILE, Unreadable, opened
from provisioner.lock import Lock, LockedPackage
from provisioner.lock.inputs import INPUT_KEY_PREFIX, INPUTS_HASH_KEY

MAX_DEPTH = 16  # a lockfile nests 4 levels deep


class Malformed(ValueError):
    """A lockfile field is missing or has the wrong type."""


def read_lockfile(path: Path, data: bytes | None = None) -> Lock:
    """Read a conda-lock v1 lockfile (or parse ``data``, its bytes, already read); a
    missing, unreadable or malformed file is one clear error (exit 2)."""
    path = Path(path)
    fix = f"re-create it with `provision lock` (or delete {path.name})"
    from provisioner.lock.travel import located

    try:
        if data is not None:
            return located(parse_lock(data), path.parent)
        with opened(path, LOCKFILE) as stream:
            return located(parse_lock(stream), path.parent)
    except Unreadable as e:
        if not path.exists() and not path.is_symlink():
            raise ProvisionError(
                f"{path}: lockfile not found", hint=fix, exit_code=ExitCode.INVALID
            ) from None
        raise ProvisionError(
            f"{path}: cannot read the lockfile: {e.reason}",
            hint=e.fix,
            exit_code=ExitCode.INVALID,
        ) from None
    except (yaml.YAMLError, Malformed, UnicodeDecodeError) as e:
        first = next((ln.strip() for ln in str(e).splitlines() if ln.strip()), type(e).__name__)
        raise ProvisionError(
            f"{path}: not a valid conda-lock file: {first}", hint=fix, exit_code=ExitCode.INVALID
        ) from None


def parse_lock(source: bytes | BinaryIO) -> Lock:
    """The :class:`Lock` in ``source`` (bytes or a binary stream), streamed."""
    packages: list[LockedPackage] = []

    def on_package(entry: Any, index: int) -> None:
        packages.append(_package(entry, f"package[{index}]"))

    top = _build(source, on_package)
    version = _field(top, "version", int, "")
    if version != 1:
        raise Malformed(f"version {version} is not supported (conda-lock format v1 expected)")
    meta = _field(top, "metadata", dict, "")
    platforms = _field(meta, "platforms", list, "metadata")
    for i, platform in enumerate(platforms):
        if not isinstance(platform, str):
            raise Malformed(f"metadata.platforms[{i}]: expected str")
    channels = [
        c if isinstance(c, str) else _field(c, "url", str, f"metadata.channels[{i}]")
        for i, c in enumerate(_field(meta, "channels", list, "metadata"))
    ]
    content_hashes = _field(meta, "content_hash", dict, "metadata")
    custom = _field(meta, "custom_metadata", dict, "metadata", {})
    for key, value in custom.items():
        if not isinstance(value, (str, int, float, bool)):
            raise Malformed(f"metadata.custom_metadata.{key}: expected a plain value")
    inputs = tuple(
        (str(k).removeprefix(INPUT_KEY_PREFIX), str(v))
        for k, v in custom.items()
        if str(k).startswith(INPUT_KEY_PREFIX)
    )
    first_hash = next(iter(content_hashes.values()), "")
    content_hash = custom.get(INPUTS_HASH_KEY) or "sha256:" + (
        first_hash if isinstance(first_hash, str) else ""
    )
    if INPUTS_HASH_KEY not in custom:
        inputs = ()  # not made by `provision lock`: no lock inputs recorded
    _field(top, "package", list, "")  # present, a list (its entries were read on the way)
    return Lock(
        content_hash=str(content_hash),
        platforms=tuple(platforms),
        channels=tuple(channels),
        packages=tuple(sorted(packages, key=order)),
        inputs=inputs,
    )


def order(p: LockedPackage) -> tuple[Any, ...]:
    """File order: platform, conda before pip, name."""
    return (p.platform, p.manager != "conda", p.name)


_CONSTRUCTOR = SafeConstructor()
_STR = "tag:yaml.org,2002:str"
_SAFE_TAGS = frozenset(SafeConstructor.yaml_constructors) - {None}
# Plain scalars resolve as safe_load resolves them (YAML 1.1): by first character.
_IMPLICIT = yaml.resolver.Resolver.yaml_implicit_resolvers
_WILDCARD = tuple(_IMPLICIT.get(None, ()))


def _scalar(event: ev.ScalarEvent) -> Any:
    tag, value = event.tag, event.value
    if tag is None or tag == "!":
        if not event.implicit[0]:
            return value  # quoted: a string
        for resolved, regexp in (*_IMPLICIT.get(value[:1], ()), *_WILDCARD):
            if regexp.match(value):
                tag = resolved
                break
        else:
            return value
    if tag == _STR:
        return value
    if tag not in _SAFE_TAGS:
        raise Malformed(f"the YAML tag {tag} is not allowed in a lockfile")
    return SafeConstructor.yaml_constructors[tag](_CONSTRUCTOR, ScalarNode(tag, value))


class _Frame:
    """A mapping or sequence being built: its items and, for a mapping, a pending key."""

    __slots__ = ("index", "key", "keyed", "packages", "pending", "value")

    def __init__(self, value: dict[Any, Any] | list[Any], key: object, packages: bool) -> None:
        self.value = value
        self.key = key  # this collection's key (or index) in its parent
        self.pending: object = None
        self.keyed = False  # a mapping that has read a key and waits for its value
        self.index = 0
        self.packages = packages  # the top-level ``package`` list: entries are handed on


_COLLECTION_TAGS = (None, "!", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq")


def _build(source: bytes | BinaryIO, on_package: Callable[[Any, int], None]) -> Any:
    """The document as plain values, except that every entry of the top-level ``package``
    list is handed to ``on_package`` (entry, index) as it ends and not kept."""
    loader = yamlfast.LOADER(source)
    stack: list[_Frame] = []
    top: Any = None
    documents = 0
    try:
        while True:
            event = loader.get_event()
            kind = type(event)
            if kind is ev.ScalarEvent:
                if event.anchor is not None:
                    raise Malformed("YAML anchors and aliases are not allowed in a lockfile")
                value = _scalar(event)
                if not stack:
                    top = value
                    continue
                frame = stack[-1]
                if frame.packages:
                    raise Malformed(f"package[{frame.index}]: expected a mapping")
                if type(frame.value) is dict and not frame.keyed:
                    try:
                        hash(value)
                    except TypeError:
                        raise Malformed("a mapping key that is not a plain value") from None
                    frame.pending, frame.keyed = value, True
                else:
                    _put(frame, _slot(stack), value)
            elif kind is ev.MappingEndEvent or kind is ev.SequenceEndEvent:
                frame = stack.pop()
                if not stack:
                    top = frame.value
                elif stack[-1].packages:
                    on_package(frame.value, stack[-1].index)
                    stack[-1].index += 1
                else:
                    _put(stack[-1], frame.key, frame.value)
            elif kind is ev.MappingStartEvent or kind is ev.SequenceStartEvent:
                if event.anchor is not None:
                    raise Malformed("YAML anchors and aliases are not allowed in a lockfile")
                if event.tag not in _COLLECTION_TAGS:
                    raise Malformed(f"the YAML tag {event.tag} is not allowed in a lockfile")
                if len(stack) >= MAX_DEPTH:
                    raise Malformed(f"nested deeper than {MAX_DEPTH} levels")
                key = _slot(stack)
                mapping = kind is ev.MappingStartEvent
                packages = not mapping and len(stack) == 1 and key == "package"
                stack.append(_Frame({} if mapping else [], key, packages))
            elif kind is ev.AliasEvent:
                raise Malformed("YAML anchors and aliases are not allowed in a lockfile")
            elif kind is ev.DocumentStartEvent:
                documents += 1
                if documents > 1:
                    raise Malformed("more than one YAML document")
            elif event is None or kind is ev.StreamEndEvent:
                break
    finally:
        loader.dispose()
    return top


def _slot(stack: list[_Frame]) -> object:
    """The key (mapping) or index (sequence) the next value of the innermost collection
    goes to; a collection as a mapping key is refused."""
    if not stack:
        return None
    frame = stack[-1]
    if isinstance(frame.value, dict):
        if not frame.keyed:
            raise Malformed("a mapping key that is not a plain value")
        return frame.pending
    return frame.index


def _put(frame: _Frame, key: object, value: Any) -> None:
    if isinstance(frame.value, dict):
        frame.value[key] = value
        frame.keyed = False
    else:
        frame.value.append(value)
        frame.index += 1


def _field(data: Any, key: str, kind: type, where: str, default: Any = ...) -> Any:
    if not isinstance(data, dict):
        raise Malformed(f"{where or 'the document'}: expected a mapping")
    if key not in data or data[key] is None:
        if default is ...:
            raise Malformed(f"{where + '.' if where else ''}{key}: missing")
        return default
    value = data[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise Malformed(f"{where + '.' if where else ''}{key}: expected {kind.__name__}")
    return value


def _package(entry: Any, where: str) -> LockedPackage:
    manager = _field(entry, "manager", str, where)
    if manager not in ("conda", "pip"):
        raise Malformed(f"{where}.manager: {manager!r} is neither conda nor pip")
    hashes = _field(entry, "hash", dict, where)
    md5 = _field(hashes, "md5", str, f"{where}.hash", None)
    sha256 = _field(hashes, "sha256", str, f"{where}.hash", None)
    if manager == "conda" and md5 is None:
        raise Malformed(f"{where}.hash: conda packages need an md5")
    url = _field(entry, "url", str, where)
    deps = _field(entry, "dependencies", dict, where, {})
    for name, spec in deps.items():
        if not isinstance(name, str) or not isinstance(spec, (str, type(None))):
            raise Malformed(f"{where}.dependencies.{name}: expected a version spec")
    platform = _field(entry, "platform", str, where)
    subdir = url.rstrip("/").rsplit("/", 2)[-2] if manager == "conda" and "/" in url else ""
    return LockedPackage(
        manager=sys.intern(manager),  # type: ignore[arg-type]
        name=_field(entry, "name", str, where),
        version=_field(entry, "version", str, where),
        platform=sys.intern(platform),
        url=url,
        sha256=sha256,
        build=_field(entry, "build", str, where, ""),
        md5=md5,
        subdir=sys.intern(subdir),
        dependencies=tuple(f"{n} {s or ''}".strip() for n, s in sorted(deps.items())),
        category=sys.intern(_field(entry, "category", str, where, "main")),
    )
