"""Per-framework notes for the smoke test: how each path reaches its accelerator,
how the device is chosen when several are visible, and what proves placement.

Read by the summary and the documentation; the rendered script carries the same
rules (``VISIBLE_DEVICES_VAR`` in ``smoke/script/workload.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

from provisioner.profile import Device, Framework


@dataclass(frozen=True)
class FrameworkNotes:
    """What a user needs to know about one framework path of the smoke test."""

    framework: Framework
    mode: str  # how the script drives the framework
    devices: str  # what lists the accelerators
    placement: str  # what proves the ops ran on the device
    caveat: str  # the known trap on this path


NOTES: dict[Framework, FrameworkNotes] = {
    Framework.tensorflow_directml: FrameworkNotes(
        Framework.tensorflow_directml,
        "TF 1.15 graph mode through tensorflow.compat.v1 (Python 3.5-3.7)",
        "DirectML's log 'found N compatible adapters' and device_lib's DML devices",
        "log_device_placement: MatMul and the gradient update on /device:DML:0",
        "with 0 adapters TensorFlow silently trains on the CPU",
    ),
    Framework.tensorflow_directml_plugin: FrameworkNotes(
        Framework.tensorflow_directml_plugin,
        "TF 2 through tensorflow.compat.v1 graph mode; the plugin registers as GPU",
        "device_lib's GPU devices",
        "log_device_placement: MatMul and the gradient update on /device:GPU:0",
        "tensorflow-cpu 2.11+ does not load the plugin (pin 2.10.*)",
    ),
    Framework.tensorflow: FrameworkNotes(
        Framework.tensorflow,
        "TF 2 through tensorflow.compat.v1 graph mode",
        "device_lib's GPU devices (CUDA build)",
        "log_device_placement: MatMul and the gradient update on /device:GPU:0",
        "a CPU-only wheel lists no GPU",
    ),
    Framework.pytorch: FrameworkNotes(
        Framework.pytorch,
        "eager PyTorch",
        "torch.cuda.is_available() and torch.cuda.get_device_name(i)",
        "a tensor round-trip, then the device of the parameters, outputs and loss",
        "is_available() can be True while every allocation fails",
    ),
    Framework.torch_directml: FrameworkNotes(
        Framework.torch_directml,
        "eager PyTorch on torch_directml.device() (privateuseone)",
        "torch_directml.device_count() and device_name(i)",
        "tensor devices plus the 'fall back to run on the CPU' warnings",
        "unsupported operators silently run on the CPU",
    ),
}

VISIBLE_DEVICES_VAR: dict[Device, str] = {
    Device.dml: "DML_VISIBLE_DEVICES",
    Device.cuda: "CUDA_VISIBLE_DEVICES",
}


def selection_rule(device: Device) -> str:
    """The documented rule for choosing among several visible devices."""
    var = VISIBLE_DEVICES_VAR.get(device)
    if var is None:
        return "the CPU is used"
    return (
        f"the framework's device 0 among the visible ones; set {var}=<index> "
        "(in environment.variables or the shell) to choose another"
    )
