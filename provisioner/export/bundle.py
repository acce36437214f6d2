"""The bundle in an exported role's ``files/``: built by ``provision bundle``'s
machinery, and kept as it is when the same inputs made it (re-exporting an unchanged
profile says "identical" in about a second, instead of rebuilding and recompressing
every package).

Beside the bundle, ``files/.bundle-inputs.json`` records the digest of its inputs
(:func:`bundle_inputs`), the archive's sha256 and the playbook's view of it.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import provisioner
from provisioner.export.ansible import Playbook
from provisioner.profile import ResolvedProfile

INPUTS = ".bundle-inputs.json"


def role_bundle(
    resolved: ResolvedProfile, files_dir: Path, platform: str | None, tool_pythons: tuple[str, ...]
) -> tuple[Path, Playbook, str]:
    """The bundle for the role (its path, the playbook's view, create / identical /
    overwrite): the one there when its inputs are unchanged, else a new one."""
    key = bundle_inputs(resolved, platform, tool_pythons)
    kept = unchanged_bundle(files_dir, key)
    if kept is not None:
        return kept[0], kept[1], "identical"
    target, book, action = _build(resolved, files_dir, platform, tool_pythons)
    remember_bundle(files_dir, key, target, book)
    return target, book, action


def _build(
    resolved: ResolvedProfile, files_dir: Path, platform: str | None, tool_pythons: tuple[str, ...]
) -> tuple[Path, Playbook, str]:
    """Build the bundle into ``files_dir``: its path, the playbook's view of it, and
    whether it was created, rewritten or came out identical."""
    from provisioner.bundle.archive import write
    from provisioner.bundle.build import collect

    with tempfile.TemporaryDirectory(prefix=".provision-bundle-", dir=files_dir) as tmp:
        contents = collect(resolved, platform=platform, tool_pythons=tool_pythons, work=Path(tmp))
        suffix = ".zip" if contents.platform.startswith("win") else ".tar.gz"
        name = f"{contents.top}{suffix}"
        target = files_dir / name
        before = target.read_bytes() if target.is_file() else None
        write(contents, target)
        action = "create" if before is None else "identical"
        if before is not None and before != target.read_bytes():
            action = "overwrite"
    for old in files_dir.iterdir():  # an older bundle of this profile would be pushed too
        if old.name != name and old.name.startswith(f"{resolved.name}-") and old.is_file():
            old.unlink()
    manifest = next(e for e in contents.entries if e.path == "manifest.json")
    book = Playbook(
        profile_name=resolved.name,
        env_name=resolved.profile.environment.name,
        platform=contents.platform,
        bundle_file=name,
        bundle_id=manifest.sha256[:16],
        top=contents.top,
    )
    return target, book, action


def bundle_inputs(
    resolved: ResolvedProfile, platform: str | None, tool_pythons: tuple[str, ...]
) -> str:
    """A digest of everything a bundle is made from: the lock's bytes, the resolved
    profile, the platform and tool Pythons asked for, provision's own files and the
    versions of the distributions installed beside it (the tool's wheels are pinned to
    them). The same digest makes the same bundle."""
    import hashlib
    from importlib import metadata

    from provisioner.bundle.build import read_profile_lock

    lock_text, _ = read_profile_lock(resolved)
    h = hashlib.sha256()
    for part in (lock_text, resolved.content_hash, platform or "", ",".join(tool_pythons)):
        h.update(part.encode() + b"\0")
    root = Path(provisioner.__file__).parent
    for path in sorted(root.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            h.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    dists = sorted(f"{d.metadata['Name']}=={d.version}" for d in metadata.distributions())
    h.update("\n".join(dists).encode())
    return h.hexdigest()


def unchanged_bundle(files_dir: Path, key: str) -> tuple[Path, Playbook] | None:
    """The bundle in ``files_dir`` and its playbook view, when it was made from ``key``
    and its bytes are still the ones recorded then."""
    from provisioner.bundle.build import sha256_file

    try:
        data = json.loads((files_dir / INPUTS).read_text(encoding="utf-8"))
        target = files_dir / data["bundle_file"]
        if data["inputs"] != key or not target.is_file() or sha256_file(target) != data["sha256"]:
            return None
        book = Playbook(**{k: data[k] for k in Playbook.__dataclass_fields__})
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return target, book


def remember_bundle(files_dir: Path, key: str, target: Path, book: Playbook) -> None:
    from dataclasses import asdict

    from provisioner.atomic import write_atomic
    from provisioner.bundle.build import sha256_file

    doc = {"inputs": key, "sha256": sha256_file(target), **asdict(book)}
    write_atomic(files_dir / INPUTS, json.dumps(doc, indent=2) + "\n")
