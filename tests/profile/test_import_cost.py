"""``provision validate`` keeps heavy modules off its path (a behaviour test, not timing).

The cold start of validate is benchmarked (benchmarks/bench_validate.py); what
keeps it fast is that the solver, the lockfile library, rich and frameworks are
imported only by the commands that use them.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HEAVY = ("rattler", "conda_lock", "rich", "torch", "tensorflow", "numpy", "requests", "uv")

PROBE = """
import json, sys
from provisioner.cli import main
code = main(["validate", *sys.argv[1:]])
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def test_validate_imports_nothing_heavy() -> None:
    profiles = sorted(str(p) for p in (REPO / "profiles").rglob("*.yaml"))
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *profiles],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
    )
    result = json.loads(done.stdout.splitlines()[-1])
    assert result["code"] == 0
    loaded = {m.split(".")[0] for m in result["modules"]}
    assert "provisioner" in loaded and "pydantic" in loaded  # the probe did real work
    assert not loaded & set(HEAVY), f"heavy modules on the validate path: {loaded & set(HEAVY)}"
