"""Support for the bootstrap-script tests: real profiles, real locks (a file:// index and
local conda channels built by the tests), folders rendered by `provision render`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.pypi_index import small_index
from tests.support.profiles import profile_document, write_profile

Renderer = Callable[..., Path]

# A stub smoke test, named as such: it stands in for the rendered smoke_test.py where
# the environment has no framework (the small pip set). It imports the locked
# packages, writes a JSON result like the real one, and fails when told to.
STUB_SMOKE_TEST = '''\
"""STUB smoke test (tests/bootstrap): imports the locked packages, no training."""
import json, sys
import six, iniconfig
out = sys.argv[sys.argv.index("--json-out") + 1]
with open(out, "w") as f:
    json.dump({"passed": True, "stub": True, "six": six.__version__, "device_used": "cpu",
               "steps_per_s": 5.0}, f)
print("stub smoke test: imports ok")
'''


def small_profile(folder: Path, *, name: str = "small", python: str = "3.11") -> Path:
    """A venv profile with a small pip set from the tests' own file:// index."""
    environment = {
        "manager": "venv",
        "python": python,
        "pip": ["six==1.17.0", "iniconfig==2.3.0"],
        "index_url": small_index().as_uri(),
        "variables": {"PROVISION_TEST_VAR": "it's $(quoted)"},
    }
    document = profile_document(
        name, environment, description="bootstrap test: venv with two small pure-Python packages"
    )
    return write_profile(folder / f"{name}.yaml", document)
