"""Framework runtime families: NumPy's C ABI, conda's __cuda, TensorFlow's GPU
libraries, Windows DLLs that fail to load without saying which.

- NumPy: a module built for NumPy 1.x under NumPy 2 ("compiled using NumPy 1.x",
  "_ARRAY_API not found"), a module built for a newer NumPy than the installed one
  ("module compiled against API version 0x10 but this version of numpy is 0xf"), or
  only "numpy.core.multiarray failed to import" (either).
- conda/mamba: a package needs the ``__cuda`` virtual package and the solver has none or
  a lower one. A report that only lists the machine's own ``__cuda==X`` names no
  requirement (a known reporting quirk) and is not a cause.
- TensorFlow: "Cannot dlopen some GPU libraries" (the GPU is skipped: a failure) and
  "Could not find cuda drivers on your machine" (no CUDA at all: a warning, since a
  CPU-only machine prints it too).
- Windows: "DLL load failed" without a library name, and PyTorch's "Microsoft Visual
  C++ Redistributable is not installed".
"""

from __future__ import annotations

import re

from provisioner.diagnosis.base import GENERIC_RANK, finding
from provisioner.logscan import Hit
from provisioner.signatures import Match

NUMPY_SOURCES = (
    "https://numpy.org/devdocs/dev/depending_on_numpy.html#numpy-2-0-specific-advice",
    "https://numpy.org/devdocs/user/troubleshooting-importerror.html#c-api-incompatibility",
)
CONDA_SOURCES = (
    "https://docs.conda.io/projects/conda/en/latest/user-guide/tasks/manage-virtual.html",
    "https://conda-forge.org/docs/user/tipsandtricks/#installing-cuda-enabled-packages-like-tensorflow-and-pytorch",
)
TF_SOURCES = (
    "https://www.tensorflow.org/install/pip",
    "https://www.tensorflow.org/install/source#gpu",
)
WINDOWS_SOURCES = (
    "https://learn.microsoft.com/cpp/windows/latest-supported-vc-redist",
    "https://pytorch.org/docs/stable/notes/windows.html",
)

ANCHORS = (
    "compiled using numpy 1",
    "_array_api not found",
    "failed to initialize numpy",
    "multiarray failed to import",
    "compiled against api version",
    "numpy.dtype size changed",
    "__cuda",
    "cuda version",  # nvidia-smi's header: the CUDA the driver supports
    "cannot dlopen some gpu libraries",
    "could not find cuda drivers on your machine",
    "dll load failed",
    "visual c++ redistributable is not installed",
)

_API = re.compile(
    r"compiled\s+against\s+(?:API|ABI)\s+version\s+(0x[0-9a-f]+)\s+but\s+this\s+version\s+of\s+numpy\s+is\s+(0x[0-9a-f]+)",
    re.I,
)
_CUDA_NEEDED = re.compile(
    r"nothing\s+provides\s+(?:requested\s+)?__cuda|requires\s+__cuda|__cuda\S*\s*,?\s*which\s+is\s+missing"
    r"|->\s*__cuda\[|__cuda\s*>=\s*\d|__cuda\s+[<>]=?\s*\d|__cuda\[version=",
    re.I,
)
_NEEDED_BY = re.compile(r"needed\s+by\s+(\S+)", re.I)
_DRIVER_CUDA = re.compile(r"CUDA\s+Version\s*:\s*(\d+\.\d+)", re.I)
# what the package needs: "__cuda >=11.2", "__cuda[version='>=11.8']", or its build string
_NEEDED_CUDA = re.compile(r"__cuda\S*?\s*>=?\s*'?(\d+\.\d+)|[-_]cuda(\d\d)(\d)(?:py|_|\b)", re.I)


def _version_tuple(v: str) -> tuple[int, ...]:
    return tuple(int(x) for x in v.split("."))


