"""The no-op apply against the floor of its stack, measured in this run.

The stack floor is what any run of provision pays before it does anything of its own:
a Python that imports PyYAML and jinja2 and validates one pydantic model. A no-op
apply (``provision apply profiles/cpu.yaml`` on a machine it already converged: torch
CPU + numpy in a venv, real smoke test) reads the profile, runs the host checks, reads
the state and the prefix fingerprint, and writes its report; target <= 1.5x the floor.
``provision --help`` is reported against the same floor.

Median of 15, the floor and the no-op interleaved (a shared machine's load hits both;
seven rounds left the ratio swinging 1.37x-1.58x between runs on a 2-vCPU VM).
Both run with their bytecode written (as an installed provision has it: pip compiles
it), so neither pays for compiling its sources; ``PYTHONDONTWRITEBYTECODE`` is dropped
for the timed commands.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from benchmarks._timing import report

REPO = Path(__file__).resolve().parent.parent
REPEAT = 15
TARGET = 1.5
FLOOR = (
    "import yaml, jinja2, pydantic\n"
    "class M(pydantic.BaseModel):\n"
    "    a: int\n"
    "M.model_validate({'a': 1})\n"
)


def _once(argv: Sequence[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(list(argv), check=True, capture_output=True, env=env, cwd=REPO)
    return time.perf_counter() - start


def interleaved(commands: dict[str, Sequence[str]], env: dict[str, str]) -> dict[str, list[float]]:
    """Wall times of each command, run in turn REPEAT times (after one warm run)."""
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for argv in commands.values():
        _once(argv, env)  # page cache and bytecode written; not counted
    for _ in range(REPEAT):
        for name, argv in commands.items():
            samples[name].append(_once(argv, env))
    return samples


def main() -> None:
    cpu = REPO / "profiles" / "cpu.yaml"
    with tempfile.TemporaryDirectory(prefix="bench-noop-") as tmp:
        env = {**os.environ, "PROVISION_HOME": str(Path(tmp) / "home")}
        env.pop("PIP_NO_INDEX", None)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "provisioner", "apply", str(cpu), "--quiet"],
            check=True,
            capture_output=True,
            env=env,
            cwd=REPO,
        )
        print(f"bench_noop: first apply (converge once) {time.perf_counter() - start:.1f}s")
        samples = interleaved(
            {
                "floor": [sys.executable, "-c", FLOOR],
                "noop": [sys.executable, "-m", "provisioner", "apply", str(cpu), "--quiet"],
                "help": [sys.executable, "-m", "provisioner", "--help"],
            },
            env,
        )
    times = {name: statistics.median(s) for name, s in samples.items()}
    floor_name = "stack floor (yaml + jinja2 + one pydantic model)"
    report("no-op apply", times["noop"], times["floor"], floor_name, f"<= {TARGET}x")
    report("provision --help", times["help"], times["floor"], floor_name, "< 1x")
    ratio = times["noop"] / times["floor"]
    # For reading a noisy machine, not for the verdict: each round's own ratio (the two
    # ran back to back) and the fastest of each.
    paired = statistics.median(
        n / f for n, f in zip(samples["noop"], samples["floor"], strict=True)
    )
    fastest = min(samples["noop"]) / min(samples["floor"])
    print(f"no-op apply: median of per-round ratios {paired:.2f}x, fastest runs {fastest:.2f}x")
    print(f"no-op apply: {ratio:.2f}x the stack floor ({'PASS' if ratio <= TARGET else 'FAIL'})")


if __name__ == "__main__":
    main()
