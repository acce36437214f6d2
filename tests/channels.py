"""Real local conda channels for tests: build packages, then index them with rattler.

A package here is a real conda artifact (``.tar.bz2`` or ``.conda``) with
``info/index.json``, ``info/paths.json`` (sha256 and size of every payload file),
the payload files and optional link scripts. :func:`build_channel` writes them
under ``<root>/<subdir>/`` and runs ``rattler.index.index_fs`` so every subdir,
``noarch`` included, gets a ``repodata.json``. Solvers, installers, conda and
micromamba read these channels exactly like conda-forge.

Import it as ``from tests.channels import ...``. Example::

    channel = build_channel(tmp_path / "chan", [
        PackageSpec("greeter", "1.0", depends=("libhello >=2",), files={"share/greeter.txt": "hi"}),
        PackageSpec("libhello", "2.1", subdir="linux-64"),
        PackageSpec("libhello", "2.1", subdir="win-64", depends=("vc14_runtime",)),
    ])
    channel.as_uri()  # file:///.../chan
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import sys
import tarfile
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

# Fixed mtime, so rebuilding the same package gives the same bytes (and the same sha256).
EPOCH = 1_700_000_000
SUBDIRS = ("noarch", "linux-64", "win-64")
PackageFormat = Literal["tar.bz2", "conda"]


@dataclass(frozen=True)
class PackageSpec:
    """One conda package to build: name, version, build, subdir, dependencies and payload."""

    name: str
    version: str
    build: str = "0"
    subdir: str = "noarch"
    depends: tuple[str, ...] = ()
    files: Mapping[str, str] = field(default_factory=dict)
    build_number: int = 0
    constrains: tuple[str, ...] = ()
    # Link scripts by kind ("post-link", "pre-unlink"): installed as bin/.<name>-<kind>.sh
    link_scripts: Mapping[str, str] = field(default_factory=dict)
    format: PackageFormat = "tar.bz2"
    license: str = "MIT"
    # Symbolic links by prefix-relative path -> target (absolute or relative).
    symlinks: Mapping[str, str] = field(default_factory=dict)
    # For subdir noarch: "generic" (files as they are) or "python" (site-packages/ is
    # linked into the prefix's lib/pythonX.Y/site-packages).
    noarch: Literal["generic", "python"] = "generic"

    @property
    def stem(self) -> str:
        return f"{self.name}-{self.version}-{self.build}"

    @property
    def filename(self) -> str:
        return f"{self.stem}.{self.format}"

    def payload(self) -> dict[str, bytes]:
        """Every file the package installs, by prefix-relative path (a default one if none)."""
        files = dict(self.files) or {
            f"share/{self.name}/{self.name}.txt": f"{self.name} {self.version} {self.build}\n"
        }
        out = {path: text.encode("utf-8") for path, text in files.items()}
        for kind, script in self.link_scripts.items():
            folder = "Scripts" if self.subdir.startswith("win") else "bin"
            ext = "bat" if self.subdir.startswith("win") else "sh"
            out[f"{folder}/.{self.name}-{kind}.{ext}"] = script.encode("utf-8")
        return out

    def index_json(self) -> dict[str, object]:
        data: dict[str, object] = {
            "name": self.name,
            "version": self.version,
            "build": self.build,
            "build_number": self.build_number,
            "depends": list(self.depends),
            "constrains": list(self.constrains),
            "license": self.license,
            "subdir": self.subdir,
            "timestamp": EPOCH * 1000,
        }
        if self.subdir == "noarch":
            data["noarch"] = self.noarch
        else:
            data["platform"], data["arch"] = {
                "linux-64": ("linux", "x86_64"),
                "win-64": ("win", "x86_64"),
                "osx-64": ("osx", "x86_64"),
                "linux-aarch64": ("linux", "aarch64"),
            }.get(self.subdir, (None, None))
        return data


def _paths_json(payload: Mapping[str, bytes], symlinks: Mapping[str, str]) -> dict[str, object]:
    entries: list[dict[str, object]] = [
        {
            "_path": path,
            "path_type": "hardlink",
            "sha256": hashlib.sha256(data).hexdigest(),
            "size_in_bytes": len(data),
        }
        for path, data in payload.items()
    ]
    entries += [{"_path": path, "path_type": "softlink"} for path in symlinks]
    return {"paths": sorted(entries, key=lambda e: str(e["_path"])), "paths_version": 1}


def _tar_bytes(
    members: Mapping[str, bytes],
    mode: Literal["w:bz2", "w"],
    symlinks: Mapping[str, str] | None = None,
) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode) as tar:
        for path, data in sorted(members.items()):
            info = tarfile.TarInfo(path)
            info.size = len(data)
            info.mtime = EPOCH
            info.mode = 0o755 if path.startswith("bin/") else 0o644
            tar.addfile(info, io.BytesIO(data))
        for path, target in sorted((symlinks or {}).items()):
            link = tarfile.TarInfo(path)
            link.type = tarfile.SYMTYPE
            link.linkname = target
            link.mtime = EPOCH
            tar.addfile(link)
    return buf.getvalue()


def info_members(spec: PackageSpec) -> dict[str, bytes]:
    """The ``info/`` folder of a package: index.json, paths.json, files."""
    payload = spec.payload()
    return {
        "info/index.json": json.dumps(spec.index_json(), indent=2).encode(),
        "info/paths.json": json.dumps(_paths_json(payload, spec.symlinks), indent=2).encode(),
        "info/files": "".join(f"{p}\n" for p in sorted([*payload, *spec.symlinks])).encode(),
    }


def build_package(spec: PackageSpec, out_dir: Path) -> Path:
    """Write one real conda package into ``out_dir`` and return its path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / spec.filename
    info = info_members(spec)
    payload = spec.payload()
    if spec.format == "tar.bz2":
        target.write_bytes(_tar_bytes({**info, **payload}, "w:bz2", spec.symlinks))
        return target
    from backports import zstd  # installed with conda-package-streaming

    def zst(members: Mapping[str, bytes], links: Mapping[str, str] | None = None) -> bytes:
        return zstd.compress(_tar_bytes(members, "w", links))

    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr("metadata.json", json.dumps({"conda_pkg_format_version": 2}))
        zf.writestr(
            f"pkg-{spec.stem}.tar.zst", zstd.compress(_tar_bytes(payload, "w", spec.symlinks))
        )
        zf.writestr(f"info-{spec.stem}.tar.zst", zst(info))
    return target


