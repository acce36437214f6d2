"""The host patterns, well-known paths and reasons shared by all three judges.

``provision doctor`` (Python), ``check.sh`` (bash, ``grep -E``) and ``check.ps1``
(.NET regex) read the host the same way because they take these values from here:
the templates get them injected at render time. So the regexes stay in the subset
the three engines agree on (no ``\\S``/``\\d`` inside brackets, no lookaround).
"""

from __future__ import annotations

# -- /proc/version and WSL --------------------------------------------------------------
# WSL 1 reports the Windows build as a fake 4.4.0 kernel: "4.4.0-20236-Microsoft".
WSL1_KERNEL = r"[0-9]+\.[0-9]+\.[0-9]+-[0-9]+-Microsoft\b"
# WSL 2's own kernels; matched case-insensitively. A custom kernel may match none of it.
WSL2_KERNEL = r"-microsoft-|microsoft-standard|WSL2"
DOTTED = r"[0-9]+(\.[0-9]+)+"
# Signs of WSL besides the kernel name, so a custom kernel is still WSL (issue 10):
WSL_MARK_PATHS = (
    "/run/WSL",
    "/proc/sys/fs/binfmt_misc/WSLInterop",
    "/proc/sys/fs/binfmt_misc/WSLInterop-late",
)
WSL_MARK_ENV = "WSL_DISTRO_NAME"
INTEROP_FILES = WSL_MARK_PATHS[1:]
DEFAULT_AUTOMOUNT_ROOT = "/mnt/"

# wsl.interop values: the first is the only passing one.
INTEROP_ENABLED = "enabled"
INTEROP_DISABLED = "disabled"  # the WSLInterop file says so (switched off at runtime)
INTEROP_OFF_IN_CONF = "off in wsl.conf"
INTEROP_UNREGISTERED = "not registered"  # no WSLInterop entry: systemd-binfmt cleared it

# -- Windows executables: PATH first, then where Windows keeps them -----------------------
# Relative to the automount root ([automount] root in /etc/wsl.conf, default /mnt/), so a
# distro with appendWindowsPath=false still reaches them (issue 10).
WINDOWS_EXES: dict[str, tuple[str, ...]] = {
    "cmd.exe": ("c/Windows/System32/cmd.exe",),
    "powershell.exe": ("c/Windows/System32/WindowsPowerShell/v1.0/powershell.exe",),
    "wsl.exe": ("c/Windows/System32/wsl.exe", "c/Program Files/WSL/wsl.exe"),
}
# nvidia-smi: PATH first, then the WSL driver folder (a root or sudo shell lacks it on PATH).
NVIDIA_SMI_PATHS = ("/usr/lib/wsl/lib/nvidia-smi",)

_SPACE = "[ \t]"  # a real tab: grep -E reads no \\t escapes
# Values only check.ps1 reads (it alone runs on native Windows); check.sh does not get them.
WINDOWS_ONLY = frozenset(
    {
        "PY_LAUNCHER_LINE",
        "REASON_WSL_NOT_PROBED",
        "STORE_ALIAS_DIR",
        "PYTHON_ORG_USER_DIR",
        "PYTHON_ORG_FOLDER",
        "PYTHON_PROBE",
    }
)

# -- the Python launcher --------------------------------------------------------------------
# A ``py -0p`` line of a 64-bit CPython: the launcher of 3.7-3.10 prints ``-3.9-64`` and
# its default marker ``*`` after the path, the 3.11+ one ``-V:3.12`` with ``*`` before it
# (CPython PC/launcher.c show_python_list, PC/launcher2.c _listAllEnvironments). 32-bit
# (``-32``), ARM64 (``-arm64``) and free-threaded (``3.13t``) interpreters and other
# companies' tags are not matched: a win-64 lock needs an x64 CPython. Group 1 is the
# version, group 2 the path. Case-sensitive (``-cmatch`` in check.ps1).
PY_LAUNCHER_LINE = r"^\s*-(?:V:)?([0-9]+\.[0-9]+)(?:-64)?\s+(?:\*\s+)?(\S.*?)(?:\s+\*)?\s*$"

