"""The embedded conda backend: py-rattler links exactly the locked conda packages
into a prefix (no conda executable), then the pip part is installed with hashes.

Hash verification is ours, before rattler sees a package: rattler trusts the
sha256 in the record it is given and does not check ``file://`` artifacts, and its
package cache is keyed by name-version-build only. So every artifact is fetched
into a content-addressed store (``$XDG_CACHE_HOME/provision/artifacts/<sha256>``),
hashed while it is copied, and a mismatch with the lock stops the install before
anything is linked (:class:`ArtifactMismatch`, naming the package). rattler then
installs from the verified copies: ``conda-meta/*.json`` records the original
``channel`` and, as ``url``, the verified copy it was linked from (rewriting the
records afterwards to the channel URL cost more than the rest of our overhead).

rattler runs in-process: a child process would cost more than a small install
(the bench compares against bare rattler). ``provisioner.cli.entry`` leaves with
``os._exit`` after rattler ran (its crash-at-exit bug).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import hashlib
import io
import json
import os
import shutil
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, TypeVar
from urllib.parse import unquote, urlparse

from provisioner.atomic import DigestMismatch, copy_verified, write_atomic
from provisioner.env import EnvDiff, env_python, pause_point, pause_requested
from provisioner.errors import ExternalFailure
from provisioner.lock import Lock, LockedPackage
from provisioner.paths import artifact_store, cache_root, rattler_pkgs_dir

if TYPE_CHECKING:
    import rattler

DOWNLOAD_TIMEOUT_S = 120
# PROVISION_TEST_PAUSE_AT value that pauses a link with only its first package in.
PAUSE_MID_LINK = "environment:conda-linking"
T = TypeVar("T")
R = TypeVar("R")


class ArtifactMismatch(ExternalFailure):
    """A downloaded package does not have the hash the lock recorded: refused."""


def filename(url: str) -> str:
    return unquote(urlparse(url).path.rsplit("/", 1)[-1])


def parallel_map(fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
    """``fn`` over ``items`` on a few threads (downloads, hashing, archive reads)."""
    if len(items) <= 1:
        return [fn(item) for item in items]
    with ThreadPoolExecutor(max_workers=min(8, len(items))) as pool:
        return list(pool.map(fn, items))


def _store_path(pkg: LockedPackage, store: Path) -> Path:
    expected = pkg.sha256 or pkg.md5 or "unhashed"
    return store / expected / filename(pkg.url)


def stored_artifact(pkg: LockedPackage, store: Path) -> Path | None:
    """The already-verified archive of ``pkg`` in the store, if it is there."""
    path = _store_path(pkg, store)
    return path if (pkg.sha256 or pkg.md5) and path.is_file() else None


def verified_artifact(
    pkg: LockedPackage, store: Path, progress: DownloadProgress | None = None
) -> Path:
    """The package's archive in the verified store, fetched and hash-checked if missing."""
    expected, algo = (pkg.sha256, "sha256") if pkg.sha256 else (pkg.md5, "md5")
    if not expected:
        raise ExternalFailure(
            f"the lock has no sha256 or md5 for {pkg.spec()}",
            hint="re-create the lock with `provision lock PROFILE`",
        )
    target = _store_path(pkg, store)
    if target.is_file():
        return target  # only verified bytes are ever renamed into the store
    try:
        with _open_url(pkg) as src:
            task = progress.start(pkg, _length(src)) if progress else None

            def advance(n: int) -> None:
                if progress and task is not None:
                    progress.advance(task, n)

            copy_verified(src, target, algo, expected, advance)
    except DigestMismatch as e:
        raise ArtifactMismatch(
            f"hash mismatch for conda package {pkg.spec()} from {pkg.url}: the lock has "
            f"{algo} {expected[:16]}..., the download has {e.actual[:16]}...; "
            "refused, nothing installed",
            hint="the channel's file changed after locking: if that is expected, re-lock "
            "with `provision lock PROFILE`, otherwise treat the channel as compromised",
        ) from None
    except OSError as e:
        if e.errno == errno.ENOSPC:
            raise ExternalFailure(
                f"disk full while downloading {pkg.spec()} into {store}",
                hint="free disk space or point XDG_CACHE_HOME at a larger disk",
            ) from e
        raise
    return target


