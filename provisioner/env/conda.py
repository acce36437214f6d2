"""The embedded conda backend: py-rattler links exactly the locked conda packages
into a prefix (no conda executable), then the pip part is installed with hashes.

Integrity, from the lock to the prefix:

- every archive comes from provision's artifact store (:mod:`provisioner.env.artifacts`),
  hashed against the lock when it is fetched *and* each time an install uses it;
- rattler's extracted package cache is opened with full validation: each file of a
  cached package is hashed against the package's ``info/paths.json`` before it is
  linked, and an entry that does not match is extracted again from the verified
  archive. Prefixes are hard-linked to that cache (as conda and pixi do), so a file
  edited in one environment is edited in the cache too; this is where it is caught;
- packages whose installed files no longer match (``provision verify`` and
  ``apply --force`` find them, :mod:`provisioner.env.integrity`) arrive in the diff's
  ``change`` list and are linked again from a re-validated cache entry.

``conda-meta/*.json`` records the original ``channel`` and, as ``url``, the channel's
URL of the archive (rattler links from the verified store copy; the ``url`` field is
put back afterwards), so ``conda list --explicit`` works on another machine.

rattler runs in-process: a child process would cost more than a small install
(the bench compares against bare rattler). ``provisioner.cli.entry`` leaves with
``os._exit`` after rattler ran (its crash-at-exit bug).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from provisioner.atomic import write_atomic
from provisioner.env import EnvDiff, env_python
from provisioner.env.artifacts import (
    ArtifactMismatch,
    DownloadProgress,
    cached_index_metadata,
    filename,
    parallel_map,
    store_ledger,
    stored_artifact,
    verified_artifact,
)
from provisioner.env.integrity import AlteredFile, altered_files, by_package, conda_expectations
from provisioner.env.package_cache import checked_entries, rattler_pkgs_dir, stamp_entries
from provisioner.errors import ExternalFailure
from provisioner.lock import Lock, LockedPackage
from provisioner.paths import artifact_store

if TYPE_CHECKING:
    import rattler

__all__ = [
    "ArtifactMismatch",
    "CondaBackend",
    "parallel_map",
    "rattler_pkgs_dir",
    "read_conda_meta",
]


def _record(pkg: LockedPackage, url: str, meta: dict[str, Any]) -> rattler.RepoDataRecord:
    """A rattler record for a verified artifact, with the archive's own metadata; ``url``
    is where rattler extracts it from if its cache entry is missing."""
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
    return rattler.RepoDataRecord(record, filename(pkg.url), url, channel)


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
        offline: bool = False,
    ) -> None:
        """Make ``prefix`` hold exactly the locked packages; hash-check every artifact first.

        The conda part is one rattler transaction to the whole locked set; ``diff`` (its
        pip entries) says what the pip part must add, change and remove, and its conda
        ``change`` entries (altered files among them) are linked again."""
        conda_pkgs = lock.for_platform(platform, "conda")
        store = artifact_store()
        ledger = store_ledger(store)
        artifacts = [stored_artifact(p, store, ledger) for p in conda_pkgs]
        missing = [i for i, a in enumerate(artifacts) if a is None]
        try:
            with contextlib.ExitStack() as stack:
                bars = None if quiet or not missing else stack.enter_context(DownloadProgress())
                fetched = parallel_map(
                    lambda i: verified_artifact(conda_pkgs[i], store, ledger, bars), missing
                )
        finally:
            ledger.save()
        for i, path in zip(missing, fetched, strict=True):
            artifacts[i] = path
        verified = [a for a in artifacts if a is not None]
        metas = cached_index_metadata(conda_pkgs, verified)
        relink = {p.name for _, p in diff.change if p.manager == "conda"} if diff else set()
        linked = _to_link(conda_pkgs, diff)
        pkgs_dir = rattler_pkgs_dir()
        # A package whose cache entry is intact is linked from it, and its record gets
        # the channel's URL; any other is extracted from the verified store copy, whose
        # URL is then replaced by the channel's in conda-meta.
        pairs = list(zip(conda_pkgs, verified, strict=True))
        archives = {p.name: a for p, a in pairs}
        full = bool(diff and diff.altered)
        intact = checked_entries(pkgs_dir, linked, full=full, archives=archives)
        urls = [p.url if p.name in intact else a.as_uri() for p, a in pairs]
        records = [_record(p, u, m) for p, u, m in zip(conda_pkgs, urls, metas, strict=True)]
        asyncio.run(_link(records, prefix, pkgs_dir, platform, quiet, relink))
        extracted = [(p, a) for p, a in pairs if p.name not in intact]
        restore_channel_urls(prefix, extracted)
        stamp_entries(pkgs_dir, [p for p, _ in extracted])
        pip_pkgs = lock.for_platform(platform, "pip")
        python = env_python(prefix, windows=platform.startswith("win"), manager="conda")
        if pip_pkgs or python.exists():  # also removes pip-installed extras the lock lacks
            from provisioner.env.pip_part import install_pip_part

            current = pip_part_of(diff, pip_pkgs) if diff is not None else None
            install_pip_part(python, pip_pkgs, quiet=quiet, current=current, offline=offline)

    def diff(self, prefix: Path, lock: Lock, platform: str, *, files: bool = False) -> EnvDiff:
        """Compare ``conda-meta`` (and the pip part) with the lock, without installing;
        with ``files``, also hash every installed file against its package's record."""
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
        altered: tuple[str, ...] = ()
        if files:
            same = {n for n in locked if n in installed} - {p.name for _, p in change}
            found = by_package(altered_files(conda_expectations(prefix, same))[1])
            change += tuple(
                (f"{_spec(installed[key[6:]])} (altered: {_shown(items)})", locked[key[6:]])
                for key, items in sorted(found.items())
            )
            altered = tuple(sorted(found))
        result = EnvDiff(add=add, remove=remove, change=change, altered=altered)
        pip_pkgs = lock.for_platform(platform, "pip")
        python = env_python(prefix, windows=platform.startswith("win"), manager="conda")
        if pip_pkgs or python.exists():
            from provisioner.env.pip_part import diff_pip_part

            pip = diff_pip_part(python, pip_pkgs, files=files)
            result = EnvDiff(
                add=result.add + pip.add,
                remove=result.remove + pip.remove,
                change=result.change + pip.change,
                exists=True,
                notes=result.notes + pip.notes,
                altered=result.altered + pip.altered,
                strays=pip.strays,
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
        altered=tuple(a for a in diff.altered if a.startswith("pip:")),
        strays=diff.strays,
    )


