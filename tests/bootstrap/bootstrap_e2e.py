"""Support for the bootstrap-script tests: real profiles, real locks (local PyPI mirror and
local conda channels), folders rendered by `provision render`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import yaml

Renderer = Callable[..., Path]
LOCAL_INDEX = "file:///opt/pypi/simple"  # this machine's local PyPI mirror

# A stub smoke test, named as such: it stands in for the rendered smoke_test.py where
# the environment has no framework (the small pip set). It imports the locked
# packages, writes a JSON result like the real one, and fails when told to.
STUB_SMOKE_TEST = '''\
"""STUB smoke test (tests/bootstrap): imports the locked packages, no training."""
import json, sys
import six, iniconfig
out = sys.argv[sys.argv.index("--json-out") + 1]
with open(out, "w") as f:
    json.dump({"passed": True, "stub": True, "six": six.__version__}, f)
print("stub smoke test: imports ok")
'''


def small_profile(folder: Path, *, name: str = "small", python: str = "3.11") -> Path:
    """A venv profile with a small real pip set from the local mirror."""
    data = {
        "name": name,
        "description": "bootstrap test: venv with two small pure-Python packages",
        "target": {"os": "linux"},
        "environment": {
            "manager": "venv",
            "name": f"{name}-env",
            "python": python,
            "pip": ["six==1.17.0", "iniconfig==2.3.0"],
            "index_url": LOCAL_INDEX,
            "variables": {"PROVISION_TEST_VAR": "it's $(quoted)"},
        },
        "smoke_test": {"framework": "pytorch", "device": "cpu", "require_accelerator": False},
    }
    path = folder / f"{name}.yaml"
    folder.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path