def _length(src: BinaryIO) -> int | None:
    """The size of what ``src`` will deliver, when known (file size or Content-Length)."""
    try:
        if isinstance(src, io.BufferedReader):
            return os.fstat(src.fileno()).st_size
        length = getattr(src, "headers", {}).get("Content-Length")
        return int(length) if length else None
    except (OSError, ValueError):
        return None


class DownloadProgress:
    """Download bars (rich, on stderr; NO_COLOR respected), one per fetched package."""

    def __init__(self) -> None:
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TransferSpeedColumn,
        )

        self._bars = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            transient=True,
        )

    def __enter__(self) -> DownloadProgress:
        self._bars.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._bars.stop()

    def start(self, pkg: LockedPackage, total: int | None) -> int:
        return int(self._bars.add_task(f"{pkg.name} {pkg.version}", total=total))

    def advance(self, task: int, nbytes: int) -> None:
        self._bars.advance(task, nbytes)  # type: ignore[arg-type]


def _open_url(pkg: LockedPackage) -> BinaryIO:
    parsed = urlparse(pkg.url)
    if parsed.scheme in ("", "file"):
        path = Path(unquote(parsed.path)) if parsed.scheme else Path(pkg.url)
        try:
            return path.open("rb")
        except FileNotFoundError as e:
            raise ExternalFailure(
                f"conda package {pkg.spec()} is missing from its channel: {path}",
                hint="restore the channel, or re-lock against the channels you have",
            ) from e
    try:
        response: BinaryIO = urllib.request.urlopen(pkg.url, timeout=DOWNLOAD_TIMEOUT_S)
        return response
    except (urllib.error.URLError, TimeoutError, OSError) as e:
        reason = getattr(e, "reason", e)
        raise ExternalFailure(
            f"cannot download conda package {pkg.spec()} from {pkg.url}: {reason}",
            hint="check the network or HTTPS_PROXY; offline, packages must already be in "
            f"{artifact_store()}",
        ) from e


def index_metadata(artifact: Path) -> dict[str, object]:
    """What a record needs from the archive's ``info/index.json`` and a lockfile lacks:
    ``noarch`` (``python`` changes how files are linked), build number, constraints."""
    import rattler

    index = rattler.IndexJson.from_package_archive(artifact)
    noarch = index.noarch
    return {
        "noarch": "python" if noarch.python else "generic" if noarch.generic else None,
        "build_number": index.build_number,
        "depends": list(index.depends),
        "constrains": list(index.constrains),
        "license": index.license,
        "arch": index.arch,
        "platform": index.platform,
        "python_site_packages_path": index.python_site_packages_path,
        "size": artifact.stat().st_size,
    }


def cached_index_metadata(
    packages: tuple[LockedPackage, ...], artifacts: list[Path]
) -> list[dict[str, object]]:
    """:func:`index_metadata` for each artifact, cached in one file per set of artifacts
    (keyed by their hashes): a re-install reads one small JSON instead of every archive."""
    key = hashlib.sha256("\n".join(f"{p.sha256 or p.md5}" for p in packages).encode()).hexdigest()
    path = cache_root() / "records" / f"{key}.json"
    try:
        cached = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(cached, list) and len(cached) == len(packages):
            return cached
    except (OSError, ValueError):
        pass
    metas = parallel_map(index_metadata, artifacts)
    with contextlib.suppress(OSError):  # a cache only
        write_atomic(path, json.dumps(metas))
    return metas


