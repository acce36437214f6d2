"""The framework table: what each smoke-test framework *is*, in one place.

Read by the profile model (the :class:`Framework` and :class:`Device` names a profile may
use), the verify stage (the module an import check imports), the smoke script's packer
(which driver of ``provisioner/target/smoke/frameworks.py`` runs it, which distributions
it reports, the variable that picks a device) and the smoke summary (how each path
reaches its accelerator, and its known trap).

Identity only: which versions, Pythons, targets and pins go together is compatibility,
and lives in ``provisioner/data/compat.yaml`` as rules keyed by the framework's id (the
enum's value). Standard library only, so every layer may read it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Framework(str, enum.Enum):
    tensorflow_directml = "tensorflow-directml"
    tensorflow_directml_plugin = "tensorflow-directml-plugin"
    tensorflow = "tensorflow"
    pytorch = "pytorch"
    torch_directml = "torch-directml"


class Device(str, enum.Enum):
    dml = "dml"
    cuda = "cuda"
    cpu = "cpu"


# The smoke script's drivers (classes in provisioner/target/smoke/frameworks.py).
Driver = str
TF_GRAPH: Driver = "tf-graph"
TORCH_EAGER: Driver = "torch-eager"


@dataclass(frozen=True)
class FrameworkFacts:
    """One framework path of the smoke test."""

    framework: Framework
    module: str  # what ``import`` names it in the environment (the import check)
    distributions: tuple[str, ...]  # the PyPI names whose versions the smoke test reports
    devices: tuple[Device, ...]  # what its smoke test can train on
    driver: Driver  # which driver of the smoke script runs it
    mode: str  # how the script drives the framework
    listing: str  # what lists the accelerators
    placement: str  # what proves the ops ran on the device
    caveat: str  # the known trap on this path


FRAMEWORKS: dict[Framework, FrameworkFacts] = {
    f.framework: f
    for f in (
        FrameworkFacts(
            Framework.tensorflow_directml,
            "tensorflow",
            ("tensorflow-directml",),
            (Device.dml, Device.cpu),
            TF_GRAPH,
            "TF 1.15 graph mode through tensorflow.compat.v1 (Python 3.5-3.7)",
            "DirectML's log 'found N compatible adapters' and device_lib's DML devices",
            "log_device_placement: MatMul and the gradient update on /device:DML:0",
            "with 0 adapters TensorFlow silently trains on the CPU",
        ),
        FrameworkFacts(
            Framework.tensorflow_directml_plugin,
            "tensorflow",
            ("tensorflow-directml-plugin", "tensorflow-cpu", "tensorflow"),
            (Device.dml, Device.cpu),
            TF_GRAPH,
            "TF 2 through tensorflow.compat.v1 graph mode; the plugin registers as GPU",
            "device_lib's GPU devices",
            "log_device_placement: MatMul and the gradient update on /device:GPU:0",
            "tensorflow-cpu 2.11+ does not load the plugin (pin 2.10.*)",
        ),
        FrameworkFacts(
            Framework.tensorflow,
            "tensorflow",
            ("tensorflow", "tensorflow-cpu"),
            (Device.cuda, Device.cpu),
            TF_GRAPH,
            "TF 2 through tensorflow.compat.v1 graph mode",
            "device_lib's GPU devices (CUDA build)",
            "log_device_placement: MatMul and the gradient update on /device:GPU:0",
            "a CPU-only wheel lists no GPU",
        ),
        FrameworkFacts(
            Framework.pytorch,
            "torch",
            (),
            (Device.cuda, Device.cpu),
            TORCH_EAGER,
            "eager PyTorch",
            "torch.cuda.is_available() and torch.cuda.get_device_name(i)",
            "a tensor round-trip, then the device of the parameters, outputs and loss",
            "is_available() can be True while every allocation fails",
        ),
        FrameworkFacts(
            Framework.torch_directml,
            "torch_directml",
            ("torch-directml",),
            (Device.dml, Device.cpu),
            TORCH_EAGER,
            "eager PyTorch on torch_directml.device() (privateuseone)",
            "torch_directml.device_count() and device_name(i)",
            "tensor devices plus the 'fall back to run on the CPU' warnings",
            "unsupported operators silently run on the CPU",
        ),
    )
}

# Device selection: each framework numbers the visible devices from 0 and uses 0 unless
# told otherwise; these variables choose which devices are visible.
VISIBLE_DEVICES_VAR: dict[Device, str] = {
    Device.dml: "DML_VISIBLE_DEVICES",
    Device.cuda: "CUDA_VISIBLE_DEVICES",
}
ACCELERATOR_LABEL: dict[Device, str] = {Device.dml: "DirectML", Device.cuda: "CUDA"}


def selection_rule(device: Device) -> str:
    """The documented rule for choosing among several visible devices."""
    var = VISIBLE_DEVICES_VAR.get(device)
    if var is None:
        return "the CPU is used"
    return (
        f"the framework's device 0 among the visible ones; set {var}=<index> "
        "(in environment.variables or the shell) to choose another"
    )


def script_values(framework: Framework) -> dict[str, object]:
    """What the smoke script reads of this table (``target/smoke/profile.py``'s names)."""
    facts = FRAMEWORKS[framework]
    return {
        "DRIVER": facts.driver,
        "DISTRIBUTIONS": list(facts.distributions),
        "VISIBLE_DEVICES_VAR": {d.value: v for d, v in VISIBLE_DEVICES_VAR.items()},
        "ACCELERATOR_LABEL": {d.value: v for d, v in ACCELERATOR_LABEL.items()},
    }
