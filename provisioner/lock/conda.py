"""Solve the conda part of a profile with py-rattler, for the profile's platform.

Channels come from ``environment.channels``: a name (``conda-forge``), a URL, a
``file://`` URL, or a local path relative to the profile file. Specs are
``environment.conda``, plus ``python <X.Y>.*`` when the environment needs a
Python from conda: when the pip part is non-empty (pip runs with the prefix's
own interpreter), or when the channels provide ``python`` at all. A channel
without Python (the tests' local channels) can still lock a conda-only profile.

Virtual packages follow the PROFILE, never the machine doing the locking, so a
Linux laptop can lock a Windows profile: see :func:`virtual_packages`.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from provisioner.compatdata.numpy_abi import lock_constraints
from provisioner.errors import ExternalFailure, ProvisionError
from provisioner.lock import LockedPackage, Preferences
from provisioner.profile import GpuApi, ResolvedProfile, TargetOS
from provisioner.versions import at_least

if TYPE_CHECKING:
    import rattler

# Assumed floors for Linux targets: Ubuntu 20.04 (glibc 2.31) and the kernel WSL 2
# ships with (5.10). Overridable the conda way: CONDA_OVERRIDE_GLIBC / _LINUX / _CUDA.
DEFAULT_GLIBC = "2.31"
DEFAULT_LINUX = "5.10"
DEFAULT_CUDA = "12.0"
# NVIDIA driver floor -> highest CUDA it runs (CUDA toolkit release notes, table 3).
# R580 is the first branch for CUDA 13.x: https://docs.nvidia.com/datacenter/tesla/drivers/
# supported-drivers-and-cuda-toolkit-versions.html (Table 2: R580, CUDA 13.0+), the same
# floor as data/nvidia.yaml's driver_floors row for CUDA 13.
CUDA_FOR_DRIVER: tuple[tuple[str, str], ...] = (
    ("580", "13.0"),
    ("525.60", "12.0"),
    ("520.61", "11.8"),
    ("515.43", "11.7"),
    ("510.39", "11.6"),
    ("495.29", "11.5"),
    ("470.42", "11.4"),
    ("465.19", "11.3"),
    ("460.27", "11.2"),
    ("455.23", "11.1"),
    ("450.36", "11.0"),
)
SOLVE_TIMEOUT_S = 300


def channel_urls(resolved: ResolvedProfile) -> tuple[str, ...]:
    """The profile's channels as rattler understands them: names and URLs as written,
    local paths (relative to the profile file) as absolute ``file://`` URLs."""
    base = resolved.path.resolve().parent
    out: list[str] = []
    for channel in resolved.profile.environment.channels:
        scheme = urlparse(channel).scheme
        if scheme in {"http", "https", "file", "s3", "oci"}:
            out.append(channel.rstrip("/"))
        elif channel.startswith((".", "/", "~")) or (os.sep in channel and Path(channel).exists()):
            out.append((base / Path(channel).expanduser()).resolve().as_uri())
        elif (base / channel).is_dir() and (base / channel / "noarch").is_dir():
            out.append((base / channel).resolve().as_uri())
        else:
            out.append(channel)  # a channel name: conda-forge, bioconda, pytorch
    return tuple(out)


def cuda_version(resolved: ResolvedProfile) -> str:
    """The ``__cuda`` version a CUDA profile implies: from its NVIDIA driver floor."""
    if os.environ.get("CONDA_OVERRIDE_CUDA"):
        return os.environ["CONDA_OVERRIDE_CUDA"]
    floor = resolved.profile.requires.gpu.vendors.nvidia
    if not floor:
        return DEFAULT_CUDA
    for driver, cuda in CUDA_FOR_DRIVER:
        if at_least(floor, driver):
            return cuda
    return CUDA_FOR_DRIVER[-1][1]


