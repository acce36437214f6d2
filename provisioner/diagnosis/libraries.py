"""A library that cannot be loaded: which library, which version, who provides it.

The log line names the library ("libcudart.so.11.0: cannot open shared object file",
"Could not load dynamic library 'cudnn64_8.dll'", "Error: libcuda.so: cannot open",
"version `GLIBC_2.28' not found"); ``data/libraries.yaml`` says who provides it (the
NVIDIA driver, the CUDA runtime of that version, cuDNN, the distribution, the Visual
C++ runtime, the framework itself). When the loader names the library that is really
missing (``dlerror: X``, ``Error: X``), that one is diagnosed, not the one that needed it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

from provisioner import yamlfast
from provisioner.diagnosis.base import finding
from provisioner.logscan import Hit
from provisioner.signatures import TARGETS, CatalogueError, Match

ANCHORS = (
    "cannot open shared object file",
    "could not load dynamic library",
    "could not load library",
    "error while loading shared libraries",
    "failed to dlopen",
    "not found (required by",
    "' not found",
    "’ not found",
    "winerror 1114",
    # the TensorFlow version a log states: which CUDA/cuDNN that release was built with
    "tensorflow version",
    "tensorflow==",
    "tensorflow-gpu==",
)

_NAME = r"[A-Za-z0-9_.+-]+"
# The library the loader says is missing, most specific form first.
_MISSING = [
    re.compile(rf"dlerror:\s*({_NAME}):\s*cannot\s+open"),
    re.compile(rf"dlerror:\s*({_NAME}\.dll)\s+not\s+found", re.I),
    re.compile(rf"Could\s+not\s+load\s+library\s+{_NAME}\.\s+Error:\s*({_NAME}):", re.I),
    re.compile(rf"({_NAME}\.so(?:\.[0-9.]+)?)\s*:\s*cannot\s+open\s+shared\s+object", re.I),
    re.compile(rf"error\s+while\s+loading\s+shared\s+libraries:\s*({_NAME})", re.I),
    re.compile(rf"Failed\s+to\s+dlopen\s+({_NAME})", re.I),
    re.compile(rf"Could\s+not\s+load\s+dynamic\s+library\s+'({_NAME})'", re.I),
    re.compile(rf"Could\s+not\s+load\s+library\s+({_NAME}?)\.?(?:\s|$)", re.I),
    re.compile(
        r"WinError\s+1114\].{0,300}?Error\s+loading\s+\"[^\"]*?([A-Za-z0-9_.-]+\.dll)\"", re.I
    ),
]
_GLIBC = re.compile(r"GLIBC?\s?_(\d+\.\d+)\W{0,3}\s*not\s+found", re.I)
_GLIBCXX = re.compile(r"(GLIBCXX|CXXABI)_(\d+(?:\.\d+)+)\W{0,3}\s*not\s+found", re.I)
_REQUIRED_BY = re.compile(r"required\s+by\s+([^)\s]+)", re.I)
_TENSORFLOW = re.compile(
    r"\btensorflow(?:[-_]gpu)?(?:\s+version\s*:?|==)\s*v?(\d+\.\d+)(?:\.\d+)?\b", re.I
)

GLIBC_SOURCES = ("https://sourceware.org/glibc/wiki/Glibc%20Timeline",)
LIBSTDCXX_SOURCES = ("https://gcc.gnu.org/onlinedocs/libstdc++/manual/abi.html",)


@dataclass(frozen=True)
class LibraryRow:
    id: str
    match: re.Pattern[str]
    severity: str
    meaning: str
    fix: str
    fixes: dict[str, str]
    sources: tuple[str, ...]
    version: str | None
    package: str | None


@cache
def table() -> tuple[LibraryRow, ...]:
    """``data/libraries.yaml``, compiled."""
    text = resources.files("provisioner").joinpath("data/libraries.yaml").read_text("utf-8")
    rows = []
    for e in yamlfast.safe_load(text):
        fixes = e.get("fixes") or {}
        if not set(fixes) <= set(TARGETS) or not e.get("sources"):
            raise CatalogueError(f"libraries.yaml {e.get('match')}: bad fixes or no sources")
        rows.append(
            LibraryRow(
                id=str(e["id"]),
                match=re.compile(str(e["match"])),
                severity=str(e.get("severity", "fail")),
                meaning=str(e["meaning"]),
                fix=str(e["fix"]),
                fixes={str(k): str(v) for k, v in fixes.items()},
                sources=tuple(str(s) for s in e["sources"]),
                version=e.get("version"),
                package=e.get("package"),
            )
        )
    return tuple(rows)


def row_for(lib: str) -> LibraryRow | None:
    name = lib.lower()
    return next((r for r in table() if r.match.search(name)), None)


# Sonames that do not follow the CUDA major version (NVIDIA's release notes list each
# component's version per CUDA release).
_CUDA_BY_SONAME = {
    ("libcufft", "10"): "10.1–11.x",
    ("libcufft", "11"): "12",
    ("libcufft", "12"): "13",
    ("libcurand", "10"): "10.1–12.x",
    ("libcusolver", "10"): "10.1–11.0",
    ("libcusolver", "11"): "11.1–12.x",
    ("libcusolver", "12"): "13",
}
# The pip wheel NVIDIA ships each CUDA runtime component in: <name>-cu11 / -cu12 for
# CUDA 11 and 12, the bare name from CUDA 13 on (https://pypi.org/project/nvidia-cusolver-cu11/,
# https://pypi.org/project/nvidia-cusolver/); CUDA 10 and older have no wheels.
_WHEEL = {
    "libcudart": "nvidia-cuda-runtime",
    "libcublas": "nvidia-cublas",
    "libcublaslt": "nvidia-cublas",
    "libcufft": "nvidia-cufft",
    "libcurand": "nvidia-curand",
    "libcusolver": "nvidia-cusolver",
    "libcusparse": "nvidia-cusparse",
    "libnvrtc": "nvidia-cuda-nvrtc",
    "libnvjitlink": "nvidia-nvjitlink",
    "libcupti": "nvidia-cuda-cupti",
    "libnvtoolsext": "nvidia-nvtx",
}
_FRAMEWORK = (("libtorch", "torch"), ("libc10", "torch"), ("libtensorflow", "tensorflow"))


def cuda_version(lib: str) -> str:
    """The CUDA version a runtime library's file name says ("11.x", "10.1", "12")."""
    name = lib.lower()
    m = re.match(r"(lib[a-z]+)\.so\.(\d+)(?:\.(\d+))?", name)
    if m:
        base, major, minor = m.groups()
        if (base, major) in _CUDA_BY_SONAME:
            return _CUDA_BY_SONAME[(base, major)]
        if minor is not None and int(major) <= 10:
            return f"{major}.{minor}"
        return f"{major}.x" if minor is not None else major
    m = re.match(r"[a-z]+64_(\d+)", name)  # Windows: cudart64_101.dll, cublas64_11.dll
    if m:
        digits = m.group(1)
        if len(digits) == 3:
            major, minor = digits[:2], digits[2]
            return f"{major}.x" if minor == "0" and int(major) >= 11 else f"{major}.{minor}"
        return digits
    return ""


