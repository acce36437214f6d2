"""``provision list``: what is installed in an environment, where each package came from
(its conda channel or pip source) and whether the profile asked for it or it came as a
dependency, as ``pixi list`` and ``conda list`` show it.

Read from the prefix itself (``conda-meta/*.json``; the ``*.dist-info`` folders, with
the URL ``direct_url.json`` records), so it shows what is really there.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote, urlparse

from packaging.utils import canonicalize_name

from provisioner.profile import ResolvedProfile


@dataclass(frozen=True)
class Listed:
    """One installed package."""

    name: str
    version: str
    manager: str  # conda | pip
    source: str  # conda channel, pip index host or wheel folder; "" when unknown
    requested: str  # the profile's spec that asked for it; "" for a dependency

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "manager": self.manager,
            "source": self.source or None,
            "requested": bool(self.requested),
            "spec": self.requested or None,
        }


def pip_source(url: str | None) -> str:
    """Where a wheel came from: ``pypi.org`` for PyPI's file host, the folder of a
    ``file://`` wheel, else the URL's host and folder."""
    if not url:
        return ""
    parsed = urlparse(url)
    if parsed.scheme == "file":
        return str(PurePosixPath(unquote(parsed.path)).parent)
    if parsed.netloc == "files.pythonhosted.org":
        return "pypi.org"
    folder = str(PurePosixPath(unquote(parsed.path)).parent).rstrip("/")
    return f"{parsed.netloc}{folder}"


def conda_source(meta: dict[str, object]) -> str:
    """A conda package's channel: its name for anaconda.org channels, else its URL."""
    channel = str(meta.get("channel") or meta.get("url") or "")
    parsed = urlparse(channel)
    if parsed.netloc in ("conda.anaconda.org", "repo.anaconda.com"):
        parts = [p for p in parsed.path.split("/") if p]
        return parts[0] if parts else channel
    return channel.rstrip("/")


def requested_specs(resolved: ResolvedProfile) -> dict[tuple[str, str], str]:
    """(manager, normalized name) -> the profile's spec that asks for it."""
    from provisioner.profile.extends import package_name

    env = resolved.profile.environment
    out: dict[tuple[str, str], str] = {}
    for kind, specs in (("conda", env.conda), ("pip", env.pip)):
        for spec in specs:
            name = package_name(spec, kind)
            if name:
                out[(kind, name)] = spec
    if env.manager.value == "conda":
        out[("conda", "python")] = f"python {env.python} (environment.python)"
    return out


def installed_packages(
    resolved: ResolvedProfile,
    prefix: Path,
    python: Path,
    locked_urls: dict[tuple[str, str], str] | None = None,
) -> list[Listed]:
    """The packages installed at ``prefix`` (``python``: its interpreter), sorted by name.
    ``locked_urls`` ((manager, name) -> the lock's URL, from apply's state) names where a
    package came from; the prefix's own record is the fallback (for pip it may be
    provision's artifact store, where the wheel was checked before installing)."""
    locked_urls = locked_urls or {}
    from provisioner.env.conda import read_conda_meta
    from provisioner.env.pip_part import VENV_SEEDS, installed_distributions

    asked = requested_specs(resolved)
    manager = resolved.profile.environment.manager.value
    out: list[Listed] = []
    conda = read_conda_meta(prefix) if manager == "conda" else {}
    for name, meta in conda.items():
        spec = asked.get(("conda", name.lower()), "")
        out.append(Listed(name, str(meta.get("version", "")), "conda", conda_source(meta), spec))
    conda_names = {canonicalize_name(n) for n in conda}
    for name, dist in installed_distributions(python, check_files=False).items():
        if name in conda_names or (manager == "venv" and name in VENV_SEEDS and not dist.url):
            continue  # conda's own record of it; the venv's seed pip
        spec = asked.get(("pip", name), "")
        url = locked_urls.get(("pip", name)) or dist.url
        out.append(Listed(name, dist.version, "pip", pip_source(url), spec))
    return sorted(out, key=lambda p: (p.name.lower(), p.manager))
