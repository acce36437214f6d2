"""The host facts as the rules see them: flat string or list values keyed by fact name.

Every rule reads facts through this view, and check.sh/check.ps1 compute the same
keys in their own language, so the three judges agree on what they were given.
"""

from __future__ import annotations

from dataclasses import dataclass

from provisioner.host.facts import HostFacts, NvidiaSmi, Unknown, nvidia_driver_model


@dataclass(frozen=True)
class Observed:
    """An observed value ("" or () when observed absent) and a note: why it is absent, or
    for lists judged as a whole (adapters, driver files) the evidence it came from."""

    value: str | tuple[str, ...]
    note: str = ""


Fact = Observed | Unknown


def _flag(v: bool | Unknown) -> Fact:
    return v if isinstance(v, Unknown) else Observed("true" if v else "false")


def _text(v: str | int | Unknown) -> Fact:
    return v if isinstance(v, Unknown) else Observed(str(v))


def _smi(v: NvidiaSmi | Unknown | None) -> Fact:
    if isinstance(v, Unknown):
        return v
    if v is None:
        return Observed("", "not found on PATH")
    if v.report is None:
        return Observed("", f"failed: {v.failure}")
    return Observed(v.report.driver)


def observe(facts: HostFacts) -> dict[str, Fact]:
    """Fact name -> value, for every fact a check rule may name."""
    package = facts.wsl_package
    adapters = facts.adapters
    packages = facts.linux_nvidia_packages
    return {
        "os.kind": _text(facts.os_kind),
        "kernel": _text(facts.kernel),
        "windows.build": _text(facts.windows_build),
        "windows.server": _flag(facts.windows_server),
        "wsl.package": (
            package
            if isinstance(package, Unknown)
            else Observed(package or "", "" if package else "inbox wsl.exe (no `wsl --version`)")
        ),
        "wsl.interop": _text(facts.interop),
        "wsl.conf.gpu": Observed(facts.wsl_gpu_setting, "unset"),
        "dxg": Observed("true" if facts.dxg else "false"),
        "wsl.libs": Observed(facts.wsl_libs),
        "linux.nvidia-packages": (
            packages
            if isinstance(packages, Unknown)
            else Observed(packages, ", ".join(facts.linux_driver_sources))
        ),
        "nvidia.smi": _smi(facts.nvidia_smi),
        "nvidia.driver-model": _text(nvidia_driver_model(facts)),
        "gpu.adapters": (
            adapters
            if isinstance(adapters, Unknown)
            else Observed(
                tuple(f"{a.vendor}|{a.driver}|{a.name}" for a in adapters), facts.adapters_source
            )
        ),
        "python.versions": Observed(tuple(p.version for p in facts.pythons)),
        "gpu.compute": _compute(facts),
    }


def _compute(facts: HostFacts) -> Fact:
    """``capability|name`` per NVIDIA GPU (``?|name`` when neither nvidia-smi nor NVIDIA's
    table knows it), noting where the capability came from."""
    found = facts.gpu_compute
    if isinstance(found, Unknown):
        return found
    if found is None:
        return Observed((), "nvidia-smi lists no GPU")
    return Observed(
        tuple(f"{g.capability or '?'}|{g.name}" for g in found), facts.gpu_compute_source
    )
