"""``HostFacts``: everything provisioner knows about a host, gathered through one probe.

A fact that cannot be known is :class:`Unknown` with the reason ("interop is
disabled", "timed out"), never a guess.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from provisioner.host import parse_linux, parse_wsl, patterns
from provisioner.host.interpreters import Interpreter, conda_tools, find_interpreters
from provisioner.host.linux_driver import gather_linux_driver
from provisioner.host.probe import Probe
from provisioner.platforms import is_windows
from provisioner.process import Completed

if TYPE_CHECKING:  # imported where used: a Linux host without nvidia-smi needs neither
    from provisioner.host import parse_nvidia
    from provisioner.host.parse_windows import Adapter

WSL_KINDS = ("wsl1", "wsl2")

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
    interop: str | Unknown  # patterns.INTEROP_*: "enabled", or why not
    dxg: bool
    wsl_libs: tuple[str, ...]
    wsl_conf: dict[str, dict[str, str]]
    linux_nvidia_packages: tuple[str, ...] | Unknown  # packages and driver files found
    nvidia_smi: NvidiaSmi | Unknown | None  # None: not on PATH nor in /usr/lib/wsl/lib
    adapters: tuple[Adapter, ...] | Unknown
    pythons: tuple[Interpreter, ...]
    conda_tools: dict[str, str] = field(default_factory=dict)
    linux_driver_sources: tuple[str, ...] = ()  # what linux_nvidia_packages was read from
    adapters_source: str = ""  # "" (Windows' video controllers) or "nvidia-smi"
    # Each NVIDIA GPU's compute capability: nvidia-smi's answer, else from its name.
    gpu_compute: tuple[parse_nvidia.GpuCompute, ...] | Unknown | None = None
    gpu_compute_source: str = ""

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


@dataclass(frozen=True)
class WindowsTools:
    """Where the Windows executables were found: a PATH name or a host path, or None."""

    os_kind: str | Unknown
    automount: str  # [automount] root of /etc/wsl.conf, default /mnt/
    found: dict[str, str | None]

    def missing(self, name: str) -> Unknown:
        if self.os_kind not in WSL_KINDS:
            return Unknown(f"{name} not found on PATH")
        where = self.automount + patterns.WINDOWS_EXES[name][0].rsplit("/", 1)[0]
        return Unknown(patterns.REASON_EXE_MISSING.format(name=name, where=where))

    def run(self, probe: Probe, name: str, *args: str) -> Completed | Unknown:
        exe = self.found.get(name)
        if exe is None:
            return self.missing(name)
        out = probe.host_command(exe, *args) if exe.startswith("/") else probe.command(exe, *args)
        if out is None:
            return self.missing(name)
        if out.timed_out:
            return Unknown(f"{name} timed out")
        return out


def automount_root(raw_conf: dict[str, dict[str, str]]) -> str:
    """``[automount] root`` of /etc/wsl.conf as ``/x/``; WSL's default is ``/mnt/``."""
    root = raw_conf.get("automount", {}).get("root", "").strip()
    if not root.startswith("/"):
        return patterns.DEFAULT_AUTOMOUNT_ROOT
    return root.rstrip("/") + "/"


def find_windows_tools(probe: Probe, os_kind: str | Unknown, automount: str) -> WindowsTools:
    """cmd.exe, powershell.exe, wsl.exe: on PATH first, then (inside WSL) where Windows
    keeps them under the automount root, which appendWindowsPath=false leaves off PATH."""
    found: dict[str, str | None] = {}
    for name, rels in patterns.WINDOWS_EXES.items():
        hit = next((n for n in (name, name.removesuffix(".exe")) if probe.which(n)), None)
        if hit is None and os_kind in WSL_KINDS:
            hit = next((automount + r for r in rels if probe.executable(automount + r)), None)
        found[name] = hit
    return WindowsTools(os_kind, automount, found)


def _os_kind(probe: Probe) -> tuple[str | Unknown, str | Unknown]:
    if is_windows(probe.platform):
        return "windows", Unknown("native Windows has no Linux kernel")
    text = probe.read("/proc/version")
    if text is None:
        why = Unknown(patterns.REASON_PROC_UNREADABLE)
        return why, why
    kernel = parse_linux.kernel_from_proc_version(text)
    marks = patterns.WSL_MARK_ENV in probe.env or any(
        probe.exists(p) for p in patterns.WSL_MARK_PATHS
    )
    return parse_linux.os_kind_from_proc_version(text, marks), kernel or Unknown(
        patterns.REASON_NO_KERNEL_NUMBER
    )


