"""Compatibility checks that read the generated release data and NVIDIA's tables
(:mod:`provisioner.compatdata`): the Pythons each pinned release publishes wheels for,
the NVIDIA driver torch's CUDA build needs, and NumPy 2 with a NumPy 1.x build."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from provisioner.compatdata import nvidia, releases
from provisioner.compatdata.numpy_abi import admits_numpy1, numpy1_builds
from provisioner.compatdata.torch_build import torch_build
from provisioner.profile.compat_fields import LISTS, Check, Failure, find, get, loc, packages
from provisioner.versions import at_least


def _minor(python: object) -> str:
    return ".".join(str(python).split(".")[:2])


def _fits(python: str, release: releases.Release) -> bool:
    """Whether pip finds something to install for ``python``: a wheel tagged for it, or an
    sdist to build."""
    return _minor(python) in release.pythons or release.sdist


def _published_python(data: Mapping[str, Any], args: Mapping[str, Any]) -> list[Failure]:
    """The first pip entry none of whose allowed releases publishes for environment.python."""
    python = get(data, "environment.python")
    if python is None:
        return []
    framework = get(data, "smoke_test.framework")
    wanted = "torch" if framework == "pytorch" else framework
    entries = sorted(packages(data, args.get("list", "pip")), key=lambda e: e[2] != wanted)
    for _i, spec, name in entries:  # the smoke test's framework first: its error is the one
        allowed = releases.allowed(spec)
        if not allowed or any(_fits(python, r) for r in allowed):
            continue
        pythons = sorted({p for r in allowed for p in r.pythons}, key=lambda v: int(v[2:]))
        if not pythons:
            continue
        label = f"{name} {allowed[0].version}" if len(allowed) == 1 else f'"{spec}"'
        fields = {"value": python, "package": label, "min": pythons[0], "max": pythons[-1]}
        return [Failure(("environment", "python"), fields)]
    return []


def _index_urls(data: Mapping[str, Any]) -> list[str]:
    first = get(data, "environment.index_url")
    return ([first] if first else []) + list(get(data, "environment.extra_index_urls") or [])


def _cuda_driver_floor(data: Mapping[str, Any], args: Mapping[str, Any]) -> list[Failure]:
    """torch's CUDA build (from its Requires-Dist) needs a driver the floor may not undercut."""
    floor = get(data, args["field"])
    found = find(data, "pip", args["package"])
    if floor is None or found is None:
        return []
    build = torch_build(found[1], _index_urls(data))
    if build is None or build.cuda is None:
        return []
    platform = "linux" if get(data, "target.os") == "linux" else "windows"
    need = nvidia.driver_floor(build.cuda, platform)
    if need is None or at_least(floor, need.driver):
        return []
    version = build.version + (
        f' (the newest "{build.newest_of}" allows)' if build.newest_of else ""
    )
    fields = {
        "value": floor,
        "version": version,
        "cuda": build.cuda,
        "expected": need.driver,
        "platform": "Linux" if platform == "linux" else "Windows",
    }
    return [Failure(loc(args["field"]), fields)]


def _numpy_abi(data: Mapping[str, Any], args: Mapping[str, Any]) -> list[Failure]:
    """A numpy entry that excludes every 1.x release, next to a build that needs NumPy 1.x."""
    builds = numpy1_builds(spec for _i, spec, _n in packages(data, "pip"))
    if not builds:
        return []
    first = builds[0]
    out = []
    for kind in LISTS:
        for i, spec, name in packages(data, kind):
            if name == "numpy" and admits_numpy1(spec, kind) is False:
                fields = {
                    "entry": spec,
                    "package": first.package,
                    "version": first.version,
                    "why": first.why,
                }
                out.append(Failure(("environment", kind, i), fields))
    return out


CHECKS: dict[str, Check] = {
    "published_python": _published_python,
    "cuda_driver_floor": _cuda_driver_floor,
    "numpy_abi": _numpy_abi,
}
