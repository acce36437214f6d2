"""The workload: a linear map with a known answer, and the log patterns it reads."""

from __future__ import annotations

import re
import time

SCRIPT_START = time.perf_counter()

SCHEMA = "provision.smoke/1"
STAGES = ("import", "device", "placement", "training", "speed")
SEED = 20240611
FEATURES = 256
OUTPUTS = 256
BATCH = 1024
LEARNING_RATE = 0.25
NOISE = 0.01
INTEGRATED_GPU_RE = re.compile(
    r"\b(UHD|HD Graphics|Iris|Vega \d+ Graphics|Radeon\(TM\) Graphics|Basic Render)\b", re.I
)
DML_FOUND_RE = re.compile(r"DirectML device enumeration: found (\d+) compatible adapters")
DML_ADAPTER_RE = re.compile(r"DirectML: creating device on adapter (\d+) \((.*)\)\s*$", re.M)
# Graph mode: "MatMul: (MatMul): /job:localhost/.../device:DML:0"; eager mode:
# "Executing op Add in device /job:localhost/.../device:CPU:0".
PLACEMENT_RE = re.compile(
    r"(?:^|\] )([\w/.-]+): \((\w+)\): /job:[^\s]*?/device:(\w+):(\d+)\s*$"
    r"|Executing op (\w+) in device /job:[^\s]*?/device:(\w+):(\d+)",
    re.M,
)
DML_FALLBACK_RE = re.compile(
    r"The operator '([^']+)' is not currently supported on the\s+DML\s+backend", re.M
)
# Ops that carry the training work: on an accelerator run they must not be on the CPU.
COMPUTE_OPS = ("MatMul", "ApplyGradientDescent", "ResourceApplyGradientDescent")
