"""Parser for the ``nvidia-smi`` header and table (no arguments, as users run it).

Inside WSL the header shows a Linux-style ``NVIDIA-SMI 555.52.01`` but the *Windows*
driver (``Driver Version: 555.99``); that split is normal, not a mismatch.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from provisioner.host import patterns

_SMI = re.compile(r"NVIDIA-SMI\s+(\d+(?:\.\d+)+)")
_DRIVER = re.compile(r"Driver Version:\s*(\d+(?:\.\d+)+)")
_CUDA = re.compile(r"CUDA Version:\s*(\d+(?:\.\d+)+)")
_CUDA_ERROR = re.compile(patterns.SMI_CUDA_ERROR)
# The first cell of a GPU row: index, name, then the driver model (Windows) or the
# persistence mode (Linux/WSL) after two or more spaces.
_GPU_CELL = re.compile(r"^\s+(\d+)\s+(.+?)\s{2,}(WDDM|TCC|On|Off)\s*$")


@dataclass(frozen=True)
class SmiReport:
    """nvidia-smi's header: versions, GPU names and the driver model where the table shows it."""

    smi_version: str
    driver: str
    cuda: str | None
    gpus: tuple[str, ...]
    driver_model: str | None  # WDDM or TCC on native Windows; None where not shown


def parse_smi(output: str) -> SmiReport | None:
    """The parsed header, or None when the output is not an nvidia-smi table."""
    text = output.replace("\r", "")
    smi, driver = _SMI.search(text), _DRIVER.search(text)
    if not smi or not driver:
        return None
    cuda = _CUDA.search(text)
    gpus: list[str] = []
    models: set[str] = set()
    for line in text.splitlines():
        cells = line.split("|")
        m = _GPU_CELL.match(cells[1]) if line.startswith("|") and len(cells) > 2 else None
        if m:
            gpus.append(m.group(2).strip())
            if m.group(3) in {"WDDM", "TCC"}:
                models.add(m.group(3))
    model = "TCC" if "TCC" in models else ("WDDM" if models else None)
    return SmiReport(
        smi.group(1), driver.group(1), cuda.group(1) if cuda else None, tuple(gpus), model
    )


def cuda_error(output: str) -> bool:
    """Whether the header says ``CUDA Version: ERR!``: the table printed, CUDA is broken."""
    return bool(_CUDA_ERROR.search(output))


def failure_message(output: str) -> str:
    """The first meaningful line of a failed run (prompts such as ``$ nvidia-smi`` skipped)."""
    for line in output.replace("\r", "").splitlines():
        s = line.strip()
        if s and not s.startswith(("$", "#", ">")):
            return s
    return "nvidia-smi printed nothing"


# What doctor asks nvidia-smi for each GPU's compute capability (drivers from about R510
# answer compute_cap; older ones say `Field "compute_cap" is not a valid field to query.`).
QUERY_COMPUTE = ("--query-gpu=name,compute_cap", "--format=csv")


@dataclass(frozen=True)
class GpuCompute:
    """One GPU and its compute capability ("8.9"; None when not known)."""

    name: str
    capability: str | None


def parse_query(output: str) -> tuple[GpuCompute, ...] | None:
    """The GPUs of a ``--query-gpu=...name...compute_cap... --format=csv`` answer, read by its
    header (any column order); None when it is not such a table."""
    lines = [ln.strip() for ln in output.replace("\r", "").splitlines() if ln.strip()]
    if not lines:
        return None
    header = [h.strip().lower() for h in lines[0].split(",")]
    if "name" not in header or "compute_cap" not in header:
        return None
    name_at, cap_at = header.index("name"), header.index("compute_cap")
    out = []
    for line in lines[1:]:
        cells = [c.strip() for c in line.split(",")]
        if len(cells) != len(header):
            return None
        cap = cells[cap_at]
        out.append(GpuCompute(cells[name_at], cap if re.fullmatch(r"\d+\.\d+", cap) else None))
    return tuple(out)
