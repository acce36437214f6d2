"""Collect what a bundle holds: a list of :class:`Entry` (path in the bundle, where its
bytes are, sha256), in path order. Writing it as a folder or an archive is
:mod:`provisioner.bundle.archive`'s job.

Every artifact comes from the profile's lockfile (``provision lock``), fetched into the
verified store and checked against the lock's sha256; generated files (repodata,
rendered scripts, the tool's requirement lists, README, manifest) are written into a
work folder. Nothing here depends on the time or the machine, so the same lock and the
same installation of provision give the same entries.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from provisioner import __version__
from provisioner import bundle as b
from provisioner.bundle.fetch import verified
from provisioner.env.artifacts import filename, parallel_map, store_ledger
from provisioner.errors import ExitCode, ExternalFailure, ProvisionError, relpath
from provisioner.lock import Lock, LockedPackage
from provisioner.paths import artifact_store
from provisioner.profile import ResolvedProfile, load_profile


@dataclass(frozen=True)
class Entry:
    """One file of the bundle: its path in the top-level folder and where its bytes are."""

    path: str
    source: Path
    sha256: str
    size: int
    executable: bool = False


@dataclass(frozen=True)
class Contents:
    """Everything a bundle holds, under one top-level folder name."""

    top: str
    platform: str
    entries: tuple[Entry, ...]

    @property
    def size(self) -> int:
        return sum(e.size for e in self.entries)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def top_folder(resolved: ResolvedProfile, platform: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", f"{resolved.name}-{platform}").strip(".-") or "bundle"


def read_profile_lock(resolved: ResolvedProfile) -> tuple[str, Lock]:
    """The lockfile beside the profile (text and Lock); missing or stale is exit 2."""
    from provisioner.render.folder import read_lock

    found = read_lock(resolved, None)
    if found is None:
        shown = relpath(resolved.path)
        raise ProvisionError(
            f"{shown}: no lockfile beside the profile; a bundle carries exactly the locked "
            "packages",
            hint=f"provision lock {shown}",
            exit_code=ExitCode.INVALID,
        )
    return found


def pick_platform(lock: Lock, platform: str | None) -> str:
    if platform is None:
        return lock.platforms[0]
    if platform not in lock.platforms:
        raise ProvisionError(
            f"--platform {platform}: the lock has no packages for it "
            f"(it has {', '.join(lock.platforms)})",
            hint="bundle one of those, or change target.os in the profile and re-lock",
            exit_code=ExitCode.INVALID,
        )
    return platform


def artifact_path(pkg: LockedPackage) -> str:
    """Where a locked package goes in the bundle."""
    if pkg.manager == "conda":
        return f"{b.CHANNEL_DIR}/{pkg.subdir or pkg.platform}/{filename(pkg.url)}"
    return f"{b.WHEELS_DIR}/{filename(pkg.url)}"


def _fetch_locked(packages: Sequence[LockedPackage], platform: str) -> list[Entry]:
    for pkg in packages:
        if not pkg.sha256:
            raise ExternalFailure(
                f"the lock has no sha256 for {pkg.manager} package {pkg.spec()}",
                hint="re-create the lock with `provision lock PROFILE`",
            )
        if pkg.manager == "pip" and not filename(pkg.url).endswith(".whl"):
            raise ExternalFailure(
                f"pip package {pkg.spec()} has no wheel for {platform} in the lock (only "
                f"{filename(pkg.url)}, which the target would have to build)",
                hint="pin a version with a wheel for this platform (or add an index/find-links "
                "that has one), then provision lock PROFILE",
            )

    ledger = store_ledger(artifact_store())

    def one(pkg: LockedPackage) -> Entry:
        assert pkg.sha256 is not None
        path = verified(pkg.url, pkg.sha256, f"{pkg.manager} package {pkg.spec()}", ledger)
        return Entry(artifact_path(pkg), path, pkg.sha256, path.stat().st_size)

    try:
        return parallel_map(one, list(packages))
    finally:
        ledger.save()


def _index_channel(conda: Sequence[Entry], work: Path) -> list[Entry]:
    """repodata.json for every subdir of the bundled channel (``noarch`` too), made by
    rattler's indexer from the bundled artifacts."""
    if not conda:
        return []
    import os

    from rattler.index import index_fs

    root = work / b.CHANNEL_DIR
    (root / "noarch").mkdir(parents=True, exist_ok=True)
    for e in conda:
        dest = work / e.path
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.link(e.source, dest)
    asyncio.run(index_fs(root, write_zst=False, write_shards=False, force=True))
    out = []
    for repodata in sorted(root.glob("*/repodata.json")):
        data = reproducible_repodata(repodata.read_bytes())
        out.append(generated(work, repodata.relative_to(work).as_posix(), data))
    return out