def _record(pkg: LockedPackage, artifact: Path, meta: dict[str, Any]) -> rattler.RepoDataRecord:
    """A rattler record for a verified artifact, with the archive's own metadata."""
    import rattler

    record = rattler.PackageRecord(
        name=pkg.name,
        version=pkg.version,
        build=rattler.BuildString(pkg.build),
        build_number=int(meta["build_number"]),
        subdir=pkg.subdir or pkg.platform,
        arch=meta["arch"],
        platform=meta["platform"],
        noarch=meta["noarch"],
        depends=list(meta["depends"]),
        constrains=list(meta["constrains"]),
        sha256=bytes.fromhex(pkg.sha256) if pkg.sha256 else None,
        md5=bytes.fromhex(pkg.md5) if pkg.md5 else None,
        size=int(meta["size"]),
        license=meta["license"],
        python_site_packages_path=meta["python_site_packages_path"],
    )
    channel = pkg.url.rsplit("/", 2)[0] + "/"
    return rattler.RepoDataRecord(record, artifact.name, artifact.as_uri(), channel)


def _drop_stale_cache_entries(packages: tuple[LockedPackage, ...], pkgs_dir: Path) -> None:
    """rattler keys its cache by name-version-build; an entry extracted from other bytes
    (its ``.lock`` file keeps the sha256 after an 8-byte revision) is removed so the
    verified artifact is extracted again."""
    for pkg in packages:
        stem = f"{pkg.name}-{pkg.version}-{pkg.build}"
        lock_file = pkgs_dir / f"{stem}.lock"
        if not pkg.sha256 or not lock_file.is_file():
            continue
        recorded = lock_file.read_bytes()[8:40]
        if recorded and recorded.hex() != pkg.sha256:
            shutil.rmtree(pkgs_dir / stem, ignore_errors=True)
            lock_file.unlink(missing_ok=True)


class CondaBackend:
    """``environment.manager: conda``: py-rattler prefix plus the pip part."""

    name = "conda"

    def install(
        self,
        prefix: Path,
        lock: Lock,
        platform: str,
        *,
        diff: EnvDiff | None = None,
        quiet: bool = False,
    ) -> None:
        """Make ``prefix`` hold exactly the locked packages; hash-check every artifact first.

        The conda part is one rattler transaction to the whole locked set; ``diff`` (its
        pip entries) says what the pip part must add, change and remove."""
        conda_pkgs = lock.for_platform(platform, "conda")
        store = artifact_store()
        artifacts = [stored_artifact(p, store) for p in conda_pkgs]
        missing = [i for i, a in enumerate(artifacts) if a is None]
        with contextlib.ExitStack() as stack:
            bars = None if quiet or not missing else stack.enter_context(DownloadProgress())
            fetched = parallel_map(lambda i: verified_artifact(conda_pkgs[i], store, bars), missing)
        for i, path in zip(missing, fetched, strict=True):
            artifacts[i] = path
        verified = [a for a in artifacts if a is not None]
        metas = cached_index_metadata(conda_pkgs, verified)
        records = [_record(p, a, m) for p, a, m in zip(conda_pkgs, verified, metas, strict=True)]
        pkgs_dir = rattler_pkgs_dir()
        _drop_stale_cache_entries(conda_pkgs, pkgs_dir)
        asyncio.run(_link(records, prefix, pkgs_dir, platform, quiet))
        pip_pkgs = lock.for_platform(platform, "pip")
        python = env_python(prefix, windows=platform.startswith("win"), manager="conda")
        if pip_pkgs or python.exists():  # also removes pip-installed extras the lock lacks
            from provisioner.env.pip_part import install_pip_part

            current = pip_part_of(diff, pip_pkgs) if diff is not None else None
            install_pip_part(python, pip_pkgs, quiet=quiet, current=current)

    def diff(self, prefix: Path, lock: Lock, platform: str) -> EnvDiff:
        """Compare ``conda-meta`` (and the pip part) with the lock, without installing."""
        locked = {p.name: p for p in lock.for_platform(platform, "conda")}
        if not (prefix / "conda-meta").is_dir():
            return EnvDiff(add=tuple(lock.for_platform(platform)), exists=False)
        installed = read_conda_meta(prefix)
        add = tuple(p for n, p in sorted(locked.items()) if n not in installed)
        remove = tuple(f"conda:{n}" for n in sorted(installed) if n not in locked)
        change = tuple(
            (_spec(installed[n]), p)
            for n, p in sorted(locked.items())
            if n in installed and not _same(installed[n], p)
        )
        result = EnvDiff(add=add, remove=remove, change=change)
        pip_pkgs = lock.for_platform(platform, "pip")
        python = env_python(prefix, windows=platform.startswith("win"), manager="conda")
        if pip_pkgs or python.exists():
            from provisioner.env.pip_part import diff_pip_part

            pip = diff_pip_part(python, pip_pkgs)
            result = EnvDiff(
                add=result.add + pip.add,
                remove=result.remove + pip.remove,
                change=result.change + pip.change,
                exists=True,
                notes=result.notes + pip.notes,
            )
        return result


