"""Write a bundle as a folder, a ``.tar.gz`` or a ``.zip``, reproducibly, and check one.

Reproducible: entries in path order, every member dated :data:`FIXED_MTIME` with no
owner (uid/gid 0, no names), modes 0755/0644 only, gzip header time 0 and no file
name, zip entries stored when already compressed (wheels, conda packages) and
deflated otherwise. The same entries always give the same bytes.

Every output is written next to its final place and renamed into it at the end, so an
interrupted or failed bundle never leaves a half-written one under the final name.
"""

from __future__ import annotations

import errno
import gzip
import hashlib
import io
import json
import os
import shutil
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Any

from provisioner import bundle as b
from provisioner.atomic import temp_name
from provisioner.bundle.build import Contents, Entry
from provisioner.bundle.fetch import no_space
from provisioner.errors import ExitCode, ExternalFailure, ProvisionError
from provisioner.inputs import MANIFEST, InputError, Kind, Unreadable, capped, open_regular, too_big

_STORED = (".whl", ".conda", ".tar.bz2", ".zip", ".gz", ".zst", ".bz2")
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def write(contents: Contents, out: Path) -> Path:
    """Write ``contents`` to ``out`` (kind from its name); return the final path."""
    kind = b.archive_kind(out)
    out = out.absolute()
    out.parent.mkdir(parents=True, exist_ok=True)
    _check_space(contents, out)
    tmp = temp_name(out)  # unpredictable: nothing planted beside OUT is written through
    try:
        if kind == "folder":
            _write_folder(contents, tmp)
            final = out / contents.top
            out.mkdir(parents=True, exist_ok=True)
            if final.exists():
                shutil.rmtree(final)
            os.replace(tmp / contents.top, final)
            tmp.rmdir()
            return final
        with tmp.open("wb") as raw:
            if kind == "tar.gz":
                _write_tar_gz(contents, raw)
            else:
                _write_zip(contents, raw)
        os.replace(tmp, out)
        return out
    except OSError as e:
        if e.errno in (errno.ENOSPC, errno.EDQUOT):
            raise no_space(out.parent, e) from e
        raise
    finally:
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            tmp.unlink(missing_ok=True)


def _check_space(contents: Contents, out: Path) -> None:
    """Refuse early when the disk cannot hold the bundle (its files' total size)."""
    need = contents.size + (1 << 20)
    free = shutil.disk_usage(out.parent).free
    if free < need:
        raise ExternalFailure(
            f"not enough space in {out.parent} for the bundle: it needs "
            f"{need // 2**20} MiB, {free // 2**20} MiB are free",
            hint="free space there, or choose -o on a larger disk",
        )


def _write_folder(contents: Contents, root: Path) -> None:
    for e in contents.entries:
        dest = root / contents.top / e.path
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(e.source, dest)
        dest.chmod(0o755 if e.executable else 0o644)


def _dirs(contents: Contents) -> list[str]:
    """Every folder of the bundle, the top-level one included, in path order."""
    found = {contents.top}
    for e in contents.entries:
        for parent in PurePosixPath(contents.top, e.path).parents:
            if str(parent) != ".":
                found.add(str(parent))
    return sorted(found)


def _write_tar_gz(contents: Contents, raw: IO[bytes]) -> None:
    with (
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=1) as gz,
        tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        members: list[tuple[str, Entry | None]] = [(d + "/", None) for d in _dirs(contents)]
        members += [(f"{contents.top}/{e.path}", e) for e in contents.entries]
        for name, e in sorted(members, key=lambda m: m[0]):
            info = tarfile.TarInfo(name.rstrip("/"))
            info.mtime = b.FIXED_MTIME
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            if e is None:
                info.type = tarfile.DIRTYPE
                info.mode = 0o755
                tar.addfile(info)
                continue
            info.size = e.size
            info.mode = 0o755 if e.executable else 0o644
            with e.source.open("rb") as f:
                tar.addfile(info, f)


