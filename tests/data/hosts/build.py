# ruff: noqa: E501  (host descriptions are one line each, on purpose)
"""Assemble the replayed hosts under tests/data/hosts/<name>/ from captured outputs.

Run `python tests/data/hosts/build.py` after changing a spec; the result is committed.
Each host is a `root/` tree (what --root reads) and a `bin/` of stand-in executables
for what cannot exist on a Linux CI machine (cmd.exe, wsl.exe, powershell.exe,
nvidia-smi). Every stand-in prints an output taken from tests/data/fixtures/; where a
value had to be derived (e.g. a /proc/version line from a `wsl --version` kernel row),
`host.yaml` says so under `derived`.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
FIX = HERE.parent / "fixtures"


def fixture(name: str, after: str | None = None, until: str | None = None) -> str:
    """Lines of a fixture, optionally those after a line containing ``after`` and before
    the next line containing ``until`` (to cut prompts out of a transcript)."""
    lines = (FIX / name).read_text("utf-8").splitlines()
    if after is not None:
        lines = lines[next(i for i, ln in enumerate(lines) if after in ln) + 1 :]
    if until is not None:
        lines = lines[: next((i for i, ln in enumerate(lines) if until in ln), len(lines))]
    return "\n".join(lines) + "\n"


# -- captured outputs, cut out of the fixtures ------------------------------------------
VER_22000 = fixture("cmd_ver_win11_22000.778.txt")
VER_22000_832 = fixture("cmd_ver_win11_22000.832.txt")
VER_17763 = fixture("cmd_ver_win10_17763.292.txt")
VER_ZH_18362 = fixture("cmd_ver_zh_18362.207.txt")
VER_19045_3803 = fixture("cmd_ver_win10_19045.3803.txt")
WSL_122 = fixture("wsl_version_en_1.2.2_and_docker_nvidia-smi.txt", "wsl.exe --version", "$ docker")
WSL_215 = fixture("wsl_version_and_l_v_win10_19045_multi_distro.txt", "wsl --version", "wsl --list")
WSL_INBOX = fixture(
    "wsl_version_invalid_option_inbox_wsl_and_status.txt", "wsl --version", "wsl --status"
)
WSL_INBOX_STATUS = fixture("wsl_version_invalid_option_inbox_wsl_and_status.txt", "wsl --status")
WSL_INBOX_ZH = fixture("wsl_invalid_option_zh_inbox_18362.txt")
WSL_STATUS_CUSTOM = fixture("wsl_status_custom_kernel_5.10.102.1.txt")
SMI_555 = fixture("nvidia-smi_wsl_ok_555.99_rtx4070_truncated.txt", "$ nvidia-smi")
SMI_527 = fixture("wsl_version_en_1.2.2_and_docker_nvidia-smi.txt", "nvidia-smi")
SMI_440 = fixture(
    "nvidia-smi_wsl_couldnt_communicate_after_apt_nvidia-driver-440.txt", "$ nvidia-smi"
)
SMI_ERR = fixture("nvidia-smi_wsl_cuda_version_err_546.80.txt", "output:")
# `rpm -qa` NEVRAs cut to names, as `rpm -qa --qf '%{NAME}\n'` prints them.
RPM_CUDA_NAMES = [
    ln.rsplit("-", 2)[0]
    for ln in fixture("rpm_qa_cuda_drivers_465_el7.txt", "rpm -qa").split()
    if ln
]
SMI_NVML = fixture("nvidia-smi_wsl_nvml_blocked_after_nvidia-utils-510.txt", "# nvidia-smi")
PROC_WSL1 = (
    "Linux version "
    + fixture("proc_version_wsl1_4.4.0-20236_issue_env.txt").split("Linux version ", 1)[1]
)
PROC_5_10_16_3 = (
    "Linux version "
    + fixture("proc_version_wsl2_5.10.16.3_nvidia_doc.txt").split("Linux version ", 1)[1]
)
PROC_CUSTOM_5_19 = fixture("proc_version_wsl2_custom_5.19.0.txt")
PROC_THIS_LINUX = fixture("proc_version_linux_this_container.txt")
LD_WSL_CONF = fixture("etc_ld.so.conf.d_ld.wsl.conf.txt", "$ cat")
DPKG_BASE = fixture("dpkg_status_debian_bash_python3.11.txt")


def proc_from_uname(fixture_name: str) -> str:
    """/proc/version rebuilt from a captured `uname -a` (release and build string)."""
    line = next(
        ln for ln in (FIX / fixture_name).read_text().splitlines() if ln.startswith("Linux ")
    )
    parts = line.split()
    release, build = parts[2], " ".join(parts[3:]).rsplit(" x86_64", 1)[0]
    return f"Linux version {release} (derived from a captured `uname -a`) {build}\n"


def proc_wsl2(kernel: str) -> str:
    """/proc/version for a WSL 2 kernel known only from a `wsl --version`/`--status` row."""
    return f"Linux version {kernel}-microsoft-standard-WSL2 (derived from the `wsl --version` kernel row)\n"


def ver_from(windows_version: str) -> str:
    """`cmd /c ver` for a Windows version known from another captured output."""
    return f"Microsoft Windows [Version {windows_version}]\n"


LIBS_20262 = [
    ln.split()[-1].strip("'")
    for ln in (FIX / "ls_usr_lib_wsl_lib_build20262_nvidia.txt").read_text().splitlines()[2:]
    if "(1)" not in ln
]
LIBS_20150 = fixture(
    "wsl2_gpu_pv_ok_uname_lspci_wsllib_4.19.121.txt", "ls /usr/lib/wsl/lib"
).split()


def dxdiag_adapters() -> list[tuple[str, str, str, str]]:
    """(Name, DriverVersion, AdapterCompatibility, PNPDeviceID) rows from the dxdiag capture."""
    rows, card = [], {}
    for line in (
        (FIX / "dxdiag_hybrid_intel_arc_nvidia_rtx3050_laptop.txt").read_text().splitlines()
    ):
        key, _, value = line.partition(": ")
        if key == "Card name":
            card = {"name": value}
        elif key == "Manufacturer":
            card["maker"] = value
        elif key == "Device Key":
            card["pnp"] = value.replace("Enum\\", "")
        elif key == "Driver Version":
            rows.append((card["name"], value, card["maker"], card["pnp"]))
    return rows


def inventory(
    caption: str, product_type: int, build: str, adapters: list[tuple[str, str, str, str]]
) -> str:
    """What our PowerShell query prints (tab-separated rows, see parse_windows.WINDOWS_QUERY)."""
    lines = [f"os\t{caption}\t{product_type}\t{build}"]
    lines += ["gpu\t" + "\t".join(a) for a in adapters]
    return "\r\n".join(lines) + "\r\n"


DXDIAG = dxdiag_adapters()
BASIC_RENDER = (
    "Microsoft Basic Render Driver",
    "10.0.22000.1",
    "(Standard display types)",
    "ROOT\\BasicRender\\0000",
)
# Driver strings DOMAIN.md quotes for AMD and Intel; adapter names from the two-adapter
# tensorflow-directml log (tfdml_log_ok_two_adapters_intel_amd_windows.txt).
AMD_RX550X = (
    "Radeon (TM) RX 550X",
    "31.0.24033.1003",
    "Advanced Micro Devices, Inc.",
    "PCI\\VEN_1002",
)
INTEL_UHD620 = ("Intel(R) UHD Graphics 620", "32.0.101.6737", "Intel Corporation", "PCI\\VEN_8086")
# nvidia-smi's "Driver Version: 527.27" as the Windows driver string (last five digits).
QUADRO_527 = ("Quadro RTX 4000", "31.0.15.2727", "NVIDIA", "PCI\\VEN_10DE")
NVIDIA_526 = ("NVIDIA GPU (name not captured)", "31.0.15.2686", "NVIDIA", "PCI\\VEN_10DE")
NVIDIA_465 = ("NVIDIA GPU (name not captured)", "30.0.14.6521", "NVIDIA", "PCI\\VEN_10DE")


def dpkg_with(*packages: str) -> str:
    extra = "".join(
        f"Package: {p}\nStatus: install ok installed\nArchitecture: amd64\n\n" for p in packages
    )
    return DPKG_BASE.rstrip("\n") + "\n\n" + extra


PYENV = {"PYENV_ROOT": "/home/dev/.pyenv"}


def wsl_root(
    proc: str,
    *,
    dxg: bool = True,
    libs: list[str] | None = None,
    interop: bool = True,
    wsl_conf: str | None = None,
    dpkg: str | None = None,
    pythons: tuple[str, ...] = ("3.11.9",),
    no_dpkg: bool = False,
    interop_state: str = "enabled",
    extra: dict[str, str] | None = None,
) -> dict[str, str]:
    files = {
        "proc/version": proc,
        "var/lib/dpkg/status": dpkg or DPKG_BASE,
        "etc/ld.so.conf.d/ld.wsl.conf": LD_WSL_CONF,
        **(extra or {}),
    }
    if no_dpkg:
        del files["var/lib/dpkg/status"]
    if dxg:
        files["dev/dxg"] = "stand-in marker for the /dev/dxg device node\n"
    for lib in libs if libs is not None else LIBS_20262:
        files[f"usr/lib/wsl/lib/{lib}"] = ""
    if interop:
        # The entry's format as microsoft/WSL#5466 shows it; its first line is the state.
        files["proc/sys/fs/binfmt_misc/WSLInterop"] = (
            f"{interop_state}\ninterpreter /init\nflags: PF\noffset 0\nmagic 4d5a\n"
        )
    if wsl_conf is not None:
        files["etc/wsl.conf"] = wsl_conf
    for v in pythons:
        files[f"home/dev/.pyenv/versions/{v}/bin/python"] = ""
    return files


# A host: description, files under root/, stand-in commands {name: {args: (stdout, rc, encoding)}},
# env for the probe, what was derived, and the fixture verdict it reproduces.
HOSTS: dict[str, dict] = {}


def host(
    name: str,
    description: str,
    root: dict[str, str],
    commands: dict[str, dict[str, tuple]],
    derived: list[str] = (),
    env: dict[str, str] | None = None,
    platform: str = "linux",
) -> None:
    HOSTS[name] = {
        "description": description,
        "root": root,
        "commands": commands,
        "derived": list(derived),
        "env": env if env is not None else dict(PYENV),
        "platform": platform,
    }


def ok(text: str, enc: str = "utf-8") -> tuple[str, int, str]:
    return (text, 0, enc)


WIN11_NVIDIA = inventory("Microsoft Windows 11 Home", 1, "22000", [*DXDIAG, BASIC_RENDER])

host(
    "wsl2-win11-nvidia-555",
    "WSL 2 on Windows 11 22000, NVIDIA 555.99 (hybrid Intel Arc + RTX 3050), healthy for every WSL profile",
    wsl_root(proc_wsl2("5.15.90.1")),
    {
        "cmd.exe": {"/c ver": ok(VER_22000)},
        "wsl.exe": {"--version": ok(WSL_122, "utf-16-le")},
        "powershell.exe": {"*": ok(WIN11_NVIDIA)},
        "nvidia-smi": {"": ok(SMI_555)},
    },
    [
        "proc/version from the kernel row of wsl --version 1.2.2",
        "powershell rows from the dxdiag capture",
    ],
)
host(
    "wsl2-win-insider-25342-quadro-527",
    "WSL 1.2.2 on Windows 25342, Quadro RTX 4000 with driver 527.27 (one machine's captures)",
    wsl_root(proc_wsl2("5.15.90.1")),
    {
        "cmd.exe": {"/c ver": ok(ver_from("10.0.25342.1001"))},
        "wsl.exe": {"--version": ok(WSL_122, "utf-16-le")},
        "powershell.exe": {
            "*": ok(inventory("Microsoft Windows 11 Pro", 1, "25342", [QUADRO_527]))
        },
        "nvidia-smi": {"": ok(SMI_527)},
    },
    [
        "cmd /c ver from the Windows row of wsl --version",
        "Windows driver string 31.0.15.2727 from nvidia-smi's 527.27",
    ],
)
host(
    "wsl2-win10-19045-amd-intel",
    "WSL 2.1.5 (UTF-8 output, WSL_UTF8=1) on Windows 10 22H2 19045 with AMD + Intel GPUs: DirectML yes, torch-directml-in-WSL no (needs 22000)",
    wsl_root(
        proc_wsl2("5.15.146.1"),
        libs=[x for x in LIBS_20262 if "cuda" not in x and "nvwgf" not in x],
    ),
    {
        "cmd.exe": {"/c ver": ok(ver_from("10.0.19045.4412"))},
        "wsl.exe": {"--version": ok(WSL_215)},
        "powershell.exe": {
            "*": ok(inventory("Microsoft Windows 10 Pro", 1, "19045", [INTEL_UHD620, AMD_RX550X]))
        },
    },
    [
        "cmd /c ver and /proc/version from wsl --version 2.1.5",
        "driver strings are DOMAIN.md's AMD/Intel examples",
    ],
)
host(
    "wsl2-win10-19045-nvidia-multi-distro",
    "WSL 2.1.5 on Windows 10 22H2, NVIDIA 555.99: CUDA and DirectML yes, torch-directml-in-WSL no",
    wsl_root(proc_wsl2("5.15.146.1")),
    {
        "cmd.exe": {"/c ver": ok(ver_from("10.0.19045.4412"))},
        "wsl.exe": {"--version": ok(WSL_215, "utf-16-le")},
        "powershell.exe": {"*": ok(inventory("Microsoft Windows 10 Home", 1, "19045", DXDIAG))},
        "nvidia-smi": {"": ok(SMI_555)},
    },
    ["cmd /c ver and /proc/version from wsl --version 2.1.5"],
)
host(
    "wsl1-build-20236",
    "WSL 1 (4.4.0-20236-Microsoft): no GPU; convert to WSL 2",
    wsl_root(PROC_WSL1, dxg=False, libs=[]),
    {
        "cmd.exe": {"/c ver": ok(ver_from("10.0.20236.0"))},
        "wsl.exe": {"--version": (WSL_INBOX, 1, "utf-16-le")},
        "powershell.exe": {"*": ok(inventory("Microsoft Windows 10 Pro", 1, "20236", DXDIAG))},
    },
    ["cmd /c ver from the issue's 'Windows build number: 10.0.20236.0'"],
)
host(
    "wsl2-old-kernel-4.19.104-zh-18362",
    "WSL 2 kernel 4.19.104 without /dev/dxg on Chinese Windows 18362 ([版本 …]); no powershell.exe on PATH",
    wsl_root(proc_from_uname("wsl2_old_kernel_4.19.104_no_dev_dxg.txt"), dxg=False, libs=[]),
    {
        "cmd.exe": {"/c ver": ok(VER_ZH_18362)},
        "wsl.exe": {"--version": (WSL_INBOX_ZH, 1, "utf-16-le")},
    },
    ["/proc/version from the captured uname -a"],
)
host(
    "wsl2-insider-20150-kernel-4.19.121",
    "WSL 2 GPU preview: kernel 4.19.121, /dev/dxg and DX+CUDA libs, below Microsoft's 5.10.43.3 floor",
    wsl_root(proc_from_uname("wsl2_gpu_pv_ok_uname_lspci_wsllib_4.19.121.txt"), libs=LIBS_20150),
    {
        "cmd.exe": {"/c ver": ok(ver_from("10.0.20150.0"))},
        "wsl.exe": {"--version": (WSL_INBOX, 1, "utf-16-le")},
        "powershell.exe": {
            "*": ok(
                inventory(
                    "Microsoft Windows 10 Pro Insider Preview",
                    1,
                    "20150",
                    [QUADRO_527, INTEL_UHD620, AMD_RX550X],
                )
            )
        },
    },
    [
        "/proc/version from the captured uname -a",
        "build 20150 from the issue text",
        "adapter rows from other captures",
    ],
)
host(
    "wsl2-linux-driver-440-in-distro",
    "apt install nvidia-driver-440 nvidia-utils-440 inside WSL: nvidia-smi cannot talk to the driver",
    wsl_root(
        proc_wsl2("5.15.90.1"),
        dpkg=dpkg_with("nvidia-driver-440", "nvidia-utils-440", "libnvidia-compute-440"),
    ),
    {
        "cmd.exe": {"/c ver": ok(VER_22000)},
        "wsl.exe": {"--version": ok(WSL_122, "utf-16-le")},
        "powershell.exe": {"*": ok(WIN11_NVIDIA)},
        "nvidia-smi": {"": (SMI_440, 9, "utf-8")},
    },
    ["dpkg stanzas for the packages the issue's apt command installed"],
)
host(
    "wsl2-nvml-blocked-utils-510",
    "Windows 11 22000, driver 31.0.15.2686 (526.86), nvidia-utils-510 in the distro: NVML blocked",
    wsl_root(proc_wsl2("5.15.90.1"), dpkg=dpkg_with("nvidia-utils-510")),
    {
        "cmd.exe": {"/c ver": ok(VER_22000)},
        "wsl.exe": {"--version": ok(WSL_122, "utf-16-le")},
        "powershell.exe": {
            "*": ok(inventory("Microsoft Windows 11 Pro", 1, "22000", [NVIDIA_526]))
        },
        "nvidia-smi": {"": (SMI_NVML, 255, "utf-8")},
    },
    ["dpkg stanza for nvidia-utils-510 (the issue's apt command)"],
)
host(
    "wsl2-inbox-wsl-win10-19045",
    "inbox wsl.exe on Windows 10 19045 (rejects --version), kernel 5.10.102.1 from --status",
    wsl_root(proc_wsl2("5.10.102.1")),
    {
        "cmd.exe": {"/c ver": ok(VER_19045_3803)},
        "wsl.exe": {
            "--version": (WSL_INBOX, 1, "utf-16-le"),
            "--status": ok(WSL_INBOX_STATUS, "utf-16-le"),
        },
        "powershell.exe": {"*": ok(inventory("Microsoft Windows 10 Pro", 1, "19045", DXDIAG))},
        "nvidia-smi": {"": ok(SMI_555)},
    },
    ["/proc/version from the --status kernel row"],
)
host(
    "wsl2-custom-kernel-5.19",
    "custom kernel 5.19.0 in /proc/version while wsl --status claims 5.10.102.1: trust /proc/version",
    wsl_root(PROC_CUSTOM_5_19),
    {
        "cmd.exe": {"/c ver": ok(VER_22000_832)},
        "wsl.exe": {
            "--version": (WSL_INBOX, 1, "utf-16-le"),
            "--status": ok(WSL_STATUS_CUSTOM, "utf-16-le"),
        },
        "powershell.exe": {"*": ok(WIN11_NVIDIA)},
        "nvidia-smi": {"": ok(SMI_555)},
    },
    ["adapter rows from the dxdiag capture"],
)
host(
    "wsl2-interop-disabled",
    "[interop] enabled=false in /etc/wsl.conf: Windows facts are unknown, not guessed",
    wsl_root(
        proc_wsl2("5.15.90.1"),
        interop=False,
        wsl_conf="[interop]\nenabled=false\nappendWindowsPath=false\n",
    ),
    {"cmd.exe": {"/c ver": ok(VER_22000)}, "nvidia-smi": {"": ok(SMI_555)}},
    ["wsl.conf written after Microsoft's wsl-config documentation"],
)
host(
    "wsl2-interop-binfmt-missing",
    "WSLInterop not registered in binfmt_misc (interop off without wsl.conf)",
    wsl_root(proc_wsl2("5.15.146.1"), interop=False),
    {"wsl.exe": {"--version": ok(WSL_215, "utf-16-le")}},
    ["/proc/version from wsl --version 2.1.5"],
)
host(
    "wsl2-gpu-disabled-in-wslconf",
    "[gpu] enabled=false in /etc/wsl.conf: no /dev/dxg",
    wsl_root(
        proc_wsl2("5.15.90.1"),
        dxg=False,
        wsl_conf="# written by the user\n[gpu]\nenabled = false\n[interop]\nenabled = true\n",
    ),
    {
        "cmd.exe": {"/c ver": ok(VER_22000)},
        "wsl.exe": {"--version": ok(WSL_122, "utf-16-le")},
        "powershell.exe": {"*": ok(WIN11_NVIDIA)},
    },
    ["wsl.conf written after Microsoft's wsl-config documentation"],
)
host(
    "wsl2-no-wsl-libs-win10-19045",
    "/dev/dxg but an empty /usr/lib/wsl/lib: libd3d12.so cannot be loaded",
    wsl_root(proc_wsl2("5.15.146.1"), libs=[]),
    {
        "cmd.exe": {"/c ver": ok(ver_from("10.0.19045.4412"))},
        "wsl.exe": {"--version": ok(WSL_215, "utf-16-le")},
        "powershell.exe": {
            "*": ok(inventory("Microsoft Windows 10 Pro", 1, "19045", [AMD_RX550X]))
        },
    },
    ["/proc/version and cmd /c ver from wsl --version 2.1.5"],
)
host(
    "wsl2-win10-18363-cuda-code35",
    "WSL 2 on Windows 10 1909 (18363), driver 465.21: no GPU-PV on that build (cudaGetDeviceCount 35)",
    wsl_root(PROC_5_10_16_3, dxg=False, libs=[]),
    {
        "cmd.exe": {"/c ver": ok(ver_from("10.0.18363.0"))},
        "wsl.exe": {"--version": (WSL_INBOX, 1, "utf-16-le")},
        "powershell.exe": {
            "*": ok(inventory("Microsoft Windows 10 Pro", 1, "18363", [NVIDIA_465]))
        },
    },
    ["build 18363 and driver 465.21 from the issue text; 465.21 as Windows string 30.0.14.6521"],
)
host(
    "wsl2-kernel-5.10.16.3-nvidia-doc",
    "kernel 5.10.16.3 (NVIDIA's recommended) is below Microsoft's 5.10.43.3 floor the profiles use",
    wsl_root(PROC_5_10_16_3),
    {
        "cmd.exe": {"/c ver": ok(VER_22000)},
        "wsl.exe": {"--version": ok(WSL_122, "utf-16-le")},
        "powershell.exe": {"*": ok(WIN11_NVIDIA)},
        "nvidia-smi": {"": ok(SMI_555)},
    },
    [],
)
host(
    "wsl2-hung-powershell",
    "powershell.exe hangs: adapter facts are unknown (timed out), not guessed",
    wsl_root(proc_wsl2("5.15.90.1")),
    {
        "cmd.exe": {"/c ver": ok(VER_22000)},
        "wsl.exe": {"--version": ok(WSL_122, "utf-16-le")},
        "powershell.exe": {"*": ("", "hang", "utf-8")},
        "nvidia-smi": {"": ok(SMI_555)},
    },
    [],
    env={**PYENV, "PROVISION_COMMAND_TIMEOUT": "1"},
)
host(
    "linux-debian-cpu",
    "plain Linux (this container's /proc/version and dpkg), Python 3.11 from pyenv: ready for cpu",
    {
        "proc/version": PROC_THIS_LINUX,
        "var/lib/dpkg/status": DPKG_BASE,
        "opt/pyenv/versions/3.11.7/bin/python": "",
        "opt/pyenv/versions/3.7.16/bin/python": "",
    },
    {},
    [],
    env={"PYENV_ROOT": "/opt/pyenv"},
)
host(
    "linux-nvidia-527",
    "Linux with an NVIDIA driver installed and nvidia-smi 527.27 working (table captured in a container)",
    {
        "proc/version": PROC_THIS_LINUX,
        "var/lib/dpkg/status": dpkg_with("nvidia-driver-525", "nvidia-utils-525"),
        "opt/pyenv/versions/3.10.13/bin/python": "",
    },
    {"nvidia-smi": {"": ok(SMI_527)}},
    ["dpkg stanzas for a Linux NVIDIA driver"],
    env={"PYENV_ROOT": "/opt/pyenv"},
)
host(
    "windows-10-17763-amd-intel",
    "native Windows 10 1809 (17763) with Intel UHD 620 + Radeon RX 550X: DirectML native yes, WSL GPU no",
    {},
    {
        "cmd.exe": {"/c ver": ok(VER_17763)},
        "powershell.exe": {
            "*": ok(
                inventory(
                    "Microsoft Windows 10 Pro", 1, "17763", [INTEL_UHD620, AMD_RX550X, BASIC_RENDER]
                )
            )
        },
    },
    ["adapter rows: names from the tensorflow-directml log, driver strings from DOMAIN.md"],
    env={},
    platform="win32",
)
host(
    "windows-11-22000-nvidia",
    "native Windows 11 22000 with the hybrid Intel Arc + RTX 3050 laptop (dxdiag)",
    {},
    {"cmd.exe": {"/c ver": ok(VER_22000)}, "powershell.exe": {"*": ok(WIN11_NVIDIA)}},
    ["powershell rows from the dxdiag capture"],
    env={},
    platform="win32",
)

# -- issue 10: hosts a probe that looks only on PATH, at dpkg and at the kernel name got wrong
SYS32 = "/mnt/c/Windows/System32"
WINDOWS_AT_WELL_KNOWN = {
    f"{SYS32}/cmd.exe": {"/c ver": ok(VER_22000)},
    f"{SYS32}/wsl.exe": {"--version": ok(WSL_122, "utf-16-le")},
    f"{SYS32}/WindowsPowerShell/v1.0/powershell.exe": {"*": ok(WIN11_NVIDIA)},
}
host(
    "wsl2-append-windows-path-false",
    "appendWindowsPath=false and [automount] root=/win/: cmd.exe, wsl.exe and powershell.exe only under /win/c/Windows/System32; healthy",
    wsl_root(
        proc_wsl2("5.15.90.1"),
        wsl_conf="[automount]\nroot = /win/\n[interop]\nappendWindowsPath = false\n",
    ),
    {
        **{k.replace("/mnt/", "/win/"): v for k, v in WINDOWS_AT_WELL_KNOWN.items()},
        "nvidia-smi": {"": ok(SMI_555)},
    },
    [
        "wsl.conf written after Microsoft's wsl-config documentation",
        "the Windows tools' outputs are the wsl2-win11-nvidia-555 captures",
    ],
    env={**PYENV, "WSL_DISTRO_NAME": "Ubuntu"},
)
host(
    "wsl2-root-shell",
    "a root shell (sudo -i): PATH has neither the Windows folders nor /usr/lib/wsl/lib, and sudo dropped WSL_DISTRO_NAME; healthy",
    wsl_root(proc_wsl2("5.15.90.1")),
    {
        **WINDOWS_AT_WELL_KNOWN,
        "/usr/lib/wsl/lib/nvidia-smi": {"": ok(SMI_555)},
    },
    ["the outputs are the wsl2-win11-nvidia-555 captures"],
    env={},
)
host(
    "wsl2-fedora-no-linux-driver",
    "Fedora in WSL 2 (no dpkg; rpm lists only CUDA toolkit packages): no Linux driver, healthy for CUDA",
    wsl_root(proc_wsl2("5.15.146.1"), no_dpkg=True),
    {
        "cmd.exe": {"/c ver": ok(ver_from("10.0.22631.3593"))},
        "wsl.exe": {"--version": ok(WSL_215, "utf-16-le")},
        "powershell.exe": {"*": ok(WIN11_NVIDIA)},
        "nvidia-smi": {"": ok(SMI_555)},
        "rpm": {"*": ok("".join(f"{n}\n" for n in RPM_CUDA_NAMES if "driver" not in n))},
    },
    [
        "rpm names from the az-hop capture without its two driver packages",
        "/proc/version and wsl --version 2.1.5 from the rapidsai capture",
    ],
)
host(
    "wsl2-fedora-linux-driver",
    "Fedora in WSL 2 with NVIDIA's repo driver (nvidia-driver-latest-dkms-cuda, cuda-drivers via rpm), its libcuda and nvidia.ko",
    wsl_root(
        proc_wsl2("5.15.146.1"),
        no_dpkg=True,
        extra={
            "usr/lib64/libcuda.so.1": "",
            "usr/lib64/libnvidia-ml.so.1": "",
            "lib/modules/5.15.146.1-microsoft-standard-WSL2/extra/nvidia.ko.xz": "",
        },
    ),
    {
        "cmd.exe": {"/c ver": ok(ver_from("10.0.22631.3593"))},
        "wsl.exe": {"--version": ok(WSL_215, "utf-16-le")},
        "powershell.exe": {"*": ok(WIN11_NVIDIA)},
        "nvidia-smi": {"": (SMI_440, 9, "utf-8")},
        "rpm": {"*": ok("".join(f"{n}\n" for n in RPM_CUDA_NAMES))},
    },
    [
        "rpm names from the az-hop capture (rpm -qa NEVRAs cut to names)",
        "library and module files where NVIDIA's packages put them",
        "nvidia-smi's failure from the microsoft/WSL#5265 capture",
    ],
)
host(
    "wsl2-debian-package-names",
    "Debian in WSL 2 with Debian's driver packages (nvidia-driver, libcuda1, nvidia-smi): nvidia-smi cannot talk to the driver",
    wsl_root(proc_wsl2("5.15.90.1"), dpkg=dpkg_with("nvidia-driver", "libcuda1", "nvidia-smi")),
    {
        "cmd.exe": {"/c ver": ok(VER_22000)},
        "wsl.exe": {"--version": ok(WSL_122, "utf-16-le")},
        "powershell.exe": {"*": ok(WIN11_NVIDIA)},
        "nvidia-smi": {"": (SMI_440, 9, "utf-8")},
    },
    ["dpkg stanzas under Debian's package names", "nvidia-smi's failure from microsoft/WSL#5265"],
)
host(
    "wsl2-interop-disabled-at-runtime",
    "WSLInterop says 'disabled' (echo 0 > /proc/sys/fs/binfmt_misc/WSLInterop): Windows facts unknown, nvidia-smi settles the GPU",
    wsl_root(proc_wsl2("5.15.90.1"), interop_state="disabled"),
    {
        "cmd.exe": {"/c ver": ok(VER_22000)},
        "wsl.exe": {"--version": ok(WSL_122, "utf-16-le")},
        "powershell.exe": {"*": ok(WIN11_NVIDIA)},
        "nvidia-smi": {"": ok(SMI_555)},
    },
    ["the WSLInterop entry's first line set to disabled (binfmt_misc's format)"],
)
host(
    "wsl2-cuda-version-err",
    "nvidia-smi prints its table but 'CUDA Version: ERR!' (WSL 2.1.5, Windows 22631, driver 546.80)",
    wsl_root(proc_wsl2("5.15.146.1")),
    {
        "cmd.exe": {"/c ver": ok(ver_from("10.0.22631.3593"))},
        "wsl.exe": {"--version": ok(WSL_215, "utf-16-le")},
        "powershell.exe": {
            "*": ok(
                inventory(
                    "Microsoft Windows 11 Home",
                    1,
                    "22631",
                    [
                        (
                            "NVIDIA GeForce RTX 3060 Laptop GPU",
                            "31.0.15.4680",
                            "NVIDIA",
                            "PCI\\VEN_10DE",
                        )
                    ],
                )
            )
        },
        "nvidia-smi": {"": ok(SMI_ERR)},
    },
    [
        "cmd /c ver, /proc/version from the issue's version block",
        "the Windows driver string 31.0.15.4680 from nvidia-smi's 546.80",
    ],
)
host(
    "wsl2-custom-kernel-no-microsoft",
    "a custom WSL kernel built without the -microsoft-standard suffix (5.19.0): still WSL 2 by /run/WSL, WSLInterop and WSL_DISTRO_NAME",
    wsl_root(
        PROC_CUSTOM_5_19.replace("5.19.0-microsoft-standard", "5.19.0"),
        extra={"run/WSL/1_interop": "stand-in marker for the interop socket\n"},
    ),
    {
        "cmd.exe": {"/c ver": ok(VER_22000_832)},
        "wsl.exe": {
            "--version": (WSL_INBOX, 1, "utf-16-le"),
            "--status": ok(WSL_STATUS_CUSTOM, "utf-16-le"),
        },
        "powershell.exe": {"*": ok(WIN11_NVIDIA)},
        "nvidia-smi": {"": ok(SMI_555)},
    },
    ["/proc/version of microsoft/WSL#8690 with the kernel's -microsoft-standard suffix removed"],
    env={**PYENV, "WSL_DISTRO_NAME": "Ubuntu-22.04"},
)


STANDIN = """#!/bin/sh
# stand-in for {name} ({what}), which cannot exist on a Linux CI machine:
# prints an output captured on a real machine (see ../host.yaml and tests/data/fixtures/).
out="${{0%/*}}/{rel_out}"
case "$*" in
{cases}  *) echo "stand-in {name}: no captured output for: $*" >&2; exit 2 ;;
esac
"""
WHAT = {
    "cmd.exe": "Windows, reached through WSL interop",
    "wsl.exe": "Windows, reached through WSL interop",
    "powershell.exe": "Windows, reached through WSL interop",
    "nvidia-smi": "needs an NVIDIA GPU",
    "rpm": "an RPM distro's package manager",
}


def build(name: str, spec: dict) -> None:
    base = HERE / name
    if base.exists():
        shutil.rmtree(base)
    for rel, text in spec["root"].items():
        p = base / "root" / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, "utf-8")
    (base / "bin").mkdir(parents=True)
    for cmd, outputs in spec["commands"].items():
        # A name runs from bin/ (on PATH); an absolute path is a stand-in inside the root
        # (a well-known place such as /mnt/c/Windows/System32/cmd.exe).
        exe = base / "root" / cmd.lstrip("/") if cmd.startswith("/") else base / "bin" / cmd
        exe.parent.mkdir(parents=True, exist_ok=True)
        rel_out = os.path.relpath(base / "outputs", exe.parent)
        short = cmd.rsplit("/", 1)[-1]
        stem = f"{short}.root" if cmd.startswith("/") else short
        cases = ""
        for i, (args, (text, rc, enc)) in enumerate(outputs.items()):
            pattern = "*" if args == "*" else f"'{args}'"
            if rc == "hang":
                cases += f"  {pattern}) exec /bin/sleep 30 ;;\n"
                continue
            out = base / "outputs" / f"{stem}.{i}.txt"
            out.parent.mkdir(parents=True, exist_ok=True)
            data = (
                text.encode("utf-8")
                if enc == "utf-8"
                else b"\xff\xfe" + text.replace("\n", "\r\n").encode("utf-16-le")
            )
            out.write_bytes(data)
            cases += f'  {pattern}) /bin/cat "$out/{stem}.{i}.txt"; exit {rc} ;;\n'
        exe.write_text(
            STANDIN.format(
                name=short,
                rel_out=rel_out,
                what=WHAT[short]
                + (" (native Windows here)" if spec["platform"] == "win32" else ""),
                cases=cases,
            )
        )
        exe.chmod(0o755)
    (base / "bin" / ".keep").write_text("")
    meta = {k: spec[k] for k in ("description", "platform", "env", "derived")}
    (base / "host.yaml").write_text(
        yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, width=100)
    )


if __name__ == "__main__":
    for name, spec in HOSTS.items():
        expected = HERE / name / "expected.yaml"
        keep = expected.read_text() if expected.exists() else None
        build(name, spec)
        if keep is not None:
            expected.write_text(keep)
    print(f"built {len(HOSTS)} hosts")