def index_channel(root: Path) -> None:
    """Write ``repodata.json`` for every subdir of ``root`` (noarch is created if missing)."""
    from rattler.index import index_fs

    (root / "noarch").mkdir(parents=True, exist_ok=True)
    asyncio.run(index_fs(root, write_zst=False, write_shards=False, force=True))


def build_channel(root: Path, packages: Iterable[PackageSpec]) -> Path:
    """Build every package under ``root/<subdir>/`` and index the channel; return ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    for subdir in SUBDIRS:
        (root / subdir).mkdir(exist_ok=True)
    for spec in packages:
        build_package(spec, root / spec.subdir)
    index_channel(root)
    return root


def add_packages(root: Path, packages: Iterable[PackageSpec]) -> Path:
    """Add packages to an existing channel and re-index it."""
    return build_channel(root, packages)


def tamper(root: Path, spec: PackageSpec) -> Path:
    """Change the bytes of an already-indexed package without re-indexing (a tampered mirror).

    The replacement is a valid package with different payload, so only a hash check
    can tell it apart.
    """
    path = root / spec.subdir / spec.filename
    evil = PackageSpec(
        spec.name,
        spec.version,
        spec.build,
        spec.subdir,
        spec.depends,
        {p: "tampered\n" for p in spec.payload()},
        spec.build_number,
        spec.constrains,
        {},
        spec.format,
        spec.license,
        spec.symlinks,
        spec.noarch,
    )
    tmp = root / ".tamper"
    built = build_package(evil, tmp)
    path.write_bytes(built.read_bytes())
    built.unlink()
    tmp.rmdir()
    return path


def repodata(root: Path, subdir: str) -> dict[str, object]:
    """The indexed ``repodata.json`` of one subdir, as data."""
    data: dict[str, object] = json.loads((root / subdir / "repodata.json").read_text())
    return data


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def demo_packages(
    version: str = "1.0", formats: Sequence[PackageFormat] = ("tar.bz2",)
) -> list[PackageSpec]:
    """A small channel with platform-specific dependencies, used across the lock/env tests.

    ``app`` (noarch) needs ``libcore``; ``libcore`` on linux-64 needs ``liblinux``
    and ``__glibc``; on win-64 it needs ``libwin`` and ``__win``. ``tool`` exists
    in two versions so tests can change one pin.
    """
    fmt = formats[0]
    return [
        PackageSpec("app", version, depends=("libcore >=1",), format=fmt),
        PackageSpec("libcore", "1.2", "h1_0", "linux-64", depends=("liblinux", "__glibc >=2.17")),
        PackageSpec("libcore", "1.2", "h2_0", "win-64", depends=("libwin", "__win")),
        PackageSpec("liblinux", "3.0", "h0_0", "linux-64", files={"lib/liblinux.so": "elf\n"}),
        PackageSpec("libwin", "4.0", "h0_0", "win-64", files={"Library/bin/libwin.dll": "pe\n"}),
        PackageSpec("tool", "1.0", files={"share/tool/VERSION": "1.0\n"}, format=formats[-1]),
        PackageSpec("tool", "2.0", files={"share/tool/VERSION": "2.0\n"}, format=formats[-1]),
    ]


def python_standin(
    version: str | None = None, base_prefix: Path | None = None, build: str = "0_standin"
) -> PackageSpec:
    """A STAND-IN for conda-forge's ``python`` (no conda-forge here): a real linux-64 conda
    package whose prefix becomes a venv of a host interpreter (``pyvenv.cfg`` plus a
    ``bin/python`` symlink), so pip installs into the prefix as into a conda Python."""
    base = Path(base_prefix or sys.base_prefix)
    major, minor, micro = (version or ".".join(map(str, sys.version_info[:3]))).split(".")
    host = base / "bin" / f"python{major}.{minor}"
    site = f"lib/python{major}.{minor}/site-packages"
    return PackageSpec(
        "python",
        f"{major}.{minor}.{micro}",
        build,
        "linux-64",
        files={
            "pyvenv.cfg": f"home = {base / 'bin'}\ninclude-system-site-packages = false\n"
            f"version = {major}.{minor}.{micro}\n",
            f"{site}/README.txt": "stand-in python: site-packages of the prefix\n",
        },
        symlinks={"bin/python": str(host), f"bin/python{major}.{minor}": str(host)},
    )