def pip_part_of(diff: EnvDiff, pip_pkgs: tuple[LockedPackage, ...]) -> EnvDiff:
    """The pip entries of a whole-prefix diff. A new prefix, or a conda Python that is
    added or changed (a new site-packages), needs every locked pip package again."""
    python_moves = any(p.name == "python" and p.manager == "conda" for p in diff.add) or any(
        p.name == "python" and p.manager == "conda" for _, p in diff.change
    )
    if not diff.exists or python_moves:
        return EnvDiff(add=pip_pkgs, exists=diff.exists)
    return EnvDiff(
        add=tuple(p for p in diff.add if p.manager == "pip"),
        remove=tuple(r for r in diff.remove if r.startswith("pip:")),
        change=tuple((old, p) for old, p in diff.change if p.manager == "pip"),
        notes=diff.notes,
    )


def read_conda_meta(prefix: Path) -> dict[str, dict[str, object]]:
    """``conda-meta/*.json`` by package name: what conda and micromamba read too."""
    out: dict[str, dict[str, object]] = {}
    for meta in sorted((prefix / "conda-meta").glob("*.json")):
        try:
            data = json.loads(meta.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and "name" in data:
            out[str(data["name"])] = data
    return out


def _spec(meta: dict[str, object]) -> str:
    return f"{meta.get('name')}={meta.get('version')}={meta.get('build')}"


def _same(meta: dict[str, object], pkg: LockedPackage) -> bool:
    if str(meta.get("version")) != pkg.version or str(meta.get("build")) != pkg.build:
        return False
    sha = meta.get("sha256")
    return not (sha and pkg.sha256 and sha != pkg.sha256)


async def _link(
    records: list[rattler.RepoDataRecord], prefix: Path, pkgs_dir: Path, platform: str, quiet: bool
) -> None:
    import rattler
    from rattler.exceptions import InstallerError, IoError, LinkError, TransactionError

    async def transaction(records: list[rattler.RepoDataRecord]) -> None:
        await rattler.install(
            records,
            target_prefix=prefix,
            cache_dir=pkgs_dir,
            platform=rattler.Subdir(platform),
            execute_link_scripts=False,
            show_progress=not quiet,
        )

    try:
        if pause_requested(PAUSE_MID_LINK) and len(records) > 1:
            # Crash-test hook: link the first package on its own, then pause, so a test
            # can SIGKILL the run with some but not all packages in the prefix.
            await transaction(records[:1])
            pause_point(PAUSE_MID_LINK)
        await transaction(records)
    except (InstallerError, IoError, LinkError, TransactionError) as e:
        message = str(e).splitlines()[0] if str(e) else type(e).__name__
        full = str(e).lower()
        if "no space left" in full:
            raise ExternalFailure(
                f"disk full while installing into {prefix}",
                hint="free disk space or set PROVISION_ENVS_DIR to a larger disk",
            ) from e
        raise ExternalFailure(
            f"installing the conda packages into {prefix} failed: {message}",
            hint="check that the prefix is writable; run `provision apply` again to retry",
        ) from e
