"""``HostFacts``: everything provisioner knows about a host, gathered through one probe.

A fact that cannot be known is :class:`Unknown` with the reason ("interop is
disabled", "timed out"), never a guess.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any, TypeVar

from provisioner.host import parse_linux, parse_nvidia, parse_windows, parse_wsl
from provisioner.host.interpreters import Interpreter, conda_tools, find_interpreters
from provisioner.host.parse_windows import Adapter
from provisioner.host.probe import CommandOutput, Probe

T = TypeVar("T")


@dataclass(frozen=True)
class Unknown:
    """A fact that could not be observed, and why."""

    reason: str

    def __str__(self) -> str:
        return f"unknown ({self.reason})"


@dataclass(frozen=True)
class NvidiaSmi:
    """The nvidia-smi first on PATH: its parsed report, or the message it failed with."""

    path: str
    report: parse_nvidia.SmiReport | None
    failure: str | None


@dataclass(frozen=True)
class HostFacts:
    """The host as observed. Fields typed ``X | Unknown`` may be unknowable here."""

    os_kind: str | Unknown  # linux | wsl1 | wsl2 | windows
    kernel: str | Unknown
    windows_build: int | Unknown
    windows_ubr: int | Unknown
    windows_edition: str | Unknown
    windows_server: bool | Unknown
    wsl_package: str | Unknown | None  # None: the inbox wsl.exe (no Store WSL package)
    wsl_status_kernel: str | Unknown  # what `wsl --status` claims; /proc/version wins
    interop: bool | Unknown
    dxg: bool
    wsl_libs: tuple[str, ...]
    wsl_conf: dict[str, dict[str, str]]
    linux_nvidia_packages: tuple[str, ...] | Unknown
    nvidia_smi: NvidiaSmi | Unknown | None  # None: not on PATH
    adapters: tuple[Adapter, ...] | Unknown
    pythons: tuple[Interpreter, ...]
    conda_tools: dict[str, str] = field(default_factory=dict)

    @property
    def wsl_gpu_setting(self) -> str:
        """``[gpu] enabled`` of /etc/wsl.conf: "true", "false" or "" when unset."""
        return self.wsl_conf.get("gpu", {}).get("enabled", "")

    def as_json(self) -> dict[str, Any]:
        def plain(v: Any) -> Any:
            if isinstance(v, Unknown):
                return {"unknown": v.reason}
            if isinstance(v, dict):
                return {k: plain(x) for k, x in v.items()}
            if isinstance(v, (list, tuple)):
                return [plain(x) for x in v]
            return v

        data = {k: getattr(self, k) for k in self.__dataclass_fields__}
        out: dict[str, Any] = {}
        for k, v in data.items():
            if hasattr(v, "__dataclass_fields__") and not isinstance(v, Unknown):
                out[k] = plain(asdict(v))
            elif isinstance(v, tuple):
                out[k] = [plain(asdict(x)) if hasattr(x, "__dataclass_fields__") else x for x in v]
            else:
                out[k] = plain(v)
        return out


def _first(probe: Probe, *names: str) -> str | None:
    for name in names:
        if probe.which(name):
            return name
    return None


def _failed(out: CommandOutput | None, name: str) -> Unknown | None:
    if out is None:
        return Unknown(f"{name} not found on PATH")
    if out.timed_out:
        return Unknown(f"{name} timed out")
    return None


def _os_kind(probe: Probe) -> tuple[str | Unknown, str | Unknown]:
    if probe.platform == "win32":
        return "windows", Unknown("native Windows has no Linux kernel")
    text = probe.read("/proc/version")
    if text is None:
        return Unknown("/proc/version is not readable"), Unknown("/proc/version is not readable")
    kernel = parse_linux.kernel_from_proc_version(text)
    return parse_linux.os_kind_from_proc_version(text), kernel or Unknown(
        "no version number in /proc/version"
    )


def _interop(
    probe: Probe, os_kind: str | Unknown, wsl_conf: dict[str, dict[str, str]]
) -> bool | Unknown:
    if os_kind == "windows":
        return True
    if os_kind not in ("wsl1", "wsl2"):
        return Unknown("not a WSL host")
    if wsl_conf.get("interop", {}).get("enabled") == "false":
        return False
    # WSL registers WSLInterop (newer releases: WSLInterop-late) with binfmt_misc.
    return probe.exists("/proc/sys/fs/binfmt_misc/WSLInterop") or probe.exists(
        "/proc/sys/fs/binfmt_misc/WSLInterop-late"
    )


def _windows_side(probe: Probe, os_kind: str | Unknown, interop: bool | Unknown) -> Unknown | None:
    """Why Windows commands cannot be asked on this host, or None if they can."""
    if isinstance(os_kind, Unknown):
        return os_kind
    if os_kind not in ("wsl1", "wsl2", "windows"):
        return Unknown("not a Windows or WSL host")
    if interop is False:
        return Unknown("interop is disabled")
    return None


def gather(probe: Probe) -> HostFacts:
    """Observe the host through ``probe`` and return frozen facts."""
    os_kind, kernel = _os_kind(probe)
    conf_text = probe.read("/etc/wsl.conf") if os_kind != "windows" else None
    wsl_conf = parse_linux.parse_ini(conf_text or "")
    interop = _interop(probe, os_kind, wsl_conf)
    blocked = _windows_side(probe, os_kind, interop)

    build: int | Unknown = blocked or Unknown("cmd.exe not found on PATH")
    ubr: int | Unknown = build
    no_ps = blocked or Unknown("powershell.exe not found on PATH")
    edition: str | Unknown = no_ps
    server: bool | Unknown = no_ps
    adapters: tuple[Adapter, ...] | Unknown = no_ps
    wsl_package: str | Unknown | None = blocked or Unknown("wsl.exe not found on PATH")
    status_kernel: str | Unknown = blocked or Unknown("wsl.exe not found on PATH")
    if blocked is None:
        build, ubr = _windows_build(probe)
        edition, server, adapters = _inventory(probe)
        wsl_package, status_kernel = _wsl(probe)

    dpkg = probe.read("/var/lib/dpkg/status") if os_kind != "windows" else None
    packages: tuple[str, ...] | Unknown = (
        tuple(parse_linux.linux_nvidia_driver_packages(dpkg))
        if dpkg is not None
        else Unknown("no dpkg status (not a Debian/Ubuntu distro)")
    )
    smi = _nvidia_smi(probe)
    if os_kind == "linux":
        adapters = _adapters_from_smi(smi)
    libs = probe.listdir("/usr/lib/wsl/lib") or []
    return HostFacts(
        os_kind=os_kind,
        kernel=kernel,
        windows_build=build,
        windows_ubr=ubr,
        windows_edition=edition,
        windows_server=server,
        wsl_package=wsl_package,
        wsl_status_kernel=status_kernel,
        interop=interop,
        dxg=probe.exists("/dev/dxg"),
        wsl_libs=tuple(libs),
        wsl_conf=wsl_conf,
        linux_nvidia_packages=packages,
        nvidia_smi=smi,
        adapters=adapters,
        pythons=tuple(find_interpreters(probe)),
        conda_tools=conda_tools(probe),
    )


def _windows_build(probe: Probe) -> tuple[int | Unknown, int | Unknown]:
    name = _first(probe, "cmd.exe", "cmd")
    out = probe.command(name, "/c", "ver") if name else None
    problem = _failed(out, "cmd.exe")
    if problem or out is None:
        return problem or Unknown("cmd.exe not found"), problem or Unknown("cmd.exe not found")
    parsed = parse_windows.windows_version(out.stdout.decode("utf-8", "replace"))
    if parsed is None:
        why = Unknown("`cmd /c ver` printed no [x.y.build] version")
        return why, why
    return parsed


def _inventory(probe: Probe) -> tuple[str | Unknown, bool | Unknown, tuple[Adapter, ...] | Unknown]:
    name = _first(probe, "powershell.exe", "powershell")
    out = probe.command(name, *parse_windows.POWERSHELL_ARGS) if name else None
    problem = _failed(out, "powershell.exe")
    if problem or out is None:
        why = problem or Unknown("powershell.exe not found")
        return why, why, why
    if out.returncode != 0:
        why = Unknown(f"the adapter query exited {out.returncode}")
        return why, why, why
    inv = parse_windows.parse_inventory(out.stdout.decode("utf-8", "replace"))
    no_os = Unknown("the query printed no os row")
    return (
        inv.caption if inv.caption is not None else no_os,
        inv.server if inv.server is not None else no_os,
        inv.adapters,
    )


def _wsl(probe: Probe) -> tuple[str | Unknown | None, str | Unknown]:
    name = _first(probe, "wsl.exe", "wsl")
    out = probe.command(name, "--version") if name else None
    problem = _failed(out, "wsl.exe")
    if problem or out is None or name is None:
        why = problem or Unknown("wsl.exe not found")
        return why, why
    text = parse_wsl.decode_wsl_output(out.stdout)
    version = parse_wsl.package_version(text) if out.returncode == 0 else None
    if version is not None:
        kernel = parse_wsl.kernel_from_version_table(text)
        return version, kernel or Unknown("no kernel row in `wsl --version`")
    # The inbox wsl.exe rejects --version: ask --status, and trust /proc/version anyway.
    status = probe.command(name, "--status")
    if status is None or status.timed_out:
        return None, Unknown("wsl.exe --status timed out")
    found = parse_wsl.kernel_from_status(parse_wsl.decode_wsl_output(status.stdout))
    return None, found or Unknown("no kernel version in `wsl --status`")


def _nvidia_smi(probe: Probe) -> NvidiaSmi | Unknown | None:
    where = probe.which("nvidia-smi")
    out = probe.command("nvidia-smi")
    if out is None or where is None:
        return None
    if out.timed_out:
        return Unknown("nvidia-smi timed out")
    text = (out.stdout + b"\n" + out.stderr).decode("utf-8", "replace")
    report = parse_nvidia.parse_smi(text) if out.returncode == 0 else None
    failure = None if report else parse_nvidia.failure_message(text)
    return NvidiaSmi(where, report, failure)


def _adapters_from_smi(smi: NvidiaSmi | Unknown | None) -> tuple[Adapter, ...] | Unknown:
    """On native Linux the GPUs nvidia-smi lists are the adapters (with its driver)."""
    if isinstance(smi, Unknown):
        return smi
    if smi is None:
        return Unknown("nvidia-smi not found on PATH")
    if smi.report is None:
        return Unknown(f"nvidia-smi failed: {smi.failure}")
    r = smi.report
    return tuple(Adapter("nvidia", name, r.driver, r.driver) for name in r.gpus)


_WDDM_BY_WSL = re.compile(r"wsl[12]")


def nvidia_driver_model(facts: HostFacts) -> str | Unknown:
    """WDDM or TCC. WSL exposes only WDDM GPUs, so a GPU that nvidia-smi lists there is WDDM."""
    smi = facts.nvidia_smi
    if isinstance(smi, Unknown):
        return smi
    if smi is None or smi.report is None:
        return Unknown("nvidia-smi did not list a GPU")
    if smi.report.driver_model:
        return smi.report.driver_model
    if isinstance(facts.os_kind, str) and _WDDM_BY_WSL.fullmatch(facts.os_kind) and smi.report.gpus:
        return "WDDM"
    return Unknown("nvidia-smi does not show the driver model here")
