"""What is installed in an environment's site-packages, read from its ``*.dist-info``
folders only (name, version, ``INSTALLER``, ``direct_url.json``, ``RECORD``): no
interpreter start, so a no-op apply stays fast.

Standard library only, as :mod:`provisioner.env.expected` and
:mod:`provisioner.env.wheels`: the bundle's bootstrap runs them on a bare host Python
(:mod:`provisioner.bundle.toolcheck`)."""

from __future__ import annotations

import csv
import json
import os
from dataclasses import dataclass
from pathlib import Path

from provisioner.names import canonicalize_name

PIP_INSTALLERS = frozenset({"pip", "uv"})


@dataclass(frozen=True)
class InstalledDist:
    """One distribution found in site-packages."""

    name: str  # PEP 503-normalized
    version: str
    installer: str
    url: str | None  # direct_url.json "url", when installed from a URL
    sha256: str | None  # direct_url.json archive hash, when recorded
    missing: str = ""  # the first file its RECORD lists that does not exist
    info: str = ""  # the *.dist-info folder


def site_packages(python: Path) -> Path | None:
    """The site-packages folder next to ``python`` (venv or conda layout), if it exists."""
    prefix = python.parent.parent if python.parent.name in ("bin", "Scripts") else python.parent
    win = prefix / "Lib" / "site-packages"
    if win.is_dir():
        return win
    lib = prefix / "lib"
    if lib.is_dir():
        for d in sorted(lib.glob("python3*/site-packages")):
            return d
    return None


def installed_distributions(python: Path, *, check_files: bool = True) -> dict[str, InstalledDist]:
    """Distributions in site-packages, keyed by normalized name (reads files only);
    ``check_files`` also looks for files their ``RECORD`` lists that are missing."""
    sp = site_packages(python)
    found: dict[str, InstalledDist] = {}
    if sp is None:
        return found
    for info in sp.glob("*.dist-info"):
        meta = _read_metadata(info)
        if meta is None:
            continue
        name, version = meta
        installer = _read_text(info / "INSTALLER").strip()
        url, sha = _read_direct_url(info)
        missing = first_missing_file(sp, info) if check_files else ""
        found[canonicalize_name(name)] = InstalledDist(
            canonicalize_name(name), version, installer, url, sha, missing, str(info)
        )
    return found


def first_missing_file(site: Path, info: Path) -> str:
    """The first file listed in ``info``'s ``RECORD`` that is not on disk ("" if none).

    Only existence is checked (a stat per file, ~20 ms for torch's 15,000), so a
    deleted module is noticed without hashing gigabytes. Bytecode is skipped: it is
    regenerated on import."""
    if not (info / "RECORD").is_file():
        return "RECORD"  # pip and uv always write one: without it nothing can be checked
    text = _read_text(info / "RECORD")
    for row in csv.reader(text.splitlines()):
        if not row or not row[0] or row[0].endswith(".pyc"):
            continue
        if not os.path.lexists(site / row[0]):
            return row[0]
    return ""


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""  # unreadable reads as absent: a damaged dist-info is not intact


def _read_metadata(info: Path) -> tuple[str, str] | None:
    name = version = None
    for line in _read_text(info / "METADATA").splitlines():
        if not line:
            break  # headers end at the first blank line
        if line.startswith("Name:"):
            name = line.split(":", 1)[1].strip()
        elif line.startswith("Version:"):
            version = line.split(":", 1)[1].strip()
    if name and version:
        return name, version
    stem = info.name[: -len(".dist-info")]
    if "-" in stem:  # an incomplete dist-info: fall back to the folder name
        n, v = stem.split("-", 1)
        return n, v
    return None


def _read_direct_url(info: Path) -> tuple[str | None, str | None]:
    text = _read_text(info / "direct_url.json")
    if not text:
        return None, None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return None, None
    url = data.get("url") if isinstance(data, dict) else None
    archive = data.get("archive_info", {}) if isinstance(data, dict) else {}
    sha = None
    if isinstance(archive, dict):
        hashes = archive.get("hashes")
        if isinstance(hashes, dict) and isinstance(hashes.get("sha256"), str):
            sha = hashes["sha256"]
        elif isinstance(archive.get("hash"), str) and archive["hash"].startswith("sha256="):
            sha = archive["hash"].split("=", 1)[1]
    return (url if isinstance(url, str) else None), sha
