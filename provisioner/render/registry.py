"""The registry of rendered artifacts, in render order.

Each feature keeps its artifacts in ``provisioner/render/artifacts_<feature>.py``
as a module-level ``ARTIFACTS: tuple[Artifact, ...]`` and adds its module name to
:data:`ARTIFACT_MODULES`. ``manifest.json`` is always written last by the render
command; it lists every other file with its sha256.
"""

from __future__ import annotations

import importlib

from provisioner.profile import ResolvedProfile
from provisioner.render import Artifact

ARTIFACT_MODULES: tuple[str, ...] = (
    "artifacts_env",  # environment.yml (profiles issue)
    "artifacts_checks",  # check.sh, check.ps1 (host issue)
    "artifacts_lock",  # conda-lock.yml (converge issue)
    "artifacts_smoke",  # smoke_test.py (smoke-test issue)
    "artifacts_bootstrap",  # bootstrap.sh, bootstrap.ps1 (converge issue)
)


def artifacts_for(resolved: ResolvedProfile) -> list[Artifact]:
    """Every artifact that applies to this profile, in render order."""
    found: list[Artifact] = []
    for name in ARTIFACT_MODULES:
        try:
            module = importlib.import_module(f"provisioner.render.{name}")
        except ModuleNotFoundError as e:
            if e.name == f"provisioner.render.{name}":
                continue  # that feature has not landed yet
            raise
        found.extend(a for a in module.ARTIFACTS if a.applies(resolved))
    return found
