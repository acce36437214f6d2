"""Plan the checks for one profile: which apply, and their parameters as literals.

Planning reads only the profile, never the host, so ``provision render`` can bake the
plan into check.sh and check.ps1 and ``provision doctor`` judges the same plan.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from provisioner.checks.records import CheckRecord, load_checks
from provisioner.profile import ResolvedProfile
from provisioner.profile.model import Profile

VENDORS = ("amd", "intel", "nvidia")
# The user-mode libraries each GPU API needs in /usr/lib/wsl/lib (DOMAIN.md §2).
WSL_LIBS = {
    "directml": ("libd3d12.so", "libdxcore.so"),
    "cuda": ("libcuda.so.1", "libdxcore.so"),
}


@dataclass(frozen=True)
class PlannedCheck:
    """A record bound to a profile: applicable or not (and why), with literal parameters."""

    record: CheckRecord
    applicable: bool
    skip_reason: str
    params: dict[str, Any]

    @property
    def id(self) -> str:
        return self.record.id


def _dig(profile: Profile, dotted: str) -> Any:
    value: Any = profile
    for part in dotted.split("."):
        value = getattr(value, part, None)
        if value is None:
            return None
    return getattr(value, "value", value)


def _gpu_vendors(profile: Profile) -> tuple[str, ...]:
    floors = profile.requires.gpu.vendors
    named = tuple(v for v in VENDORS if getattr(floors, v) is not None)
    if profile.requires.gpu.api.value == "cuda":
        return ("nvidia",)
    return named or VENDORS


def _gpu_floors(profile: Profile) -> dict[str, str]:
    floors = profile.requires.gpu.vendors
    return {v: getattr(floors, v) or "0" for v in _gpu_vendors(profile)}


def _param(profile: Profile, value: Any) -> Any:
    if not (isinstance(value, dict) and set(value) == {"profile"}):
        return value
    source = value["profile"]
    if source == "gpu.vendors":
        return list(_gpu_vendors(profile))
    if source == "gpu.floors":
        return _gpu_floors(profile)
    if source == "gpu.wsl_libs":
        return list(WSL_LIBS.get(profile.requires.gpu.api.value, ()))
    if source == "torch.kernels":
        return _torch_kernels(profile)
    found = _dig(profile, source)
    return None if found is None else str(found)


def _torch_kernels(profile: Profile) -> dict[str, Any] | None:
    """The GPU code the profile's torch build carries (None: no CUDA build of torch)."""
    from provisioner.compatdata import nvidia
    from provisioner.compatdata.torch_build import torch_build
    from provisioner.profile.extends import package_name

    env = profile.environment
    spec = next((s for s in env.pip if package_name(s, "pip") == "torch"), None)
    indexes = [*([env.index_url] if env.index_url else []), *env.extra_index_urls]
    indexes += [u for n, u in env.package_indexes.items() if n == "torch"]
    build = torch_build(spec, indexes) if spec else None
    if build is None or build.cuda is None:
        return None
    kernels = nvidia.torch_kernels(build.version, build.cuda)
    if kernels is None:
        return None
    return {
        "build": f"torch {build.version} (CUDA {build.cuda})",
        "sm": list(kernels.sm),
        "ptx": list(kernels.ptx),
        "exact": kernels.exact,
    }


def _applies(rec: CheckRecord, profile: Profile) -> str:
    """Why ``rec`` does not apply to ``profile``, or "" when it does."""
    a = rec.applies
    target, api = profile.target.os.value, profile.requires.gpu.api.value
    manager = profile.environment.manager.value
    if a.targets and target not in a.targets:
        return f"not for target {target}"
    if a.apis and api not in a.apis:
        return f"not for GPU api {api}"
    if a.managers and manager not in a.managers:
        return f"not for environment manager {manager}"
    for section in a.profile_sets:
        if _dig(profile, section) is None:
            return f"the profile sets no {section}"
    return ""


def plan_checks(resolved: ResolvedProfile) -> list[PlannedCheck]:
    """Every check record bound to this profile, in report order."""
    profile = resolved.profile
    planned: list[PlannedCheck] = []
    for rec in load_checks():
        why = _applies(rec, profile)
        params = {k: _param(profile, v) for k, v in rec.rule.params} if not why else {}
        if rec.rule.kind == "kernels_for" and params.get("kernels") is None:
            why, params = "the profile installs no CUDA build of torch", {}
        target = profile.target.os.value
        planned.append(PlannedCheck(rec.for_target(target), not why, why, params))
    return planned
