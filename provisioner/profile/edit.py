"""Edit a profile in place: ``provision add`` and ``provision remove``.

The file is edited with ruamel.yaml's round-trip mode, so its comments, key order,
quoting, flow or block lists and indentation stay as they were; only the package lists
change. An entry for a package this file already lists is replaced where it is (a
re-pin); a new one is appended. Removing a package this file lists deletes its entry;
removing one it inherits (``extends``) appends ``"!name"``, which the merge understands
(profiles.md). The edited profile must validate, else the file is put back as it was.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from provisioner.errors import ExitCode, ProvisionError, ValidationFailed, relpath
from provisioner.profile import ResolvedProfile, load_profile
from provisioner.profile.extends import REMOVE_PREFIX, package_name
from provisioner.profile.specs import check_conda_spec, check_pip_spec

Kind = Literal["pip", "conda"]


@dataclass(frozen=True)
class Edited:
    """What an edit did: one line per change (``add pip torch==2.13.0``, ...), the
    profile as it is now, and as it was before."""

    changes: tuple[str, ...]
    resolved: ResolvedProfile
    before: ResolvedProfile


def _yaml() -> Any:
    from ruamel.yaml import YAML

    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap a long line
    return yaml


def _load(path: Path) -> tuple[Any, Any]:
    """The round-trip document and a YAML dumper set to the file's own indentation."""
    from ruamel.yaml.util import load_yaml_guess_indent

    text = path.read_text(encoding="utf-8")
    _, seq_indent, block_seq_indent = load_yaml_guess_indent(text)
    yaml = _yaml()
    doc = yaml.load(text)
    if doc is None:
        from ruamel.yaml.comments import CommentedMap

        doc = CommentedMap()
    mapping = _mapping_indent(text)
    offset = block_seq_indent or 0
    sequence = seq_indent or mapping + offset
    yaml.indent(mapping=mapping, sequence=max(sequence, offset + 2), offset=offset)
    return doc, yaml


def _mapping_indent(text: str) -> int:
    """How far a nested key is indented under its parent (2 when the file does not say)."""
    import re

    found = [len(m[1]) for m in re.finditer(r"(?m)^( +)[A-Za-z_][\w.-]*\s*:", text)]
    return min(found) if found else 2


def _dump(doc: Any, yaml: Any) -> str:
    out = io.StringIO()
    yaml.dump(doc, out)
    return out.getvalue()


def _packages(doc: Any, kind: Kind, create: bool) -> Any:
    """This file's ``environment.<kind>`` list (made when ``create``; None when absent)."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    env = doc.get("environment")
    if env is None:
        if not create:
            return None
        env = doc["environment"] = CommentedMap()
    seq = env.get(kind)
    if seq is None and create:
        seq = env[kind] = CommentedSeq()
    elif isinstance(seq, CommentedSeq) and not seq:
        seq.fa.set_flow_style()  # an empty list is written `[]`: it stays a flow list
    return seq


def _scalar(spec: str, seq: Any) -> Any:
    """``spec`` in the style of the list's other entries (double-quoted if they are)."""
    from ruamel.yaml.scalarstring import DoubleQuotedScalarString

    quoted = any(isinstance(item, DoubleQuotedScalarString) for item in seq)
    if quoted or spec.startswith(REMOVE_PREFIX) or not spec[:1].isalnum():
        return DoubleQuotedScalarString(spec)
    return spec


def _index_of(seq: Any, name: str, kind: Kind, *, removal: bool = False) -> int | None:
    for i, item in enumerate(seq or ()):
        text = str(item)
        if text.startswith(REMOVE_PREFIX) != removal:
            continue
        if package_name(text.removeprefix(REMOVE_PREFIX), kind) == name:
            return i
    return None


def default_kind(resolved: ResolvedProfile) -> Kind:
    """pip for a venv profile, conda for a conda one (``--pip`` adds from PyPI there)."""
    return "pip" if resolved.profile.environment.manager.value == "venv" else "conda"