def virtual_package_specs(
    resolved: ResolvedProfile, platform: str
) -> tuple[tuple[str, str, str], ...]:
    """``(name, version, build)`` of the virtual packages the target provides.

    linux-64: ``__unix``, ``__linux`` (the WSL kernel floor for wsl2), ``__glibc``,
    ``__archspec``; win-64: ``__win``, ``__archspec``; CUDA profiles add ``__cuda``.
    """
    arch = resolved.profile.target.arch
    archspec = "x86_64" if arch == "x86_64" else "aarch64"
    out: list[tuple[str, str, str]] = []
    if platform.startswith("win"):
        out.append(("__win", "0", "0"))
    else:
        wsl = resolved.profile.requires.wsl
        kernel = DEFAULT_LINUX
        if resolved.profile.target.os is TargetOS.wsl2 and wsl is not None:
            kernel = ".".join(wsl.min_kernel.split(".")[:3])
        out += [
            ("__unix", "0", "0"),
            ("__linux", os.environ.get("CONDA_OVERRIDE_LINUX") or kernel, "0"),
            ("__glibc", os.environ.get("CONDA_OVERRIDE_GLIBC") or DEFAULT_GLIBC, "0"),
        ]
    out.append(("__archspec", "1", archspec))
    if resolved.profile.requires.gpu.api is GpuApi.cuda:
        out.append(("__cuda", cuda_version(resolved), "0"))
    return tuple(out)


def virtual_packages(
    resolved: ResolvedProfile, platform: str
) -> list[rattler.GenericVirtualPackage]:
    import rattler

    return [
        rattler.GenericVirtualPackage(
            rattler.PackageName(name), rattler.Version(version), rattler.BuildString(build)
        )
        for name, version, build in virtual_package_specs(resolved, platform)
    ]


def gateway() -> rattler.Gateway:
    """A repodata gateway using ``$RATTLER_CACHE_DIR`` (or rattler's default cache)."""
    import rattler

    cache = os.environ.get("RATTLER_CACHE_DIR")
    return rattler.Gateway(cache_dir=Path(cache) if cache else None)


def conda_specs(resolved: ResolvedProfile, python_available: bool) -> list[str]:
    """The match specs to solve: ``environment.conda``, plus Python when it is needed."""
    env = resolved.profile.environment
    specs = list(env.conda)
    named = {re.split(r"[\s=<>!~\[]", s.strip(), maxsplit=1)[0].lower() for s in specs}
    if "python" not in named and (env.pip or python_available):
        specs.insert(0, f"python {env.python}.*")
    return specs


def solve_conda(
    resolved: ResolvedProfile, platform: str, prefer: Preferences | None = None
) -> tuple[LockedPackage, ...]:
    """Solve ``environment.conda`` (+ Python) for ``platform``; one LockedPackage per
    record. ``prefer``'s kept packages are rattler's locked packages (preferred versions)."""
    channels = channel_urls(resolved)
    kept = prefer.kept(platform, "conda") if prefer else ()
    with proxy_environment(resolved.profile.environment.proxy):
        import asyncio  # the solve only: a no-op apply reads this module's virtual packages

        return asyncio.run(_solve(resolved, platform, channels, kept))


@contextlib.contextmanager
def proxy_environment(proxy: str | None) -> Iterator[None]:
    """``environment.proxy`` as HTTPS_PROXY/HTTP_PROXY while rattler builds its HTTP client
    (it reads the standard variables), restored afterwards."""
    if not proxy:
        yield
        return
    saved = {k: os.environ.get(k) for k in ("HTTPS_PROXY", "HTTP_PROXY")}
    os.environ.update(HTTPS_PROXY=proxy, HTTP_PROXY=proxy)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


async def _preferred(
    gw: rattler.Gateway,
    channels: Sequence[str],
    platforms: Sequence[rattler.Subdir],
    kept: Sequence[LockedPackage],
) -> list[rattler.RepoDataRecord]:
    """The channels' own records of the kept packages (same name, version and build)."""
    if not kept:
        return []
    wanted = {(p.name, p.version, p.build) for p in kept}
    found = await gw.query(list(channels), list(platforms), sorted({p.name for p in kept}))
    return [
        r
        for records in found
        for r in records
        if (r.name.normalized, str(r.version), str(r.build)) in wanted
    ]


