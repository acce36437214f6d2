"""The pip part's source of truth: each locked wheel, checked against the lock's sha256
and kept in provision's store, and the files it installs, read from the ``RECORD``
inside *that* wheel.

uv unpacks each wheel once into its cache and hard-links environments to the unpacked
files; the ``RECORD`` it writes into an environment is copied from the same cache. So
a file edited in uv's cache, with its line in the cached ``RECORD`` rewritten, used to
be installed and then pass every check. Here, the expected hash of every installed
file comes from the verified wheel itself (:func:`wheel_contents`), never from uv's
cache or the installed ``*.dist-info``:

- :func:`verified_wheels`: the wheel of each locked pip package in
  ``$XDG_CACHE_HOME/provision/artifacts/<sha256>/<file>``, fetched (or hard-linked from a
  local ``file://`` source, such as a bundle's ``wheels/``) and hashed against the lock;
  a stored one is hashed again whenever its stat changed
  (:func:`provisioner.env.artifacts.stored_artifact`);
- :func:`wheel_contents`: the ``RECORD`` rows and entry points of a wheel, read from the
  zip (bounded).

:mod:`provisioner.env.expected` maps them onto an environment's files.
"""

from __future__ import annotations

import base64
import configparser
import csv
import errno
import os
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import BinaryIO

from provisioner.atomic import DigestMismatch, copy_verified, temp_name
from provisioner.env.artifacts import (
    DownloadFailed,
    file_digest,
    filename,
    open_source,
    parallel_map,
    source_path,
    store_ledger,
    stored_artifact,
)
from provisioner.env.artifacts import _stat_key as stat_key
from provisioner.env.stat_ledger import StatLedger
from provisioner.errors import ExternalFailure
from provisioner.lock import LockedPackage
from provisioner.paths import artifact_store

# A RECORD lists ~60 bytes per file: torch's 15,000 files are ~1.5 MB.
MAX_RECORD_BYTES = 64 << 20


class WheelMismatch(ExternalFailure):
    """A wheel's bytes are not the ones the lock names: refused, nothing installed."""


def is_wheel(pkg: LockedPackage) -> bool:
    return filename(pkg.url).lower().endswith(".whl")


def verified_wheels(packages: Iterable[LockedPackage], *, offline: bool = False) -> dict[str, Path]:
    """``name -> verified wheel in the store`` for every locked wheel (an sdist has no
    wheel to read, nor has an entry without a sha256: they are left out). Raises
    :class:`WheelMismatch` or :class:`ExternalFailure` naming the package when one
    cannot be had; ``offline``: nothing is downloaded (a local ``file://`` source is
    still read)."""
    wanted = [p for p in packages if is_wheel(p) and p.sha256]
    if not wanted:
        return {}
    store = artifact_store()
    ledger = store_ledger(store)
    try:
        paths = parallel_map(lambda p: verified_wheel(p, store, ledger, offline), wanted)
    finally:
        ledger.save()
    return {p.name: path for p, path in zip(wanted, paths, strict=True)}


def verified_wheel(
    pkg: LockedPackage, store: Path, ledger: StatLedger, offline: bool = False
) -> Path:
    """The wheel of ``pkg`` in the store, hash-checked against the lock."""
    if not pkg.sha256:
        raise ExternalFailure(
            f"the lock has no sha256 for pip package {pkg.spec()}",
            hint="re-create the lock with `provision lock PROFILE`",
        )
    stored = stored_artifact(pkg, store, ledger)
    if stored is not None:
        return stored
    target = store / pkg.sha256 / filename(pkg.url)
    if offline and source_path(pkg.url) is None:
        raise ExternalFailure(
            f"offline, and the wheel of pip package {pkg.spec()} is not in {store}",
            hint="apply once with the network (UV_OFFLINE unset), or install from a bundle",
        )
    try:
        if not _link_local(pkg, target):
            with _open(pkg) as src:
                copy_verified(src, target, "sha256", pkg.sha256)
        ledger.record(target.relative_to(store).as_posix(), stat_key(target))
    except DigestMismatch as e:
        raise WheelMismatch(
            f"hash mismatch for pip package {pkg.spec()} from {pkg.url}: the lock has sha256 "
            f"{pkg.sha256[:16]}..., the file has {e.actual[:16]}...; refused, nothing installed",
            hint="the index's file changed after locking: if that is expected, re-lock with "
            "`provision lock PROFILE`, otherwise treat the index as compromised",
        ) from None
    except OSError as e:
        if e.errno in (errno.ENOSPC, errno.EDQUOT):
            raise ExternalFailure(
                f"disk full while storing the wheel of {pkg.spec()} in {store}",
                hint="free disk space or point XDG_CACHE_HOME at a larger disk",
            ) from e
        raise ExternalFailure(
            f"cannot store the wheel of {pkg.spec()} from {pkg.url}: {e.strerror or e}",
            hint="check that the file exists and XDG_CACHE_HOME is writable",
        ) from e
    return target