def _interop(
    probe: Probe, os_kind: str | Unknown, wsl_conf: dict[str, dict[str, str]]
) -> str | Unknown:
    """Interop as the WSLInterop binfmt entry says (its first line: enabled/disabled).

    Without the entry, interop is off: by wsl.conf, or because systemd-binfmt cleared
    the registration (microsoft/WSL#8843), which wsl.conf cannot fix."""
    if os_kind == "windows":
        return patterns.INTEROP_ENABLED
    if os_kind not in WSL_KINDS:
        return Unknown(patterns.REASON_NOT_WSL)
    for rel in patterns.INTEROP_FILES:
        text = probe.read(rel)
        if text is not None:
            first = (text.strip().splitlines() or [""])[0].strip()
            return patterns.INTEROP_ENABLED if first == "enabled" else patterns.INTEROP_DISABLED
    if wsl_conf.get("interop", {}).get("enabled") == "false":
        return patterns.INTEROP_OFF_IN_CONF
    return patterns.INTEROP_UNREGISTERED


def _windows_side(probe: Probe, os_kind: str | Unknown, interop: str | Unknown) -> Unknown | None:
    """Why Windows commands cannot be asked on this host, or None if they can."""
    if isinstance(os_kind, Unknown):
        return os_kind
    if os_kind not in ("wsl1", "wsl2", "windows"):
        return Unknown(patterns.REASON_NOT_WINDOWS)
    if interop != patterns.INTEROP_ENABLED:
        return Unknown(patterns.REASON_INTEROP_OFF)
    return None


def gather(probe: Probe) -> HostFacts:
    """Observe the host through ``probe`` and return frozen facts."""
    os_kind, kernel = _os_kind(probe)
    conf_text = (probe.read("/etc/wsl.conf") if os_kind != "windows" else None) or ""
    wsl_conf = parse_linux.parse_ini(conf_text)
    interop = _interop(probe, os_kind, wsl_conf)
    blocked = _windows_side(probe, os_kind, interop)
    tools = find_windows_tools(
        probe, os_kind, automount_root(parse_linux.parse_ini(conf_text, lower_values=False))
    )

    build: int | Unknown = blocked or tools.missing("cmd.exe")
    ubr: int | Unknown = build
    no_ps = blocked or tools.missing("powershell.exe")
    edition: str | Unknown = no_ps
    server: bool | Unknown = no_ps
    adapters: tuple[Adapter, ...] | Unknown = no_ps
    wsl_package: str | Unknown | None = blocked or tools.missing("wsl.exe")
    status_kernel: str | Unknown = blocked or tools.missing("wsl.exe")
    if blocked is None:
        build, ubr = _windows_build(probe, tools)
        edition, server, adapters = _inventory(probe, tools)
        if os_kind == "windows":  # as check.ps1: wsl.exe is not asked on native Windows
            wsl_package = status_kernel = Unknown(patterns.REASON_WSL_NOT_PROBED)
        else:
            wsl_package, status_kernel = _wsl(probe, tools)

    packages: tuple[str, ...] | Unknown = Unknown("native Windows has no Linux driver")
    sources: tuple[str, ...] = ()
    if os_kind != "windows":
        evidence = gather_linux_driver(probe)
        packages, sources = evidence.found, evidence.sources
    smi = _nvidia_smi(probe)
    adapters_source = ""
    if os_kind == "linux":
        adapters, adapters_source = _adapters_from_smi(smi), "nvidia-smi"
    elif os_kind in WSL_KINDS and isinstance(adapters, Unknown):
        # nvidia-smi inside WSL reports the GPU and its *Windows* driver: enough to settle
        # gpu.adapter and gpu.driver for an NVIDIA GPU when PowerShell cannot be asked.
        from_smi = _adapters_from_smi(smi)
        if isinstance(from_smi, tuple) and from_smi:
            adapters, adapters_source = from_smi, "nvidia-smi"
    libs = probe.listdir("/usr/lib/wsl/lib") or []
    compute, compute_source = _gpu_compute(probe, smi)
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
        linux_driver_sources=sources,
        adapters_source=adapters_source,
        gpu_compute=compute,
        gpu_compute_source=compute_source,
    )


def _windows_build(probe: Probe, tools: WindowsTools) -> tuple[int | Unknown, int | Unknown]:
    from provisioner.host import parse_windows

    out = tools.run(probe, "cmd.exe", "/c", "ver")
    if isinstance(out, Unknown):
        return out, out
    parsed = parse_windows.windows_version(out.stdout.decode("utf-8", "replace"))
    if parsed is None:
        why = Unknown("`cmd /c ver` printed no [x.y.build] version")
        return why, why
    return parsed