class Runtime:
    """NumPy ABI, conda __cuda, TensorFlow GPU libraries, Windows DLLs."""

    anchors: tuple[str, ...] = ANCHORS

    def __init__(self) -> None:
        self._found: dict[str, Match] = {}
        self._driver_cuda: str | None = None
        self._conda: tuple[int, str, str, str | None] | None = None

    def _add(self, key: str, match: Match) -> None:
        self._found.setdefault(key, match)

    def observe(self, hit: Hit, low: str) -> None:
        text = hit.text
        if "numpy" in low or "_array_api" in low:
            self._numpy(hit, low)
        if self._driver_cuda is None and "cuda version" in low and (m := _DRIVER_CUDA.search(text)):
            self._driver_cuda = m.group(1)
        if "__cuda" in low and self._conda is None and _CUDA_NEEDED.search(text):
            by = _NEEDED_BY.search(text)
            need = _NEEDED_CUDA.search(text)
            needed = None
            if need is not None:
                needed = need.group(1) or f"{need.group(2)}.{need.group(3)}"
            self._conda = (hit.number, text, by.group(1) if by else "a package", needed)
        if "cannot dlopen some gpu libraries" in low:
            self._add(
                "tf",
                finding(
                    id="tf.gpu-libs-missing",
                    line=hit.number,
                    excerpt=text,
                    meaning="TensorFlow could not load the CUDA/cuDNN libraries of the "
                    "versions it was built with, so it skips the GPU and trains on the CPU.",
                    fix=_TF_FIX,
                    fixes=_TF_FIXES,
                    sources=TF_SOURCES,
                    rank=GENERIC_RANK,
                ),
            )
        elif "could not find cuda drivers on your machine" in low:
            self._add(
                "tf",
                finding(
                    id="tf.gpu-libs-missing",
                    line=hit.number,
                    excerpt=text,
                    severity="warn",
                    meaning="TensorFlow found no CUDA runtime it can use, so it runs on the "
                    "CPU (expected on a machine without an NVIDIA GPU).",
                    fix=_TF_FIX,
                    fixes=_TF_FIXES,
                    sources=TF_SOURCES,
                    rank=GENERIC_RANK,
                ),
            )
        if "dll load failed" in low:
            self._add(
                "dll",
                finding(
                    id="win.dll-load-failed",
                    line=hit.number,
                    excerpt=text,
                    meaning="Windows could not load a DLL that a module needs (the message "
                    "does not name it): typically the Microsoft Visual C++ runtime, or the "
                    "CUDA/cuDNN DLLs a GPU build expects on PATH.",
                    fix="Install the latest Microsoft Visual C++ Redistributable (x64); for a "
                    "GPU build put the bin folders of the CUDA and cuDNN versions it was built "
                    "for on PATH (Python 3.8+: os.add_dll_directory); then reinstall the "
                    "package in a clean environment.",
                    sources=WINDOWS_SOURCES,
                    rank=GENERIC_RANK,
                ),
            )
        if "visual c++ redistributable is not installed" in low:
            self._add(
                "msvc",
                finding(
                    id="win.msvc-runtime",
                    line=hit.number,
                    excerpt=text,
                    meaning="PyTorch found no usable Microsoft Visual C++ runtime "
                    "(msvcp140.dll/vcruntime140.dll), so its DLLs can fail to load.",
                    fix="Install the latest Microsoft Visual C++ Redistributable (x64) from "
                    "https://aka.ms/vs/17/release/vc_redist.x64.exe, restart the shell, and "
                    "make sure no older msvcp140.dll earlier on PATH shadows it.",
                    sources=WINDOWS_SOURCES,
                ),
            )

    def _numpy(self, hit: Hit, low: str) -> None:
        if "numpy" in self._found:
            return
        text = hit.text
        api = _API.search(text)
        if api and int(api.group(1), 16) > int(api.group(2), 16):
            meaning = (
                f"A compiled module was built against a newer NumPy C API ({api.group(1)}) "
                f"than the installed NumPy provides ({api.group(2)})."
            )
            fix = (
                "Upgrade NumPy in the environment (`pip install -U numpy`, or pin the "
                "version the module needs)."
            )
        elif "compiled using numpy 1" in low or "_array_api" in low:
            meaning = (
                "A compiled module was built for NumPy 1.x and NumPy 2 is installed: the C "
                "ABI changed in NumPy 2.0, so the module cannot load (or crashes)."
            )
            fix = (
                "Pin `numpy<2` in the environment (in a profile: numpy<2 with the framework), "
                "or upgrade the module to a release built for NumPy 2."
            )
        elif "multiarray failed to import" in low or "dtype size changed" in low or api:
            meaning = (
                "NumPy and a compiled module disagree about NumPy's C ABI: the module was "
                "built against another NumPy than the installed one."
            )
            fix = (
                "If NumPy 2 is installed and the module was built for NumPy 1.x, pin "
                "`numpy<2` (or upgrade the module); if the module needs a newer NumPy, "
                "upgrade NumPy (`pip install -U numpy`)."
            )
        else:
            return
        self._found["numpy"] = finding(
            id="numpy.abi",
            line=hit.number,
            excerpt=text,
            meaning=meaning,
            fix=fix,
            sources=NUMPY_SOURCES,
        )

    def findings(self) -> list[Match]:
        if self._conda is not None:
            self._add("conda", self._conda_finding(*self._conda))
        return list(self._found.values())

    def _conda_finding(self, line: int, text: str, what: str, needed: str | None) -> Match:
        """The __cuda finding, against the CUDA the driver reports where the log shows it
        (nvidia-smi's "CUDA Version"): enough, and the solver simply does not see it."""
        driver = self._driver_cuda
        meaning = (
            f"The solver needs the __cuda virtual package for {what} (a CUDA build) and "
            "this machine reports none, or a lower CUDA than it needs: no NVIDIA driver where "
            "conda runs (a login node, a container build, a WSL distro without GPU access), "
            "or an older driver."
        )
        fix = (
            "Update the NVIDIA driver if it is too old; to install CUDA builds where no GPU is "
            "visible, set CONDA_OVERRIDE_CUDA to the CUDA version the target's driver supports "
            "for the install (e.g. `CONDA_OVERRIDE_CUDA=12.4 conda install ...`)."
        )
        if driver and needed and _version_tuple(driver) >= _version_tuple(needed):
            meaning = (
                f"The solver needs __cuda >= {needed} for {what}; the driver this log shows "
                f"supports CUDA {driver}, which is enough, but conda does not see it as __cuda "
                "where it runs (inside WSL or a container conda may not find the driver's "
                "libcuda)."
            )
            fix = (
                f"Set CONDA_OVERRIDE_CUDA={driver} for the install "
                f"(`CONDA_OVERRIDE_CUDA={driver} conda install ...`, or in the environment "
                "before `conda env create`): the driver supports it, the solver only cannot "
                "detect it."
            )
        elif driver and needed:
            meaning = (
                f"The solver needs __cuda >= {needed} for {what}; the driver this log shows "
                f"supports only CUDA {driver}."
            )
            fix = (
                f"Update the NVIDIA driver to one that supports CUDA {needed} or newer, or "
                f"install a build of {what.split('-')[0]} for CUDA {driver} or older."
            )
        return finding(
            id="conda.cuda-virtual",
            line=line,
            excerpt=text,
            meaning=meaning,
            fix=fix,
            sources=CONDA_SOURCES,
        )


_TF_LINUX = (
    "Install the CUDA and cuDNN versions this TensorFlow was built with (TensorFlow's "
    "tested-build table) and put their lib folders on LD_LIBRARY_PATH "
    "(TF_CPP_MAX_VLOG_LEVEL=3 names each library it could not load); TensorFlow 2.14+ on "
    "Linux: `pip install 'tensorflow[and-cuda]'` installs and finds them. Without an NVIDIA "
    "GPU the message is expected."
)
_TF_WINDOWS = (
    "Install the CUDA and cuDNN versions this TensorFlow was built with (TensorFlow's "
    "tested-build table; native Windows GPU support ends with TensorFlow 2.10, CUDA 11.2 "
    "and cuDNN 8.1) and put their bin folders on PATH; newer TensorFlow uses the GPU only "
    "inside WSL 2. Without an NVIDIA GPU the message is expected."
)
_TF_FIX = _TF_LINUX
_TF_FIXES = {"linux": _TF_LINUX, "wsl2": _TF_LINUX, "windows": _TF_WINDOWS}