async def _solve(
    resolved: ResolvedProfile,
    platform: str,
    channels: Sequence[str],
    kept: Sequence[LockedPackage] = (),
) -> tuple[LockedPackage, ...]:
    import rattler
    from rattler.exceptions import (
        FetchRepoDataError,
        GatewayError,
        InvalidMatchSpecError,
        SolverError,
    )

    gw = gateway()
    platforms = [rattler.Subdir(platform), rattler.Subdir("noarch")]
    try:
        found = await gw.query(list(channels), platforms, ["python"], recursive=False)
        python_available = any(len(records) for records in found)
        specs = conda_specs(resolved, python_available)
        if not specs:
            return ()
        preferred = await _preferred(gw, channels, platforms, kept)
        records = await rattler.solve(
            list(channels),
            specs,
            locked_packages=preferred or None,
            constraints=[
                _conda_constraint(c) for c in lock_constraints(resolved.profile.environment.pip)
            ]
            or None,
            gateway=gw,
            platforms=platforms,
            virtual_packages=virtual_packages(resolved, platform),
            timeout=datetime.timedelta(seconds=SOLVE_TIMEOUT_S),
        )
    except (FetchRepoDataError, GatewayError) as e:
        raise ExternalFailure(
            f"cannot read conda channel(s) {', '.join(channels)} for {platform}: {_first_line(e)}",
            hint="check the channel URL or path in environment.channels, the network or "
            "environment.proxy; offline, a channel needs a cached copy from an earlier lock",
        ) from e
    except InvalidMatchSpecError as e:
        raise ProvisionError(
            f"environment.conda: invalid match spec: {_first_line(e)}",
            hint='write specs like "numpy>=1.19,<1.20" or "python 3.10.*"',
        ) from e
    except SolverError as e:
        raise ExternalFailure(
            f"conda solve for {platform} failed: {_condense(str(e))}",
            hint="relax or fix the pins in environment.conda/environment.python, or add the "
            "channel that has the package",
        ) from e
    return tuple(sorted((_locked(r, platform) for r in records), key=lambda p: p.name))


def _conda_constraint(pip_style: str) -> str:
    """``numpy<2`` as a conda match spec (``numpy <2``): constrains, never adds, a package."""
    name = re.split(r"[<>=!~ ]", pip_style, maxsplit=1)[0]
    return f"{name} {pip_style[len(name) :].strip()}"


def _locked(record: rattler.RepoDataRecord, platform: str) -> LockedPackage:
    return LockedPackage(
        manager="conda",
        name=record.name.normalized,
        version=str(record.version),
        platform=platform,
        url=record.url,
        sha256=record.sha256.hex() if record.sha256 else None,
        build=str(record.build),
        md5=record.md5.hex() if record.md5 else None,
        subdir=str(record.subdir),
        dependencies=normalize_depends(record.depends),
    )


def normalize_depends(depends: Sequence[str]) -> tuple[str, ...]:
    """``name spec`` strings as conda-lock stores them (a name -> spec map), so a lock
    read back from its file compares equal to the one that was solved."""
    out: dict[str, str] = {}
    for dep in depends:
        name, _, spec = dep.strip().partition(" ")
        out[name] = spec.strip()
    return tuple(f"{n} {s}".strip() for n, s in sorted(out.items()))


def _first_line(e: BaseException) -> str:
    lines = [line.strip() for line in str(e).splitlines() if line.strip()]
    return lines[0] if lines else type(e).__name__


def _condense(message: str) -> str:
    """The solver's explanation on one line: its bullet lines joined, boxes removed."""
    lines = [re.sub(r"^[\s│├└─]+", "", line).strip() for line in message.splitlines()]
    text = "; ".join(line for line in lines if line and not line.startswith("Cannot solve"))
    return text[:600] or message.strip()[:600]