def major_version(lib: str) -> str:
    m = re.search(r"\.so\.(\d+)", lib) or re.search(r"64_(\d+)\.dll", lib, re.I)
    return m.group(1) if m else ""


def full_version(lib: str) -> str:
    """Every number after ``.so.`` ("libnvinfer.so.8.6.1" -> "8.6.1"), else the major."""
    m = re.search(r"\.so\.(\d+(?:\.\d+)*)", lib)
    return m.group(1) if m else major_version(lib)


def cuda_wheels(lib: str, cuda: str) -> str:
    """The pip wheels that ship ``lib`` for the CUDA majors ``cuda`` covers ("11.1–12.x":
    ``nvidia-cusolver-cu11`` for CUDA 11, ``nvidia-cusolver-cu12`` for CUDA 12); "" for
    a library without wheels or a CUDA before 11."""
    m = re.match(r"(lib[a-z]+)\.so", lib.lower())
    base = _WHEEL.get(m.group(1)) if m else None
    ends = [int(x) for x in re.findall(r"(\d+)(?:\.[\dx]+)?", cuda)]
    if re.search(r"–\d+\.0$", cuda):  # "10.1–11.0": X.0 alone predates the wheels
        ends[-1] -= 1
    majors = [n for n in range(min(ends), max(ends) + 1) if n >= 11] if ends else []
    if base is None or not majors:
        return ""
    names = [f"`{base}-cu{n}`" if n < 13 else f"`{base}`" for n in majors]
    if len(names) == 1:
        return f"pip: {names[0]}"
    return "pip: " + ", ".join(f"{w} for CUDA {n}" for w, n in zip(names, majors, strict=True))