# -- Python interpreters on Windows ---------------------------------------------------------
# Where the bootstrap scripts (ps1/python.ps1.j2 Find-Python), check.ps1 and provision
# doctor (provisioner/host/interpreters.py) look, in this order: the ``py -0p`` list, then
# python.exe on PATH except the Microsoft Store's alias (it opens the Store), then the
# python.org installer's folders, per user (%LOCALAPPDATA%\Programs\Python\Python311)
# and for all users (%ProgramFiles%\Python311); 32-bit ones are Python311-32, ARM64 ones
# Python311-arm64 (https://docs.python.org/3/using/windows.html#installation-steps).
STORE_ALIAS_DIR = "Microsoft\\WindowsApps"  # under %LOCALAPPDATA%
PYTHON_ORG_USER_DIR = "Programs\\Python"  # under %LOCALAPPDATA%
PYTHON_ORG_FOLDER = r"^Python3[0-9]+$"  # case-sensitive (-cmatch); 64-bit only
# What a candidate on PATH or in those folders is asked: "X.Y|pointer bits|sys.executable"
# in UTF-8 whatever the console's code page (a user name outside it stays itself). No
# space and no double quote, so Windows PowerShell 5.1 passes it intact and no PowerShell
# version quotes it (tests/checks/test_ps1_native_calls.py).
PYTHON_PROBE = (
    "__import__('sys').stdout.buffer.write(('%d.%d|%d|%s'%(__import__('sys').version_info[:2]"
    "+(__import__('struct').calcsize('P')*8,__import__('sys').executable))).encode())"
)

# -- nvidia-smi ---------------------------------------------------------------------------
SMI_HEADER = "NVIDIA-SMI" + _SPACE + "+" + DOTTED
SMI_DRIVER = "Driver Version:" + _SPACE + "*" + DOTTED
# "CUDA Version: ERR!": the driver answered but cannot serve CUDA (microsoft/WSL#11589).
SMI_CUDA_ERROR = "CUDA Version:" + _SPACE + "*ERR!"
SMI_CUDA_ERROR_FAILURE = "CUDA Version: ERR! (the driver cannot serve CUDA)"

# -- Linux NVIDIA drivers inside a distro -------------------------------------------------
# Package names across dpkg (Ubuntu's nvidia-driver-NNN, Debian's nvidia-driver, libcuda1,
# nvidia-smi), rpm (NVIDIA's repo, RPM Fusion, openSUSE's G0N packages) and pacman.
_N = "[A-Za-z0-9.+_-]+"
LINUX_NVIDIA_PACKAGES = (
    "^("
    f"nvidia-driver(-{_N})?|nvidia-utils(-{_N})?|nvidia-dkms(-{_N})?|nvidia-open(-{_N})?"
    "|nvidia|nvidia-lts|nvidia-smi|nvidia-kernel-dkms|nvidia-kernel-open-dkms"
    f"|cuda-drivers(-{_N})?|libnvidia-compute-{_N}|libcuda1|libnvidia-ml1"
    f"|xorg-x11-drv-nvidia(-{_N})?|akmod-nvidia|kmod-nvidia(-{_N})?"
    f"|nvidia-compute(-utils)?-?G0[0-9]|nvidia-gl-G0[0-9]|x11-video-nvidiaG0[0-9]"
    ")$"
)
# Where pacman keeps one folder per installed package ("nvidia-utils-550.78-1").
PACMAN_LOCAL = "/var/lib/pacman/local"
# The rpm query: names only, one a line.
RPM_QUERY = ("rpm", "-qa", "--qf", "%{NAME}\\n")
# User-space driver libraries a Linux driver installs (WSL's own live in /usr/lib/wsl/lib).
NVIDIA_LIB_DIRS = (
    "/usr/lib/x86_64-linux-gnu",
    "/usr/lib/aarch64-linux-gnu",
    "/usr/lib64",
    "/usr/lib",
)
NVIDIA_LIB = r"^lib(cuda|nvidia-ml)\.so(\..*)?$"
# Kernel modules: /lib/modules/<kernel>/<one of these>, compressed or not.
MODULES_DIR = "/lib/modules"
NVIDIA_MODULES = (
    "kernel/drivers/video/nvidia.ko",
    "updates/dkms/nvidia.ko",
    "extra/nvidia.ko",
    "extra/nvidia/nvidia.ko",
    "extramodules/nvidia.ko",
)
MODULE_SUFFIXES = ("", ".xz", ".zst", ".gz")
# NVIDIA's .run installer leaves its uninstaller behind.
RUN_INSTALLER_MARK = "/usr/bin/nvidia-uninstall"

# -- reasons (user-visible) ---------------------------------------------------------------
REASON_NOT_WSL = "not a WSL host"
REASON_NOT_WINDOWS = "not a Windows or WSL host"
REASON_INTEROP_OFF = "interop is disabled"
# wsl.exe is not asked on native Windows: no check of a Windows target reads it, and the
# inbox wsl.exe of a PC without WSL may offer to install it.
REASON_WSL_NOT_PROBED = "not asked on native Windows"
REASON_PROC_UNREADABLE = "/proc/version is not readable"
REASON_NO_KERNEL_NUMBER = "no version number in /proc/version"
# "{name} not found on PATH or under {where}" for the Windows tools.
REASON_EXE_MISSING = "{name} not found on PATH or under {where}"
LINUX_DRIVER_SOURCES_NOTE = "checked: {sources}"
