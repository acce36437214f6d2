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