def framework_of(lib: str) -> str:
    name = lib.lower()
    return next((f for prefix, f in _FRAMEWORK if name.startswith(prefix)), "the framework")


def debian_package(lib: str) -> str:
    """Debian's name for the package of a shared library: lib<name><soversion>, with a
    hyphen when the name ends in a digit (Debian policy 8.1)."""
    m = re.match(r"(lib[a-z0-9_.+-]*?)\.so(?:\.(\d+))?", lib.lower())
    if not m:
        return lib
    name, soversion = m.groups()
    if soversion is None:
        return f"{name}-dev"
    return f"{name}-{soversion}" if name[-1].isdigit() else f"{name}{soversion}"


def missing_library(text: str) -> str | None:
    for pattern in _MISSING:
        m = pattern.search(text)
        if m:
            return m.group(1).rstrip(".")
    return None


class Libraries:
    """The library family: one finding per kind of provider, at its first line."""

    anchors: tuple[str, ...] = ANCHORS

    def __init__(self) -> None:
        self._seen: dict[str, tuple[LibraryRow, list[str], int, str]] = {}
        self._glibc: tuple[int, str, str, str] | None = None
        self._cxx: tuple[int, str, str, str] | None = None
        self._tensorflow: str | None = None

    def observe(self, hit: Hit, low: str) -> None:
        text = hit.text
        if self._tensorflow is None and "tensorflow" in low and (m := _TENSORFLOW.search(text)):
            self._tensorflow = m.group(1)
        if "not found" in low:
            if self._glibc is None and (m := _GLIBC.search(text)):
                self._glibc = (hit.number, text, m.group(1), _required_by(text))
            if self._cxx is None and (m := _GLIBCXX.search(text)):
                self._cxx = (hit.number, text, f"{m.group(1)}_{m.group(2)}", _loaded_from(text))
        lib = missing_library(text)
        if lib is None:
            return
        row = row_for(lib)
        if row is None:
            return
        key = f"{row.id}:{row.match.pattern}" if row.id == "lib.system" else row.id
        if key in self._seen:
            libs = self._seen[key][1]
            if lib not in libs and len(libs) < 5:
                libs.append(lib)
            return
        self._seen[key] = (row, [lib], hit.number, text)

    def findings(self) -> list[Match]:
        out = [self._library(*v) for v in self._seen.values()]
        if self._glibc is not None:
            line, text, version, program = self._glibc
            out.append(
                finding(
                    id="lib.glibc-too-old",
                    line=line,
                    excerpt=text,
                    meaning=f"{program} was built against glibc {version} (GLIBC_{version}), "
                    "newer than this system's C library: the distribution is too old for it.",
                    fix=f"Run it on a distribution with glibc {version} or newer (e.g. a newer "
                    "Ubuntu release, or in a container of one), or install a build of the "
                    "package made for older systems (a manylinux wheel, an older release).",
                    sources=GLIBC_SOURCES,
                )
            )
        if self._cxx is not None:
            line, text, symbol, loaded = self._cxx
            version = symbol.split("_", 1)[1]
            out.append(
                finding(
                    id="lib.libstdcxx-too-old",
                    line=line,
                    excerpt=text,
                    meaning=f"The C++ runtime loaded ({loaded}) has no {symbol}: a module was "
                    "built with a newer GCC than that libstdc++.so.6, often because an older "
                    "copy (the system's, or an environment's) is found first.",
                    fix=f"Make a libstdc++ with {symbol} (GLIBCXX {version}) load first: in a "
                    "conda environment `conda install -c conda-forge libstdcxx-ng` and put "
                    "$CONDA_PREFIX/lib first on LD_LIBRARY_PATH (or remove an older copy that "
                    "shadows a newer one); otherwise a newer libstdc++6 from the distribution, "
                    "or a build of the module for this system.",
                    sources=LIBSTDCXX_SOURCES,
                )
            )
        return out

    def _library(self, row: LibraryRow, libs: list[str], line: int, text: str) -> Match:
        lib = libs[0]
        version = ""
        if row.version == "cuda":
            version = cuda_version(lib)
        elif row.version == "major":
            version = major_version(lib)
        elif row.version == "full":
            version = full_version(lib)
        values = {
            "lib": lib,
            "version": version or "(the version it was built for)",
            "major": version.split(".")[0] if version and version[0].isdigit() else "XX",
            "package": debian_package(lib) if row.package == "generic" else row.package or "",
            "cuda": f"CUDA {version}"
            if version
            else "the CUDA version the framework was built for",
            "framework": framework_of(lib),
        }
        tested = self._tested(row.id, version)
        if tested is not None:
            values["cuda"] = f"CUDA {tested[0]}" if row.id == "lib.cuda-runtime" else values["cuda"]
            values["version"] = tested[1] if row.id == "lib.cudnn" else values["version"]
        wheels = cuda_wheels(lib, version)
        values["provider"] = (
            f"{wheels}, or the {values['cuda']} toolkit's lib64"
            if wheels
            else f"the {values['cuda']} toolkit's lib64, or conda's cudatoolkit"
        )
        meaning = row.meaning.format(**values)
        sources = row.sources
        if tested is not None:
            meaning += (
                f" TensorFlow {tested[2]} (the version this log states) was built and tested "
                f"with CUDA {tested[0]} and cuDNN {tested[1]}."
            )
            sources = (*sources, tested[3])
        if len(libs) > 1:
            meaning += f" Also missing: {', '.join(libs[1:])}."
        fixes = {k: v.format(**values) for k, v in row.fixes.items()}
        # a DLL's name says the log came from Windows, whatever --target says nothing of
        fix = fixes["windows"] if lib.lower().endswith(".dll") and "windows" in fixes else None
        return finding(
            id=row.id,
            line=line,
            excerpt=text,
            meaning=meaning,
            fix=fix or row.fix.format(**values),
            fixes=fixes,
            sources=sources,
            severity=row.severity,
        )

    def _tested(self, row_id: str, version: str) -> tuple[str, str, str, str] | None:
        """(cuda, cudnn, tensorflow, source) of the TensorFlow release the log states,
        when the missing library's version agrees with it (the same CUDA / cuDNN major)."""
        if self._tensorflow is None or row_id not in ("lib.cuda-runtime", "lib.cudnn"):
            return None
        from provisioner.compatdata.nvidia import tensorflow_build

        build = tensorflow_build(self._tensorflow)
        if build is None or not version:
            return None
        ours = build.cuda if row_id == "lib.cuda-runtime" else build.cudnn
        majors = re.findall(r"(\d+)(?:\.[\dx]+)?", version)
        if ours.split(".")[0] not in majors:
            return None
        return build.cuda, build.cudnn, build.tensorflow, build.source


def _required_by(text: str) -> str:
    m = _REQUIRED_BY.search(text)
    return m.group(1) if m else "A program or module"


def _loaded_from(text: str) -> str:
    m = re.search(r"([^\s:`'\"]*libstdc\+\+\.so\.6)", text)
    return m.group(1) if m else "libstdc++.so.6"
