"""Make, write and read conda-lock unified lockfiles (format v1), with conda-lock's models.

The file is written by ``conda_lock.lockfile.write_conda_lock_file``, so
``conda-lock install``, ``conda-lock render`` and micromamba read it. The resolved
profile's content hash is stored twice: in ``metadata.custom_metadata``
(``provision_content_hash``, what :func:`is_stale` reads) and, per platform, in
``metadata.content_hash`` (where conda-lock keeps its own input hash).
conda_lock is imported lazily: it costs about 0.5 s.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from provisioner.errors import ExitCode, ProvisionError
from provisioner.lock import PLATFORMS_FOR_TARGET, Lock, LockedPackage
from provisioner.profile import Manager, ResolvedProfile

if TYPE_CHECKING:
    from conda_lock.lockfile.v2prelim.models import LockedDependency, Lockfile

HASH_KEY = "provision_content_hash"
CHANNELS_KEY = "provision_channels"


def default_lockfile_path(resolved: ResolvedProfile) -> Path:
    """``<profile dir>/<profile stem>.conda-lock.yml``: beside the profile, committed with it."""
    return resolved.path.parent / f"{resolved.path.stem}.conda-lock.yml"


def platforms_for(resolved: ResolvedProfile) -> tuple[str, ...]:
    return PLATFORMS_FOR_TARGET[resolved.profile.target.os.value]


def lock_profile(resolved: ResolvedProfile) -> Lock:
    """Solve the conda part (py-rattler; conda manager only) and resolve the pip part (uv)
    for every platform the target implies."""
    from provisioner.lock.pypi import resolve_pip
    from provisioner.lock.solve import channel_urls, solve_conda

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
            content_hash=resolved.content_hash,
            platforms=platforms,
            channels=channel_urls(resolved) if conda else (),
            packages=tuple(packages),
        )
    )


def is_stale(lock: Lock, resolved: ResolvedProfile) -> bool:
    """True when the lock was made from a different profile content or for other platforms."""
    return lock.content_hash != resolved.content_hash or tuple(lock.platforms) != platforms_for(
        resolved
    )


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
        custom_metadata={HASH_KEY: lock.content_hash},
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
    """Read a conda-lock v1 (or v2) lockfile; a missing or malformed file is one clear error."""
    import yaml
    from conda_lock.lockfile import parse_conda_lock_file
    from pydantic import ValidationError

    path = Path(path)
    fix = f"re-create it with `provision lock` (or delete {path.name})"
    if not path.is_file():
        raise ProvisionError(f"{path}: lockfile not found", hint=fix, exit_code=ExitCode.INVALID)
    try:
        model = parse_conda_lock_file(path)
    except (yaml.YAMLError, ValidationError, ValueError, AttributeError, TypeError) as e:
        first = next((ln.strip() for ln in str(e).splitlines() if ln.strip()), type(e).__name__)
        raise ProvisionError(
            f"{path}: not a valid conda-lock file: {first}", hint=fix, exit_code=ExitCode.INVALID
        ) from e
    return _from_model(model)


def _from_model(model: Lockfile) -> Lock:
    meta = model.metadata
    custom = meta.custom_metadata or {}
    content_hash = custom.get(HASH_KEY) or "sha256:" + next(iter(meta.content_hash.values()), "")
    packages = tuple(
        _package(dep, category)
        for dep in model.package
        for category in sorted(dep.categories or {"main"})
    )
    return Lock(
        content_hash=content_hash,
        platforms=tuple(meta.platforms),
        channels=tuple(c.url for c in meta.channels),
        packages=tuple(sorted(packages, key=_order)),
    )


def _package(dep: LockedDependency, category: str) -> LockedPackage:
    subdir = ""
    if dep.manager == "conda":
        subdir = dep.url.rstrip("/").rsplit("/", 2)[-2] if "/" in dep.url else dep.platform
    return LockedPackage(
        manager=dep.manager,
        name=dep.name,
        version=dep.version,
        platform=dep.platform,
        url=dep.url,
        sha256=dep.hash.sha256,
        build=dep.build or "",
        md5=dep.hash.md5,
        subdir=subdir,
        dependencies=tuple(f"{n} {s}".strip() for n, s in sorted(dep.dependencies.items())),
        category=category,
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
    )
