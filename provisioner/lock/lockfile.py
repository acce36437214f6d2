"""Make, write and read conda-lock unified lockfiles (format v1), with conda-lock's models.

The file is written by ``conda_lock.lockfile.write_conda_lock_file``, so
``conda-lock install``, ``conda-lock render`` and micromamba read it. The hash of
the lock inputs (:mod:`provisioner.lock.inputs`) is stored in
``metadata.custom_metadata`` (``provision_inputs_hash``, with one
``provision_input:<name>`` digest per input, what :func:`stale_reason` reads) and, per
platform, in ``metadata.content_hash`` (where conda-lock keeps its own input hash).
Lockfiles of older versions recorded a hash of the whole profile
(``provision_content_hash``): they read as stale, saying so.
conda_lock is imported lazily: it costs about 0.5 s.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from provisioner import yamlfast
from provisioner.errors import ExitCode, ProvisionError
from provisioner.lock import Lock, LockedPackage
from provisioner.lock.inputs import (
    INPUT_KEY_PREFIX,
    INPUTS_HASH_KEY,
    changed_inputs,
    input_digests,
    inputs_hash,
)
from provisioner.platforms import target_platforms
from provisioner.profile import Manager, ResolvedProfile

if TYPE_CHECKING:
    from conda_lock.lockfile.v2prelim.models import Lockfile

LEGACY_HASH_KEY = "provision_content_hash"  # older lockfiles: the whole profile's hash


def default_lockfile_path(resolved: ResolvedProfile) -> Path:
    """``<profile dir>/<profile stem>.conda-lock.yml``: beside the profile, committed with it."""
    return resolved.path.parent / f"{resolved.path.stem}.conda-lock.yml"


def platforms_for(resolved: ResolvedProfile) -> tuple[str, ...]:
    """The conda subdirs the profile's target is locked for (provisioner.platforms)."""
    return target_platforms(resolved.profile.target)


def lock_profile(resolved: ResolvedProfile) -> Lock:
    """Solve the conda part (py-rattler; conda manager only) and resolve the pip part (uv)
    for every platform the target implies."""
    from provisioner.lock.conda import channel_urls, solve_conda
    from provisioner.lock.pip_part import resolve_pip

    packages: list[LockedPackage] = []
    platforms = platforms_for(resolved)
    conda = resolved.profile.environment.manager is Manager.conda
    for platform in platforms:
        # A venv has no conda part: its Python comes from the host.
        conda_part = solve_conda(resolved, platform) if conda else ()
        packages += conda_part
        packages += resolve_pip(resolved, platform, conda_part)
    return canonical(
        Lock(
            content_hash=inputs_hash(resolved),
            platforms=platforms,
            channels=channel_urls(resolved) if conda else (),
            packages=tuple(packages),
            inputs=tuple(input_digests(resolved).items()),
        )
    )


def stale_inputs(lock: Lock, resolved: ResolvedProfile) -> tuple[str, ...]:
    """The lock inputs that changed since the lock was made (``docs/lock.md`` lists them);
    empty when it is fresh. An older lockfile (no per-input digests) names ``lock format``."""
    if not lock.inputs:
        return ("lock format",)
    changed = changed_inputs(dict(lock.inputs), resolved)
    if not changed and lock.content_hash != inputs_hash(resolved):
        return ("provision_inputs_hash",)  # digests agree, the total does not: edited by hand
    if not changed and tuple(lock.platforms) != platforms_for(resolved):
        return ("target.os",)
    return changed


def stale_reason(lock: Lock, resolved: ResolvedProfile) -> str | None:
    """Why the lock is stale, in a few words, or ``None`` when it is fresh."""
    changed = stale_inputs(lock, resolved)
    if not changed:
        return None
    if changed == ("lock format",):
        return (
            "made by an older provision, whose hash covered the whole profile, not the lock inputs"
        )
    return f"{', '.join(changed)} changed"


def _to_model(lock: Lock, sources: list[str]) -> Lockfile:
    from conda_lock.lockfile.v1.models import HashModel, LockMeta
    from conda_lock.lockfile.v2prelim.models import LockedDependency, Lockfile

    deps = [
        LockedDependency(
            name=p.name,
            version=p.version,
            manager=p.manager,
            platform=p.platform,
            dependencies=dict(_split_dep(d) for d in p.dependencies),
            url=p.url,
            hash=HashModel(md5=p.md5, sha256=p.sha256),
            build=p.build or None,
            categories={p.category},
        )
        for p in lock.packages
    ]
    digest = lock.content_hash.removeprefix("sha256:")
    meta = LockMeta(
        content_hash={platform: digest for platform in lock.platforms},
        channels=list(lock.channels),
        platforms=list(lock.platforms),
        sources=sources,
        custom_metadata={
            INPUTS_HASH_KEY: lock.content_hash,
            **{f"{INPUT_KEY_PREFIX}{name}": digest for name, digest in lock.inputs},
        },
    )
    return Lockfile(package=deps, metadata=meta)


def _split_dep(dep: str) -> tuple[str, str]:
    name, _, spec = dep.partition(" ")
    return name, spec.strip()


