"""Make, write and read conda-lock unified lockfiles (format v1), with conda-lock's models.

The file is written by ``conda_lock.lockfile.write_conda_lock_file``, so
``conda-lock install``, ``conda-lock render`` and micromamba read it. The hash of
the lock inputs (:mod:`provisioner.lock.inputs`) is stored in
``metadata.custom_metadata`` (``provision_inputs_hash``, with one
``provision_input:<name>`` digest per input, what
:func:`provisioner.lock.staleness.staleness` reads) and, per platform, in
``metadata.content_hash`` (where conda-lock keeps its own input hash). Where a
profile's lockfile lives is :func:`provisioner.lock.location.lock_location`.
Reading is :mod:`provisioner.lock.reader` (bounded, streamed, checked field by field).
conda_lock is imported lazily: it costs about 0.5 s.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from provisioner.lock import Lock, LockedPackage, Preferences
from provisioner.lock.inputs import (
    INPUT_KEY_PREFIX,
    INPUTS_HASH_KEY,
    input_digests,
    inputs_hash,
)
from provisioner.lock.reader import Malformed, read_lockfile
from provisioner.lock.reader import order as _order
from provisioner.platforms import target_platforms
from provisioner.profile import Manager, ResolvedProfile

if TYPE_CHECKING:
    from conda_lock.lockfile.v2prelim.models import Lockfile

__all__ = [
    "Malformed",
    "canonical",
    "lock_profile",
    "platforms_for",
    "read_lockfile",
    "write_lockfile",
]


def platforms_for(resolved: ResolvedProfile) -> tuple[str, ...]:
    """The conda subdirs the profile's target is locked for (provisioner.platforms)."""
    return target_platforms(resolved.profile.target)


def lock_profile(resolved: ResolvedProfile, prefer: Preferences | None = None) -> Lock:
    """Solve the conda part (py-rattler; conda manager only) and resolve the pip part (uv)
    for every platform the target implies; ``prefer`` keeps an earlier lock's versions
    where the specs allow (all but its ``upgrade`` names)."""
    from provisioner.lock.conda import channel_urls, solve_conda
    from provisioner.lock.pip_part import resolve_pip

    packages: list[LockedPackage] = []
    platforms = platforms_for(resolved)
    conda = resolved.profile.environment.manager is Manager.conda
    for platform in platforms:
        # A venv has no conda part: its Python comes from the host.
        conda_part = solve_conda(resolved, platform, prefer) if conda else ()
        packages += conda_part
        packages += resolve_pip(resolved, platform, conda_part, prefer)
    return canonical(
        Lock(
            content_hash=inputs_hash(resolved),
            platforms=platforms,
            channels=channel_urls(resolved) if conda else (),
            packages=tuple(packages),
            inputs=tuple(input_digests(resolved).items()),
        )
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
    from provisioner.lock.travel import portable

    lock = portable(lock, resolved.path.resolve().parent, path.parent)
    model = _to_model(lock, [Path(source).as_posix()])
    # A temp folder, not a temp name: conda-lock's help text names the file it writes.
    # mkdtemp: an unpredictable name, created exclusively (mode 0700): nothing planted
    # beside the lockfile (a shared PROVISION_HOME/locks) is ever written through.
    tmp_dir = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    tmp = tmp_dir / path.name
    try:
        write_conda_lock_file(model, tmp, metadata_choices=None, include_help_text=False)
        body = tmp.read_text(encoding="utf-8")
        tmp.write_text(header(Path(source).as_posix(), path.name) + body, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
        tmp_dir.rmdir()
    return path


def header(profile: str, lockfile: str) -> str:
    """The lockfile's opening comment: what made it and the commands that work on it
    (run in the lockfile's folder; conda-lock's own text names conda-lock commands that
    cannot read a provision profile)."""
    import shlex

    p, lf = shlex.quote(profile), shlex.quote(lockfile)
    return f"""\
# This lockfile was made by provision (provisioner-gpu) from {p}. DO NOT EDIT: it is
# rewritten by the commands below. A conda-lock v1 lockfile: every package's exact URL and
# sha256 for each platform; `conda-lock install -n ENV {lf}` and micromamba read it too.
#
# Check that it is fresh for the profile:   provision lock {p} --check
# Re-solve after editing the profile:        provision lock {p}
# Update one package, keep the others:       provision lock {p} --upgrade-package NAME
# Add or remove a package (profile + lock):  provision add -p {p} SPEC
#                                            provision remove -p {p} NAME
# Build and verify the environment from it:  provision apply {p} --locked
"""


def canonical(lock: Lock) -> Lock:
    """``lock`` with packages in file order (platform, conda before pip, name), as read back."""
    return Lock(
        content_hash=lock.content_hash,
        platforms=lock.platforms,
        channels=lock.channels,
        packages=tuple(sorted(lock.packages, key=_order)),
        inputs=lock.inputs,
    )