def reproducible_repodata(raw: bytes) -> bytes:
    """repodata.json without rattler's ``indexed_timestamp`` (the time of indexing, an
    optional field): the same packages always give the same bytes."""
    data = json.loads(raw)
    for key in ("packages", "packages.conda"):
        for record in (data.get(key) or {}).values():
            record.pop("indexed_timestamp", None)
    return json.dumps(data, separators=(",", ":"), sort_keys=True).encode()


def generated(work: Path, path: str, data: bytes, executable: bool = False) -> Entry:
    """A generated file, written under ``work/.gen`` (repodata is indexed in place)."""
    target = work / path if path.startswith(f"{b.CHANNEL_DIR}/") else work / ".gen" / path
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists() or target.read_bytes() != data:
        target.write_bytes(data)
    return Entry(path, target, hashlib.sha256(data).hexdigest(), len(data), executable)


def _tool(
    resolved: ResolvedProfile, platform: str, pythons: Sequence[str], work: Path
) -> tuple[list[Entry], dict[str, str]]:
    """The tool's wheels and one requirements file per host Python; also
    ``{python: requirements sha256}`` for the bootstrap scripts."""
    from provisioner.bundle.tool import (
        build_self_wheel,
        own_name,
        requirements_text,
        resolve_tool,
    )

    own = build_self_wheel(work / ".self")
    own_entry = Entry(f"{b.TOOL_DIR}/{own.name}", own, sha256_file(own), own.stat().st_size)
    version = own.name.split("-")[1]
    wheels: dict[str, LockedPackage] = {}
    entries: list[Entry] = [own_entry]
    ids: dict[str, str] = {}
    for python in pythons:
        packages = resolve_tool(resolved, platform, python)
        for p in packages:
            wheels[filename(p.url)] = p
        pins = [(p.name, p.version, p.sha256 or "") for p in packages]
        pins.append((own_name(), version, own_entry.sha256))
        text = requirements_text(pins).encode()
        entries.append(generated(work, f"{b.TOOL_DIR}/requirements-{python}.txt", text))
        ids[python] = hashlib.sha256(text).hexdigest()

    ledger = store_ledger(artifact_store())

    def one(p: LockedPackage) -> Entry:
        assert p.sha256 is not None
        path = verified(p.url, p.sha256, f"provision's dependency {p.spec()}", ledger)
        return Entry(f"{b.TOOL_DIR}/{filename(p.url)}", path, p.sha256, path.stat().st_size)

    try:
        entries += parallel_map(one, [wheels[k] for k in sorted(wheels)])
    finally:
        ledger.save()
    return entries, ids


def _profile_yaml(resolved: ResolvedProfile, work: Path) -> bytes:
    """The resolved profile as one YAML file; loading it gives the same content hash,
    so the lock stays fresh for it."""
    import yaml

    text = (
        f"# {resolved.name}: resolved by provision bundle ('extends' flattened); "
        "do not edit, the lock was made for exactly this content\n"
        + yaml.safe_dump(resolved.as_data(), sort_keys=False, allow_unicode=True)
    )
    check = work / ".profile-check" / "profile.yaml"
    check.parent.mkdir(parents=True, exist_ok=True)
    check.write_text(text, encoding="utf-8")
    again = load_profile(check)
    if again.content_hash != resolved.content_hash:  # a bug, not the user's doing
        raise RuntimeError("the flattened profile does not reproduce the profile's content hash")
    return text.encode("utf-8")