def write_lockfile(lock: Lock, resolved: ResolvedProfile, path: Path) -> Path:
    """Write ``lock`` to ``path`` atomically with conda-lock's writer; return the path.

    No timestamp is written: the same lock always gives the same bytes (clean diffs,
    and apply can tell an unchanged lockfile by its sha256)."""
    from conda_lock.lockfile import write_conda_lock_file

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        source = os.path.relpath(resolved.path.resolve(), path.resolve().parent)
    except ValueError:  # another drive on Windows
        source = str(resolved.path.resolve())
    model = _to_model(lock, [Path(source).as_posix()])
    # A temp folder, not a temp name: conda-lock's help text names the file it writes.
    tmp_dir = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp_dir.mkdir(exist_ok=True)
    tmp = tmp_dir / path.name
    try:
        write_conda_lock_file(model, tmp, metadata_choices=None, include_help_text=True)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
        tmp_dir.rmdir()
    return path


def read_lockfile(path: Path) -> Lock:
    """Read a conda-lock v1 lockfile; a missing or malformed file is one clear error.

    Parsed with PyYAML and checked field by field against conda-lock's v1 schema
    (the fields its models require), not with conda-lock itself: importing it costs
    0.7 s, which ``--check`` and every apply would pay."""
    import yaml

    path = Path(path)
    fix = f"re-create it with `provision lock` (or delete {path.name})"
    if not path.is_file():
        raise ProvisionError(f"{path}: lockfile not found", hint=fix, exit_code=ExitCode.INVALID)
    try:
        return _parse(yamlfast.safe_load(path.read_text(encoding="utf-8")))
    except (OSError, UnicodeDecodeError, yaml.YAMLError, Malformed) as e:
        first = next((ln.strip() for ln in str(e).splitlines() if ln.strip()), type(e).__name__)
        raise ProvisionError(
            f"{path}: not a valid conda-lock file: {first}", hint=fix, exit_code=ExitCode.INVALID
        ) from e


class Malformed(ValueError):
    """A lockfile field is missing or has the wrong type."""


def _field(data: Any, key: str, kind: type, where: str, default: Any = ...) -> Any:
    if not isinstance(data, dict):
        raise Malformed(f"{where or 'the document'}: expected a mapping")
    if key not in data or data[key] is None:
        if default is ...:
            raise Malformed(f"{where + '.' if where else ''}{key}: missing")
        return default
    value = data[key]
    if not isinstance(value, kind):
        raise Malformed(f"{where + '.' if where else ''}{key}: expected {kind.__name__}")
    return value


def _parse(data: Any) -> Lock:
    version = _field(data, "version", int, "")
    if version != 1:
        raise Malformed(f"version {version} is not supported (conda-lock format v1 expected)")
    meta = _field(data, "metadata", dict, "")
    platforms = _field(meta, "platforms", list, "metadata")
    channels = [
        c if isinstance(c, str) else _field(c, "url", str, f"metadata.channels[{i}]")
        for i, c in enumerate(_field(meta, "channels", list, "metadata"))
    ]
    content_hashes = _field(meta, "content_hash", dict, "metadata")
    custom = _field(meta, "custom_metadata", dict, "metadata", {})
    inputs = tuple(
        (str(k).removeprefix(INPUT_KEY_PREFIX), str(v))
        for k, v in custom.items()
        if str(k).startswith(INPUT_KEY_PREFIX)
    )
    content_hash = (
        custom.get(INPUTS_HASH_KEY)
        or custom.get(LEGACY_HASH_KEY)
        or "sha256:" + str(next(iter(content_hashes.values()), ""))
    )
    if INPUTS_HASH_KEY not in custom:
        inputs = ()  # an older lockfile: its hash is not of the lock inputs
    packages = tuple(
        _package(entry, f"package[{i}]")
        for i, entry in enumerate(_field(data, "package", list, ""))
    )
    return Lock(
        content_hash=str(content_hash),
        platforms=tuple(str(p) for p in platforms),
        channels=tuple(channels),
        packages=tuple(sorted(packages, key=_order)),
        inputs=inputs,
    )


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
    platform = _field(entry, "platform", str, where)
    subdir = url.rstrip("/").rsplit("/", 2)[-2] if manager == "conda" and "/" in url else ""
    return LockedPackage(
        manager=manager,
        name=_field(entry, "name", str, where),
        version=_field(entry, "version", str, where),
        platform=platform,
        url=url,
        sha256=sha256,
        build=_field(entry, "build", str, where, ""),
        md5=md5,
        subdir=subdir,
        dependencies=tuple(f"{n} {s or ''}".strip() for n, s in sorted(deps.items())),
        category=_field(entry, "category", str, where, "main"),
    )


def _order(p: LockedPackage) -> tuple[Any, ...]:
    return (p.platform, p.manager != "conda", p.name)


def canonical(lock: Lock) -> Lock:
    """``lock`` with packages in file order (platform, conda before pip, name), as read back."""
    return Lock(
        content_hash=lock.content_hash,
        platforms=lock.platforms,
        channels=lock.channels,
        packages=tuple(sorted(lock.packages, key=_order)),
        inputs=lock.inputs,
    )
