"""A stand-in framework path for the smoke script's stages: no GPU or DirectML adapter
exists on this machine, so the framework (and only it) is replaced by one whose every
answer a test chooses. Used in-process by ``tests/smoke/test_stages.py`` and as a process
(:func:`stand_in_python`) by ``test_script_main.py`` and ``test_cli_exit_codes.py``."""

from __future__ import annotations

import os
import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from provisioner.target.smoke import frameworks
from provisioner.target.smoke.decisions import Device, Placement
from provisioner.target.smoke.plumbing import training_run

GPU0: Device = {"index": 0, "name": "NVIDIA GeForce RTX 3050 Laptop GPU", "kind": "cuda"}
GPU1: Device = {"index": 1, "name": "NVIDIA RTX A4000", "kind": "cuda"}
ON_GPU: list[Placement] = [
    ("pred = x @ w", "MatMul", "GPU", 0),
    ("w after the SGD step", "ApplyGradientDescent", "GPU", 0),
    ("loss", "Mean", "GPU", 0),
]
MATMUL_ON_CPU: list[Placement] = [("pred = x @ w", "MatMul", "CPU", 0), ("loss", "Mean", "GPU", 0)]


@dataclass
class Scenario:
    """What the stand-in framework does at each call the stages make."""

    import_error: Exception | None = None
    devices: list[Device] | Exception = field(default_factory=lambda: [GPU0])
    round_trip_error: Exception | None = None
    train_error: Exception | None = None
    loss: tuple[float, float] = (256.0, 0.5)
    expected_first: float = 256.0
    rate: float = 900.0  # steps/s of the accelerator run
    cpu_rate: float | Exception = 300.0  # steps/s of a CPU run or the CPU baseline
    placed: list[Placement] = field(default_factory=lambda: list(ON_GPU))
    fallback_ops: list[str] = field(default_factory=list)
    train_calls: list[str] = field(default_factory=list)
    native_log: str = ""  # written to file descriptor 2, as a C++ library logs
    broken_result: bool = False  # train returns a result without its keys (a bug)


class StandInFramework(frameworks.TorchEager):
    """A framework path that reads its behaviour from :attr:`scenario`."""

    scenario: ClassVar[Scenario] = Scenario()

    def import_framework(self) -> tuple[str, dict[str, str]]:
        if self.scenario.native_log:
            os.write(2, self.scenario.native_log.encode())
        if self.scenario.import_error is not None:
            raise self.scenario.import_error
        return "2.13.0", {"cuda": "12.1"}

    def list_devices(self, requested: str) -> list[Device]:
        devices = self.scenario.devices
        if isinstance(devices, Exception):
            raise devices
        if not devices:
            self.no_device_reason = "torch.cuda.is_available() is False (torch 2.13.0, CUDA 12.1)"
        self.adapters = [dict(d) for d in devices]
        self.device_libraries = {"cudnn": "90100"} if devices else {}
        return list(devices)

    def round_trip(self, device: Device | None) -> str | None:
        if self.scenario.round_trip_error is not None:
            raise self.scenario.round_trip_error
        return None if device is None else f"cuda:{device['index']}"

    def train(self, device: Device | None, steps: int, capture_placement: bool) -> dict[str, Any]:
        s = self.scenario
        s.train_calls.append("cpu" if device is None else f"cuda:{device['index']}")
        if s.train_error is not None:
            raise s.train_error
        if device is None:
            if isinstance(s.cpu_rate, Exception):
                raise s.cpu_rate
            rate = s.cpu_rate
        else:
            rate = s.rate
        if s.broken_result:
            return {}
        placed = s.placed if capture_placement else []
        timing = (s.loss[0], s.loss[1], 0.01, rate, 1.0)
        return training_run(timing, s.expected_first, 0.002, placed, s.fallback_ops)


# Scenarios for the script run as a process (main(): exit code, JSON file, stderr file).
PRESETS: dict[str, Scenario] = {
    "pass": Scenario(native_log="I tensorflow/core: DirectML: creating device on adapter 0\n"),
    "no-device": Scenario(devices=[]),
    "bug": Scenario(broken_result=True),
    "two-gpus": Scenario(devices=[GPU1, GPU0]),
    # Log lines as the real libraries print them (signatures.yaml cites their sources).
    "no-kernel-image": Scenario(
        native_log="RuntimeError: CUDA error: no kernel image is available for execution "
        "on the device\n"
    ),
    "numa": Scenario(
        native_log="I tensorflow/core: could not open file to read NUMA node: "
        "/sys/bus/pci/devices/0000:01:00.0/numa_node\n"
    ),
}
# Runs the real ``stages.main`` with the stand-in: argv is REPO-ROOT PRESET ARGS.
DRIVER = """
import sys
sys.path.insert(0, sys.argv[1])
import tests.support.stand_in_framework as t
from provisioner.target.smoke import frameworks, stages
t.StandInFramework.scenario = t.PRESETS[sys.argv[2]]
frameworks.DRIVERS["torch-eager"] = t.StandInFramework
sys.exit(stages.main(sys.argv[3:]))
"""


def stand_in_python(folder: Path, preset: str, *extra: str) -> Path:
    """An executable that stands in for an environment's Python: called as
    ``python -I -u smoke_test.py ARGS``, it runs the real smoke stages with the stand-in
    framework ``preset`` and ARGS (then ``extra``, e.g. ``--device cuda``), as the
    rendered script would."""
    path = folder / f"python-{preset}"
    here = Path(__file__).resolve().parents[2]
    path.write_text(
        "#!/bin/sh\n"
        "# stand-in for an environment's python (no GPU framework here): drop -I -u SCRIPT\n"
        "shift 3\n"
        f"exec '{sys.executable}' -c '{DRIVER}' '{here}' '{preset}' \"$@\" {shlex.join(extra)}\n",
        encoding="utf-8",
    )
    path.chmod(0o755)
    return path