def _write_zip(contents: Contents, raw: IO[bytes]) -> None:
    with zipfile.ZipFile(raw, "w", allowZip64=True) as zf:
        for d in _dirs(contents):
            info = zipfile.ZipInfo(d + "/", date_time=_ZIP_TIME)
            info.external_attr = (0o40755 << 16) | 0x10
            info.create_system = 3
            zf.writestr(info, b"")
        for e in contents.entries:
            info = zipfile.ZipInfo(f"{contents.top}/{e.path}", date_time=_ZIP_TIME)
            info.external_attr = (0o100755 if e.executable else 0o100644) << 16
            info.create_system = 3
            info.compress_type = (
                zipfile.ZIP_STORED if e.path.endswith(_STORED) else zipfile.ZIP_DEFLATED
            )
            info.file_size = e.size
            with e.source.open("rb") as src, zf.open(info, "w", force_zip64=True) as dst:
                shutil.copyfileobj(src, dst, 1 << 20)


# --- check ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Checked:
    """The result of ``provision bundle --check``: files checked and problems found."""

    top: str
    files: int
    problems: tuple[str, ...]


# What a member that is not a regular file hashes as: no listed file has these bytes.
NOT_A_FILE = b"\0not a regular file"
# A bundle archive of any size is read as a stream; only a regular file is opened.
ARCHIVE = Kind("bundle", 1 << 40, "pass a bundle folder, .tar.gz or .zip", "a bundle")


@dataclass
class _Seen:
    """What one pass over the bundle found: every member's sha256, the manifest's bytes."""

    root_depth: int
    hashes: dict[str, str]
    manifest_name: str | None = None
    manifest: bytes | None = None

    def is_manifest(self, name: str) -> bool:
        return name.count("/") == self.root_depth and name.rsplit("/", 1)[-1] == b.MANIFEST

    def add(self, name: str, stream: IO[bytes], size: int | None) -> None:
        """Hash one member; keep the manifest's bytes (refused past its cap, by the size
        the archive declares before anything is read, and while it is read)."""
        digest = hashlib.sha256()
        if self.is_manifest(name):
            try:
                if size is not None and size > MANIFEST.cap:
                    raise too_big(MANIFEST, size)
                data = capped(stream, MANIFEST).read()
            except Unreadable as e:
                raise Unreadable(f"{name}: {e.reason}", e.fix) from None
            digest.update(data)
            self.manifest_name, self.manifest = name, data
        else:
            while chunk := stream.read(1 << 20):
                digest.update(chunk)
        self.hashes[name] = digest.hexdigest()


def _walk_folder(path: Path, seen: _Seen) -> None:
    for f in sorted(p for p in path.rglob("*") if p.is_symlink() or not p.is_dir()):
        name = f.relative_to(path).as_posix()
        if f.is_symlink() or not f.is_file():
            # A link (it can point anywhere once copied), a pipe or a device: not a
            # file the bundle wrote; never opened (a pipe or /dev/zero never ends).
            seen.add(name, io.BytesIO(NOT_A_FILE), None)
            continue
        try:
            fd = open_regular(f, ARCHIVE)
        except Unreadable:  # replaced by a pipe since the walk: not a bundle file
            seen.add(name, io.BytesIO(NOT_A_FILE), None)
            continue
        with os.fdopen(fd, "rb") as handle:
            seen.add(name, handle, os.fstat(handle.fileno()).st_size)


def _walk_archive(path: Path, seen: _Seen) -> None:
    """Every member of a ``.tar.gz`` or ``.zip`` (a regular file, opened once)."""
    with os.fdopen(open_regular(path, ARCHIVE), "rb") as raw:
        if b.archive_kind(path) == "tar.gz":
            with tarfile.open(fileobj=raw, mode="r:gz") as tar:
                for m in tar:
                    if m.isfile():
                        member = tar.extractfile(m)
                        assert member is not None
                        seen.add(m.name, member, m.size)
                    elif not m.isdir():
                        seen.add(m.name, io.BytesIO(NOT_A_FILE), None)
        else:
            with zipfile.ZipFile(raw) as zf:
                for info in zf.infolist():
                    if not info.is_dir():
                        with zf.open(info) as entry:
                            seen.add(info.filename, entry, info.file_size)