def _inventory(
    probe: Probe, tools: WindowsTools
) -> tuple[str | Unknown, bool | Unknown, tuple[Adapter, ...] | Unknown]:
    from provisioner.host import parse_windows

    out = tools.run(probe, "powershell.exe", *parse_windows.POWERSHELL_ARGS)
    if isinstance(out, Unknown):
        return out, out, out
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


def _wsl(probe: Probe, tools: WindowsTools) -> tuple[str | Unknown | None, str | Unknown]:
    out = tools.run(probe, "wsl.exe", "--version")
    if isinstance(out, Unknown):
        return out, out
    text = parse_wsl.decode_wsl_output(out.stdout)
    version = parse_wsl.package_version(text) if out.returncode == 0 else None
    if version is not None:
        kernel = parse_wsl.kernel_from_version_table(text)
        return version, kernel or Unknown("no kernel row in `wsl --version`")
    # The inbox wsl.exe rejects --version: ask --status, and trust /proc/version anyway.
    status = tools.run(probe, "wsl.exe", "--status")
    if isinstance(status, Unknown):
        return None, Unknown("wsl.exe --status timed out")
    found = parse_wsl.kernel_from_status(parse_wsl.decode_wsl_output(status.stdout))
    return None, found or Unknown("no kernel version in `wsl --status`")


def _nvidia_smi(probe: Probe) -> NvidiaSmi | Unknown | None:
    """The nvidia-smi on PATH, else the WSL driver's in /usr/lib/wsl/lib (not on a root
    shell's PATH): its report, or the message it failed with."""
    where = probe.which("nvidia-smi")
    out = probe.command("nvidia-smi")
    if out is None or where is None:
        where = next((p for p in patterns.NVIDIA_SMI_PATHS if probe.executable(p)), None)
        out = probe.host_command(where) if where is not None else None
    if out is None or where is None:
        return None
    if out.timed_out:
        return Unknown("nvidia-smi timed out")
    from provisioner.host import parse_nvidia

    text = (out.stdout + b"\n" + out.stderr).decode("utf-8", "replace")
    if parse_nvidia.cuda_error(text):
        return NvidiaSmi(where, None, patterns.SMI_CUDA_ERROR_FAILURE)
    report = parse_nvidia.parse_smi(text) if out.returncode == 0 else None
    failure = None if report else parse_nvidia.failure_message(text)
    return NvidiaSmi(where, report, failure)


def _gpu_compute(
    probe: Probe, smi: NvidiaSmi | Unknown | None
) -> tuple[tuple[parse_nvidia.GpuCompute, ...] | Unknown | None, str]:
    """Each GPU nvidia-smi lists, with its compute capability: asked of nvidia-smi
    (``--query-gpu=name,compute_cap``), else read from the GPU's name in NVIDIA's table
    (an older driver cannot answer compute_cap). None without a working nvidia-smi."""
    if not isinstance(smi, NvidiaSmi) or smi.report is None:
        return (smi if isinstance(smi, Unknown) else None), ""
    from provisioner.compatdata.nvidia import capability_of  # NVIDIA's table: with a GPU only
    from provisioner.host import parse_nvidia

    on_path = probe.which("nvidia-smi") == smi.path
    out = (
        probe.command("nvidia-smi", *parse_nvidia.QUERY_COMPUTE)
        if on_path
        else probe.host_command(smi.path, *parse_nvidia.QUERY_COMPUTE)
    )
    if out is not None and out.returncode == 0 and not out.timed_out:
        found = parse_nvidia.parse_query(out.stdout.decode("utf-8", "replace"))
        if found and all(g.capability for g in found):
            return found, "nvidia-smi --query-gpu=name,compute_cap"
    named = tuple(parse_nvidia.GpuCompute(n, capability_of(n)) for n in smi.report.gpus)
    return named, "the GPU's name in https://developer.nvidia.com/cuda-gpus"


def _adapters_from_smi(smi: NvidiaSmi | Unknown | None) -> tuple[Adapter, ...] | Unknown:
    """The GPUs nvidia-smi lists, with its driver: the adapters on native Linux, and
    evidence for an NVIDIA adapter inside WSL (its driver is the Windows driver there)."""
    if isinstance(smi, Unknown):
        return smi
    if smi is None:
        return Unknown("nvidia-smi not found")
    if smi.report is None:
        return Unknown(f"nvidia-smi failed: {smi.failure}")
    from provisioner.host.parse_windows import Adapter

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
