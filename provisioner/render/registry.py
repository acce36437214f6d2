"""The registry of rendered artifacts, in render order.

Each feature keeps its artifacts in ``provisioner/render/artifacts_<feature>.py``
as a module-level ``ARTIFACTS: tuple[Artifact, ...]``, imported here and listed in
:data:`ARTIFACT_MODULES`. ``manifest.json`` is always written last by the render
command; it lists every other file with its sha256.
"""

from __future__ import annotations

from types import ModuleType

from provisioner.profile import ResolvedProfile
from provisioner.render import (
    Artifact,
    artifacts_bootstrap,
    artifacts_checks,
    artifacts_env,
    artifacts_lock,
    artifacts_smoke,
)

ARTIFACT_MODULES: tuple[ModuleType, ...] = (
    artifacts_env,  # environment.yml
    artifacts_checks,  # check.sh, check.ps1
    artifacts_lock,  # conda-lock.yml
    artifacts_smoke,  # smoke_test.py
    artifacts_bootstrap,  # bootstrap.sh, bootstrap.ps1
)


def artifacts_for(resolved: ResolvedProfile) -> list[Artifact]:
    """Every artifact that applies to this profile, in render order."""
    found: list[Artifact] = []
    for module in ARTIFACT_MODULES:
        artifacts: tuple[Artifact, ...] = module.ARTIFACTS
        found.extend(a for a in artifacts if a.applies(resolved))
    return found