def check(path: Path) -> Checked:
    """Re-hash every file of the bundle at ``path`` against its manifest.

    The bundle is read once, as a stream: a folder, or a regular ``.tar.gz``/``.zip``
    file; its ``manifest.json`` is a regular file (or member) of at most
    :data:`provisioner.inputs.MANIFEST` ``.cap`` bytes. Anything else (a pipe, a device,
    a link to one, a huge manifest) is exit 2 in one line, never a hang."""
    if not path.exists() and not path.is_symlink():
        raise ProvisionError(
            f"{path}: no such bundle", hint="pass a bundle folder, .tar.gz or .zip"
        )
    root = path
    if path.is_dir() and not (path / b.MANIFEST).exists():
        tops = [d for d in path.iterdir() if (d / b.MANIFEST).exists()]
        if len(tops) == 1:
            root = tops[0]
    if not root.is_dir() and b.archive_kind(path) == "folder":
        raise InputError(
            f"{path}: not a bundle (neither a folder nor a .tar.gz or .zip file)",
            hint="pass the output of `provision bundle`",
        )
    seen = _Seen(0 if root.is_dir() else 1, {})  # archives hold the top-level folder
    try:
        if root.is_dir():
            _walk_folder(root, seen)
        else:
            _walk_archive(path, seen)
    except Unreadable as e:
        raise InputError(f"{path}: cannot read the bundle: {e.reason}", hint=e.fix) from None
    except (OSError, tarfile.TarError, zipfile.BadZipFile, EOFError) as e:
        raise ExternalFailure(
            f"{path}: cannot read the bundle: {e}", hint="copy or download the bundle again"
        ) from e
    if seen.manifest_name is None or seen.manifest is None:
        raise ProvisionError(
            f"{path}: not a bundle (no {b.MANIFEST})",
            hint="pass the output of `provision bundle`",
            exit_code=ExitCode.INVALID,
        )
    hashes, manifest_name = seen.hashes, seen.manifest_name
    prefix = manifest_name[: -len(b.MANIFEST)]
    manifest = _parse_manifest(seen.manifest, path, manifest_name)
    problems: list[str] = []
    listed = {prefix + f["path"]: f["sha256"] for f in manifest.get("files", [])}
    for name, sha in sorted(listed.items()):
        if name not in hashes:
            problems.append(f"{name}: missing")
        elif hashes[name] != sha:
            problems.append(f"{name}: sha256 differs from the manifest")
    extra = set(hashes) - set(listed) - {manifest_name, prefix + b.SUMS}
    problems += [f"{name}: not in the manifest" for name in sorted(extra)]
    if prefix + b.SUMS in hashes:
        sums = {prefix + f["path"]: f["sha256"] for f in manifest.get("files", [])}
        sums[manifest_name] = hashes[manifest_name]
        expected = "".join(f"{sha}  {n[len(prefix) :]}\n" for n, sha in sorted(sums.items()))
        if hashlib.sha256(expected.encode()).hexdigest() != hashes[prefix + b.SUMS]:
            problems.append(f"{prefix + b.SUMS}: does not match the manifest")
    else:
        problems.append(f"{prefix + b.SUMS}: missing")
    return Checked(str(manifest.get("top", "")), len(hashes), tuple(problems))


def _parse_manifest(text: bytes, path: Path, name: str) -> dict[str, Any]:
    if text == NOT_A_FILE:
        raise InputError(
            f"{path}: {name} is not a regular file (a link, pipe or device)",
            hint="copy the whole bundle again, or re-bundle",
        )
    try:
        data = json.loads(text)
    except ValueError as e:
        raise ExternalFailure(f"{path}: {name} is not JSON: {e}", hint="re-bundle") from e
    except RecursionError:
        raise ExternalFailure(f"{path}: {name} is nested too deeply", hint="re-bundle") from None
    if not isinstance(data, dict) or data.get("schema") != b.BUNDLE_SCHEMA:
        raise ExternalFailure(f"{path}: {name} is not a {b.BUNDLE_SCHEMA} manifest")
    files = data.get("files")
    if not isinstance(files, list) or not all(
        isinstance(f, dict) and isinstance(f.get("path"), str) and isinstance(f.get("sha256"), str)
        for f in files
    ):
        raise ExternalFailure(
            f"{path}: {name} does not list its files as path and sha256",
            hint="copy the bundle again, or re-bundle",
        )
    return data
