"""What each framework release publishes, read from the generated ``compat_pypi.json``.

A typed view for the compatibility rules, the lock and ``explain``: which CPython
versions and platforms a release has wheels for, its CUDA build, whether it was built
against NumPy 1.x, and its exact pins. The data is generated from PyPI's own metadata
(:mod:`provisioner.compatdata.generate`); every row carries its source URL.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

DATA = Path(__file__).resolve().parent.parent / "data" / "compat_pypi.json"


@dataclass(frozen=True)
class Release:
    """One release of one package, as PyPI publishes it."""

    package: str
    version: str
    pythons: tuple[str, ...]  # CPython "3.X" versions with a wheel (or allowed, pure)
    platforms: tuple[str, ...]  # conda-style: linux-64, win-64, osx-arm64, noarch, ...
    source: str  # https://pypi.org/project/<package>/<version>/#files
    read: str  # the day PyPI was read (YYYY-MM-DD)
    sdist: bool = False
    requires_python: str | None = None
    uploaded: str | None = None
    cuda: str | None = None  # CUDA build named by its Linux wheel's Requires-Dist
    cuda_from: str | None = None  # the requirement that names it
    numpy: str | None = None  # its Requires-Dist on numpy, as written
    numpy_abi: str | None = None  # "1": built against NumPy 1.x
    pins: Mapping[str, str] = field(default_factory=dict)  # exact == requirements
    metadata: str | None = None  # the wheel whose METADATA was read
    yanked: bool = False
    # per platform, its CPythons where they differ from ``pythons`` (torch 1.13.1 has
    # CPython 3.11 wheels for linux-64 only)
    pythons_on: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def pythons_for(self, platform: str | None) -> tuple[str, ...]:
        """The CPythons with a wheel for ``platform`` (None: for any platform)."""
        if platform is None or platform not in self.platforms:
            return self.pythons
        return self.pythons_on.get(platform, self.pythons)

    @property
    def python_range(self) -> tuple[str, str] | None:
        """(oldest, newest) CPython with a wheel; None when it has none."""
        if not self.pythons:
            return None
        return self.pythons[0], self.pythons[-1]


@dataclass(frozen=True)
class Published:
    """Which Pythons and platforms a release (or, with no version, any release) of a
    package publishes wheels for: what a "no matching distribution" error is about."""

    package: str
    version: str | None  # None: every release the data knows, together
    pythons: tuple[str, ...]
    platforms: tuple[str, ...]
    sdist: bool
    source: str


def _minor_key(python: str) -> tuple[int, ...]:
    return tuple(int(p) for p in python.split("."))


@cache
def _table(path: Path = DATA) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def known_packages() -> tuple[str, ...]:
    """The packages the data has releases of (canonical names)."""
    return tuple(_table()["packages"])


def numpy2_released() -> str | None:
    """The day NumPy 2.0.0 was uploaded, per the data."""
    value = _table().get("numpy2_released")
    return str(value) if value else None


def _release(package: str, version: str, row: Mapping[str, Any]) -> Release:
    return Release(
        package=package,
        version=version,
        pythons=tuple(row.get("pythons", ())),
        platforms=tuple(row.get("platforms", ())),
        source=str(row["source"]),
        read=str(row["read"]),
        sdist=bool(row.get("sdist", False)),
        requires_python=row.get("requires_python"),
        uploaded=row.get("uploaded"),
        cuda=row.get("cuda"),
        cuda_from=row.get("cuda_from"),
        numpy=row.get("numpy"),
        numpy_abi=row.get("numpy_abi"),
        pins=dict(row.get("pins", {})),
        metadata=row.get("metadata"),
        yanked=bool(row.get("yanked", False)),
        pythons_on={str(k): tuple(v) for k, v in (row.get("pythons_on") or {}).items()},
    )


@cache
def releases(package: str) -> tuple[Release, ...]:
    """Every release of ``package`` the data knows, oldest first; () for an unknown one."""
    name = canonicalize_name(package)
    rows = _table()["packages"].get(name) or {}
    return tuple(_release(name, str(v), row) for v, row in rows.items())


def _version(text: str) -> Version | None:
    try:
        return Version(text)
    except InvalidVersion:
        return None


def matching(package: str, pin: str) -> tuple[Release, ...]:
    """The releases a ``==`` pin selects: ``2.4.1`` itself (``2.4.1`` == ``2.4.1.0``),
    or every ``2.4.x`` for ``2.4.*``. A pin without ``*`` matches exactly, as pip does:
    ``==0.4.0`` does not select ``0.4.0.dev230202``."""
    if pin.endswith(".*"):
        prefix = pin[:-2]
        return tuple(
            r
            for r in releases(package)
            if r.version == prefix or r.version.startswith(prefix + ".")
        )
    wanted = _version(pin)
    return tuple(
        r for r in releases(package) if wanted is not None and _version(r.version) == wanted
    )


def release(package: str, pin: str) -> Release | None:
    """The release a ``==`` pin installs: the newest one it matches (pip's choice)."""
    found = [r for r in matching(package, pin) if not r.yanked] or list(matching(package, pin))
    return max(found, key=lambda r: _version(r.version) or Version("0")) if found else None


def published(package: str, version: str | None = None) -> Published | None:
    """Which Pythons and platforms ``package`` ``version`` has wheels for (with no version,
    any release together); None when the data does not know the package or the version."""
    chosen = releases(package) if version is None else matching(package, version)
    if not chosen:
        return None
    pythons = sorted({p for r in chosen for p in r.pythons}, key=_minor_key)
    platforms = sorted({p for r in chosen for p in r.platforms})
    name = canonicalize_name(package)
    source = chosen[0].source if len(chosen) == 1 else f"https://pypi.org/project/{name}/#history"
    return Published(
        package=name,
        version=chosen[0].version if version is not None and len(chosen) == 1 else version,
        pythons=tuple(pythons),
        platforms=tuple(platforms),
        sdist=any(r.sdist for r in chosen),
        source=source,
    )


def _without_local(specifier: SpecifierSet) -> SpecifierSet:
    """``==2.13.0+cpu`` as ``==2.13.0``: PyPI's data has no local versions (a ``+cpu`` or
    ``+cu126`` build comes from PyTorch's own index, with the same Pythons)."""
    parts = [str(s).split("+")[0] if s.operator in ("==", "===") else str(s) for s in specifier]
    return SpecifierSet(",".join(parts))


def allowed(requirement: str) -> tuple[Release, ...]:
    """The releases a PEP 508 requirement (``tensorflow-cpu==2.10.*``) lets pip choose from,
    oldest first: pre-releases only where the requirement names one or nothing else fits,
    as pip decides. () for a package the data lacks or an unparsable requirement."""
    try:
        req = Requirement(requirement)
    except InvalidRequirement:
        return ()
    known = releases(req.name)
    if not known:
        return ()
    spec = _without_local(req.specifier)
    by_version = {r.version: r for r in known}
    chosen = set(spec.filter(by_version))
    return tuple(r for r in known if r.version in chosen)