def collect(
    resolved: ResolvedProfile,
    *,
    platform: str | None,
    tool_pythons: Sequence[str],
    work: Path,
    say: Callable[[str], None] | None = None,
) -> Contents:
    """Everything the bundle of ``resolved`` holds, fetched and hashed, in path order;
    ``say`` hears each stage as it starts (the CLI shows them: a bundle takes a while)."""
    from provisioner.bundle.scripts import bundle_scripts
    from provisioner.bundle.tool import tool_pythons as pick_pythons
    from provisioner.render.folder import render_files

    tell = say or (lambda _: None)
    lock_text, lock = read_profile_lock(resolved)
    chosen = pick_platform(lock, platform)
    pythons = pick_pythons(resolved, tool_pythons)
    top = top_folder(resolved, chosen)
    locked = lock.for_platform(chosen)
    tell(f"fetching and hashing {len(locked)} locked packages for {chosen}")
    entries = _fetch_locked(locked, chosen)
    entries += _index_channel([e for e in entries if e.path.startswith(b.CHANNEL_DIR)], work)
    tell(f"building provision's own wheel and its runtime wheels for Python {', '.join(pythons)}")
    tool_entries, tool_ids = _tool(resolved, chosen, pythons, work)
    tell("rendering the scripts, the manifest and SHA256SUMS")
    entries += tool_entries
    entries.append(generated(work, b.PROFILE_FILE, _profile_yaml(resolved, work)))
    entries.append(generated(work, b.LOCK_FILE, lock_text.encode("utf-8")))
    for name, (text, executable) in render_files(resolved, (lock_text, lock)).items():
        entries.append(generated(work, f"{b.RENDER_DIR}/{name}", text.encode(), executable))
    scripts = bundle_scripts(
        resolved=resolved,
        platform=chosen,
        top=top,
        tool_ids=tool_ids,
        locked=locked,
        tool_files=sorted(e.path for e in tool_entries),
    )
    for name, (text, executable) in scripts.items():
        entries.append(generated(work, name, text.encode("utf-8"), executable))
    return seal(top, chosen, resolved, entries, work)


def seal(
    top: str, platform: str, resolved: ResolvedProfile, entries: Sequence[Entry], work: Path
) -> Contents:
    """Add ``manifest.json`` (every file) and ``SHA256SUMS`` (every file and the manifest)."""
    ordered = sorted(entries, key=lambda e: e.path)
    ordered.append(generated(work, b.MANIFEST, manifest_json(top, platform, resolved, ordered)))
    ordered.sort(key=lambda e: e.path)
    sums = "".join(f"{e.sha256}  {e.path}\n" for e in ordered).encode()
    ordered.append(generated(work, b.SUMS, sums))
    ordered.sort(key=lambda e: e.path)
    return Contents(top, platform, tuple(ordered))


def manifest_json(
    top: str, platform: str, resolved: ResolvedProfile, entries: Sequence[Entry]
) -> bytes:
    """``manifest.json``: the bundle's identity and every file but itself and SHA256SUMS."""
    doc = {
        "schema": b.BUNDLE_SCHEMA,
        "tool_version": __version__,
        "top": top,
        "platform": platform,
        "profile": resolved.name,
        "profile_hash": resolved.content_hash,
        "environment": resolved.profile.environment.name,
        "manager": resolved.profile.environment.manager.value,
        "files": [
            {"path": e.path, "size": e.size, "sha256": e.sha256, "executable": e.executable}
            for e in entries
        ],
    }
    return (json.dumps(doc, indent=2) + "\n").encode()
