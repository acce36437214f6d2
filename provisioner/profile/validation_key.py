"""The validation key: what two verdicts on a profile read, hashed. The verdicts are
the compatibility rules' (:mod:`provisioner.profile.compat`) and whether a lock is fresh
for the profile (its lock inputs, :mod:`provisioner.lock.inputs`).

Both are pure functions of the validated profile (its content hash), the data they read
(``compat.yaml``, ``compat_pypi.json``, ``nvidia.yaml``), the code that computes them
(provision's version, those modules' own source, ``packaging``'s version) and a few
environment variables (the ``CONDA_OVERRIDE_*`` of the virtual packages). apply records
the key in the state of the environment it verifies (``State.validation_key``), only
when the rules found nothing and the lock was fresh; a later apply of a profile with the
same key knows both verdicts without computing them (the no-op path never imports the
rules, the compatibility data or the lock-input code). Any change to any input is
another key, and both are computed again.

:data:`FILES` and :data:`ENVIRONMENT` list those inputs; ``tests/profile/
test_validation_key.py`` traces both verdicts over every shipped profile and fails on a
file they run or read, or a variable they read, that is not listed here.
"""

from __future__ import annotations

import hashlib
import os
from importlib.util import find_spec
from pathlib import Path

from provisioner import __version__

PACKAGE = Path(__file__).resolve().parent.parent
# Relative to the provisioner package.
FILES = (
    "data/compat.yaml",
    "data/compat_pypi.json",
    "data/nvidia.yaml",
    "compatdata/__init__.py",
    "compatdata/numpy_abi.py",
    "compatdata/nvidia.py",
    "compatdata/releases.py",
    "compatdata/torch_build.py",
    "frameworks.py",
    "lock/__init__.py",
    "lock/conda.py",
    "lock/inputs.py",
    "names.py",
    "platforms.py",
    "profile/compat.py",
    "profile/compat_fields.py",
    "profile/compat_releases.py",
    "profile/diagnostics.py",
    "profile/extends.py",
    "profile/specs.py",
    "versions.py",
    "yamlfast.py",
)
# Libraries the verdicts call: each one's ``__init__.py`` (which names its version).
LIBRARIES = ("packaging",)
ENVIRONMENT = ("CONDA_OVERRIDE_CUDA", "CONDA_OVERRIDE_GLIBC", "CONDA_OVERRIDE_LINUX")


def validation_key(content_hash: str) -> str:
    """``sha256:…`` of the profile's ``content_hash`` and every other input of the
    verdicts; "" when one cannot be read (then nothing is known: both are computed)."""
    h = hashlib.sha256()
    try:
        for part in ("provision", __version__, content_hash):
            _field(h, part.encode())
        for rel in FILES:
            _field(h, rel.encode())
            _field(h, (PACKAGE / rel).read_bytes())
        for name in LIBRARIES:
            spec = find_spec(name)
            if spec is None or spec.origin is None:
                return ""
            _field(h, name.encode())
            _field(h, Path(spec.origin).read_bytes())
        for var in ENVIRONMENT:
            value = os.environ.get(var)
            _field(h, f"{var}={value}".encode() if value is not None else var.encode())
    except (OSError, ValueError, ImportError):
        return ""
    return "sha256:" + h.hexdigest()


def _field(h: hashlib._Hash, data: bytes) -> None:
    h.update(len(data).to_bytes(8, "big"))
    h.update(data)