def _link_local(pkg: LockedPackage, target: Path) -> bool:
    """A local ``file://`` wheel (a bundle's ``wheels/``, a find-links folder) hard-linked
    into the store, then hashed there (after the link: a later change of the source is
    a change of the stored file, which its stat shows). False: copy it instead."""
    source = source_path(pkg.url)
    if source is None or not hasattr(os, "link"):
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_name(target)
    try:
        os.link(source, tmp)
    except OSError:
        return False  # another file system, or no such file: the copy says why
    try:
        actual = file_digest(tmp)
        if actual != pkg.sha256:
            raise DigestMismatch(actual)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return True


def _open(pkg: LockedPackage) -> BinaryIO:
    try:
        return open_source(pkg.url)
    except FileNotFoundError as e:
        raise ExternalFailure(
            f"pip package {pkg.spec()} is missing from its source: {source_path(pkg.url)}",
            hint="restore the file, or re-lock against the indexes you have",
        ) from e
    except DownloadFailed as e:
        raise ExternalFailure(
            f"cannot download pip package {pkg.spec()} from {pkg.url}: {e.reason}",
            hint="check the network and the proxy (HTTPS_PROXY); offline, the wheels must "
            f"already be in {artifact_store()}",
        ) from e


@dataclass(frozen=True)
class WheelFile:
    """One ``RECORD`` row of a wheel: its path in the wheel, hash and size."""

    path: str
    digest: str  # urlsafe base64 sha256, no padding
    size: int | None


@dataclass(frozen=True)
class WheelContents:
    """What a verified wheel says it installs."""

    files: tuple[WheelFile, ...]
    data_dir: str  # "<name>-<version>.data" (may be absent from the wheel)
    dist_info: str  # "<name>-<version>.dist-info"
    scripts: frozenset[str]  # console_scripts and gui_scripts entry points
    # .data/scripts/X starting "#!python" (the installer rewrites that line): the hash
    # and size of what follows it
    script_rests: dict[str, tuple[str, int]]


def wheel_contents(wheel: Path) -> WheelContents:
    """The ``RECORD`` rows and entry points inside ``wheel`` (cached by the file's stat)."""
    st = wheel.stat()
    return _contents(str(wheel), st.st_size, st.st_mtime_ns, st.st_ino)


@lru_cache(maxsize=256)
def _contents(wheel: str, st_size: int, mtime: int, inode: int) -> WheelContents:
    del st_size, mtime, inode  # the cache key only
    with zipfile.ZipFile(wheel) as zf:
        infos = {i.filename: i for i in zf.infolist()}
        record_name = next(
            (n for n in infos if n.count("/") == 1 and n.endswith(".dist-info/RECORD")), None
        )
        if record_name is None or infos[record_name].file_size > MAX_RECORD_BYTES:
            raise ExternalFailure(
                f"{wheel}: not a wheel (no RECORD, or one far too large)",
                hint="re-lock: the wheel in the lock is damaged",
            )
        text = zf.read(record_name).decode("utf-8", "replace")
        dist_info = record_name.split("/", 1)[0]
        data_dir = dist_info[: -len(".dist-info")] + ".data"
        files = []
        rests: dict[str, tuple[str, int]] = {}
        for row in csv.reader(text.splitlines()):
            if len(row) < 2 or not row[1].startswith("sha256="):
                continue  # RECORD itself, signatures
            size = int(row[2]) if len(row) > 2 and row[2].isdigit() else None
            files.append(WheelFile(row[0], row[1][7:].rstrip("="), size))
            script = infos.get(row[0]) if row[0].startswith(f"{data_dir}/scripts/") else None
            if script is not None and script.file_size <= MAX_RECORD_BYTES:
                data = zf.read(script)
                if data.startswith(b"#!python"):
                    rest = data.split(b"\n", 1)[1] if b"\n" in data else b""
                    rests[row[0]] = (b64_digest(rest), len(rest))
        scripts = _entry_points(zf, f"{dist_info}/entry_points.txt")
    return WheelContents(tuple(files), data_dir, dist_info, scripts, rests)


def _entry_points(zf: zipfile.ZipFile, name: str) -> frozenset[str]:
    try:
        text = zf.read(name).decode("utf-8", "replace")
    except KeyError:
        return frozenset()
    parser = configparser.ConfigParser(delimiters=("=",), interpolation=None, strict=False)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    try:
        parser.read_string(text)
    except configparser.Error:
        return frozenset()
    return frozenset(
        name.strip()
        for section in ("console_scripts", "gui_scripts")
        if parser.has_section(section)
        for name in parser.options(section)
    )


def b64_digest(data: bytes) -> str:
    """``RECORD``'s hash form: urlsafe base64 of the sha256, no padding."""
    import hashlib

    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
