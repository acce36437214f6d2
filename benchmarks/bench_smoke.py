"""Smoke-test harness overhead: ``run_smoke`` (render, child process, stages, JSON,
diagnosis) against a bare training loop of the same steps in the same torch CPU venv,
measured in the same run. Framework import time is measured too and taken out of
both, since the harness cannot make ``import torch`` faster. Target: < 1.10x.

Each of the three is run REPEAT times, interleaved, and the fastest run counts: on a
shared 2-core machine the other runs measure the neighbours, not the harness.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks._timing import report

REPO = Path(__file__).resolve().parent.parent
STEPS = 200
REPEAT = 5

PROFILE = f"""\
name: bench-torch-cpu
target: {{os: linux, arch: x86_64}}
requires: {{gpu: {{api: none}}}}
environment: {{manager: venv, name: bench-torch-cpu, python: "3.11", pip: ["torch==2.13.0"]}}
smoke_test: {{framework: pytorch, device: cpu, steps: {STEPS}, require_accelerator: false}}
"""

# The same workload as smoke_test.py's torch path, with nothing around it.
BARE_LOOP = f"""
import math, time
start = time.perf_counter()
import torch
imported = time.perf_counter()
g = torch.Generator().manual_seed(20240611)
x = torch.randn(1024, 256, generator=g)
w_true = torch.randn(256, 256, generator=g) / math.sqrt(256)
y = x.matmul(w_true) + 0.01 * torch.randn(1024, 256, generator=g)
w = torch.zeros(256, 256, requires_grad=True)
opt = torch.optim.SGD([w], lr=0.25)
for i in range({STEPS}):
    opt.zero_grad()
    loss = ((x.matmul(w) - y) ** 2).sum(1).mean()
    loss.backward()
    opt.step()
    if i == 0:
        first = float(loss.item())
        first_done = time.perf_counter()
print(first, float(loss.item()), first_done - start)
"""


def torch_venv() -> Path:
    """The torch 2.13.0 CPU venv the tests cache, or one built for the benchmark."""
    for marker in sorted((REPO / ".cache" / "tests" / "venvs").glob("*/provision-test-venv.json")):
        if json.loads(marker.read_text())["requirements"] == ["torch==2.13.0"]:
            return marker.parent / "bin" / "python"
    target = REPO / ".cache" / "bench" / "torch-cpu"
    python = target / "bin" / "python"
    if not python.exists():
        base = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
        subprocess.run(
            [str(base / "versions/3.11.7/bin/python"), "-m", "venv", str(target)], check=True
        )
        subprocess.run([str(python), "-m", "pip", "install", "-q", "torch==2.13.0"], check=True)
    return python


def wall(argv: list[str]) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, check=True)
    return time.perf_counter() - start, done.stdout


def main() -> None:
    from provisioner.profile import load_profile
    from provisioner.smoke import run_smoke

    python = torch_venv()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.yaml"
        path.write_text(PROFILE)
        resolved = load_profile(path)
        wall([str(python), "-c", "import torch"])  # warm the page cache
        imports, bares, ours, bare_first, our_first = [], [], [], [], []
        for _ in range(REPEAT):  # interleaved, so load changes hit all three alike
            imports.append(wall([str(python), "-I", "-c", "import torch"])[0])
            seconds, out = wall([str(python), "-I", "-c", BARE_LOOP])
            bares.append(seconds)
            bare_first.append(float(out.split()[2]))
            start = time.perf_counter()
            result = run_smoke(resolved, python)
            ours.append(time.perf_counter() - start)
            assert result.passed, result.reason
            our_first.append(result.time_to_first_step_s or 0.0)
    imp, bare, smoke = (min(v) for v in (imports, bares, ours))
    print(
        f"torch CPU, {STEPS} steps: import torch {imp:.2f} s, bare loop {bare:.2f} s, "
        f"smoke test {smoke:.2f} s (steps/s in the smoke test: {result.steps_per_s})"
    )
    report("smoke harness beyond import", smoke - imp, bare - imp, "bare loop", "< 1.10x")
    report(
        "time to first step",
        min(our_first),
        min(bare_first),
        "bare loop",
        "informational",
    )


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    main()