def _shown(items: list[AlteredFile]) -> str:
    return ", ".join(a.path for a in items[:3]) + (" ..." if len(items) > 3 else "")


def _to_link(packages: tuple[LockedPackage, ...], diff: EnvDiff | None) -> list[LockedPackage]:
    """The conda packages the transaction links: all of them without a diff to go by."""
    if diff is None or not diff.exists:
        return list(packages)
    names = {p.name for p in diff.add} | {p.name for _, p in diff.change}
    return [p for p in packages if p.name in names]


def restore_channel_urls(prefix: Path, extracted: list[tuple[LockedPackage, Path]]) -> None:
    """Put each package's channel URL back into its ``conda-meta/*.json`` ``url`` (rattler
    records the verified store copy it linked from). A text replacement of that one
    field: parsing and rewriting every record would cost more than the link."""

    def fix(item: tuple[LockedPackage, Path]) -> None:
        pkg, artifact = item
        meta = prefix / "conda-meta" / f"{pkg.name}-{pkg.version}-{pkg.build}.json"
        try:
            text = meta.read_text(encoding="utf-8")
        except OSError:
            return
        linked = '"url": ' + json.dumps(artifact.as_uri(), ensure_ascii=False)
        if linked in text:
            text = text.replace(linked, '"url": ' + json.dumps(pkg.url, ensure_ascii=False), 1)
            write_atomic(meta, text)

    parallel_map(fix, extracted)


def read_conda_meta(prefix: Path) -> dict[str, dict[str, object]]:
    """``conda-meta/*.json`` by package name: what conda and micromamba read too."""
    out: dict[str, dict[str, object]] = {}
    for meta in sorted((prefix / "conda-meta").glob("*.json")):
        try:
            data = json.loads(meta.read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError):
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
    records: list[rattler.RepoDataRecord],
    prefix: Path,
    pkgs_dir: Path,
    platform: str,
    quiet: bool,
    relink: set[str],
) -> None:
    """One rattler transaction to ``records`` (cache entries checked beforehand by
    :func:`provisioner.env.package_cache.checked_entries`)."""
    import rattler
    from rattler.exceptions import InstallerError, IoError, LinkError, TransactionError

    try:
        await rattler.install(
            records,
            target_prefix=prefix,
            cache_dir=pkgs_dir,
            platform=rattler.Subdir(platform),
            execute_link_scripts=False,
            show_progress=not quiet,
            reinstall_packages=relink or None,
        )
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