def add_packages(path: Path, specs: Sequence[str], kind: Kind | None = None) -> Edited:
    """Add (or re-pin) ``specs`` in ``path``'s ``environment.<kind>``."""
    before = load_profile(path)
    kind = kind or default_kind(before)
    if kind == "conda" and before.profile.environment.manager.value == "venv":
        raise ProvisionError(
            f"{relpath(path)}: a venv environment has no conda packages",
            hint="add them with --pip, or set environment.manager: conda",
            exit_code=ExitCode.INVALID,
        )
    check = check_pip_spec if kind == "pip" else check_conda_spec
    changes: list[str] = []
    doc, yaml = _load(path)
    seq = _packages(doc, kind, create=True)
    for spec in specs:
        try:
            check(spec)
        except ValueError as e:
            raise ProvisionError(str(e), exit_code=ExitCode.INVALID) from None
        name = package_name(spec, kind)
        if name is None:
            raise ProvisionError(f'"{spec}": no package name', exit_code=ExitCode.INVALID)
        at = _index_of(seq, name, kind)
        at = _index_of(seq, name, kind, removal=True) if at is None else at
        if at is not None:
            old = str(seq[at])
            seq[at] = _scalar(spec, seq)
            changes.append(f"{kind}: {old} -> {spec}" if old != spec else f"{kind}: {spec} (kept)")
        else:
            seq.append(_scalar(spec, seq))
            changes.append(f"{kind}: add {spec}")
    original = path.read_bytes()
    text = _dump(doc, yaml)
    after = before if text.encode("utf-8") == original else _write_checked(path, text, original)
    return Edited(tuple(changes), after, before)


def remove_packages(path: Path, names: Sequence[str], kind: Kind | None = None) -> Edited:
    """Remove packages: this file's entry goes, and a package still inherited after that
    gets ``"!name"``."""
    before = load_profile(path)
    original = path.read_bytes()
    current = before
    changes: list[str] = []
    for raw in names:
        found = False
        for k in (kind,) if kind else ("pip", "conda"):
            name = package_name(raw, k)
            if name is None:
                raise ProvisionError(f'"{raw}" is not a package name', exit_code=ExitCode.INVALID)
            doc, yaml = _load(path)
            seq = _packages(doc, k, create=False)
            at = _index_of(seq, name, k)
            if at is None and not _has(current, k, name):
                continue
            found = True
            if at is not None:
                changes.append(f"{k}: remove {seq[at]}")
                del seq[at]
                current = _write_checked(path, _dump(doc, yaml), original)
            if _has(current, k, name):  # still there: it comes from a profile this one extends
                doc, yaml = _load(path)
                seq = _packages(doc, k, create=True)
                seq.append(_scalar(f"{REMOVE_PREFIX}{name}", seq))
                changes.append(f'{k}: remove inherited {name} ("{REMOVE_PREFIX}{name}")')
                current = _write_checked(path, _dump(doc, yaml), original)
        if not found:
            if path.read_bytes() != original:
                path.write_bytes(original)
            raise ProvisionError(
                f"{raw}: not in {relpath(path)}'s environment.pip or environment.conda",
                hint=f"`provision show {relpath(path)}` lists the packages",
                exit_code=ExitCode.INVALID,
            )
    return Edited(tuple(changes), current, before)


def _has(resolved: ResolvedProfile, kind: Kind, name: str) -> bool:
    env = resolved.profile.environment
    return any(package_name(s, kind) == name for s in (env.pip if kind == "pip" else env.conda))


def _write_checked(path: Path, text: str, original: bytes) -> ResolvedProfile:
    """Write ``text`` and load the profile; when it no longer validates, put
    ``original`` back and raise."""
    from provisioner.atomic import write_atomic

    write_atomic(path, text)
    try:
        return load_profile(path)
    except ValidationFailed as e:
        write_atomic(path, original.decode("utf-8"))
        first = e.lines()[0] if e.lines() else str(e)
        raise ProvisionError(
            f"the edit would make {relpath(path)} invalid, so it was left unchanged: {first}",
            hint="check the spec against the profile's rules (provision validate)",
            exit_code=ExitCode.INVALID,
        ) from None
