"""The profile's smoke-test values and the framework table's facts the script reads.
Stand-in defaults for type checking and unit tests: the rendered script defines these
names from the profile and ``provisioner/frameworks.py`` instead of this module."""

from __future__ import annotations

PROFILE = "example"
FRAMEWORK = "pytorch"
DEVICE = "cpu"
STEPS = 200
MIN_LOSS_DROP = 5.0
REQUIRE_ACCELERATOR = False
ENV_VARIABLES: dict[str, str] = {}
TOOL_VERSION = "0.0.0"
# From the framework table (provisioner/frameworks.py, ``script_values``).
DRIVER = "torch-eager"
DISTRIBUTIONS: list[str] = []
VISIBLE_DEVICES_VAR = {"dml": "DML_VISIBLE_DEVICES", "cuda": "CUDA_VISIBLE_DEVICES"}
ACCELERATOR_LABEL = {"dml": "DirectML", "cuda": "CUDA"}
