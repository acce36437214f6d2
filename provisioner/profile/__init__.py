"""Profiles: load a YAML file (with ``extends``), validate it, and hand out a frozen
:class:`ResolvedProfile`.

Public API (other modules import only these names):

- :func:`load_profile` (path) -> :class:`ResolvedProfile`, raising
  :class:`provisioner.errors.ValidationFailed` with every diagnostic.
- :class:`ResolvedProfile`: the validated :class:`Profile`, its source files, the
  origin (file:line) of each value, and a content hash that locks and state use.
- :func:`default_profile_path`: the embedded default profile (``cpu.yaml``).
"""

from provisioner.paths import default_profile_path
from provisioner.profile.model import (
    Device,
    Environment,
    Framework,
    GpuApi,
    Manager,
    Profile,
    SmokeTest,
    TargetOS,
)
from provisioner.profile.resolved import ResolvedProfile, load_profile

__all__ = [
    "Device",
    "Environment",
    "Framework",
    "GpuApi",
    "Manager",
    "Profile",
    "ResolvedProfile",
    "SmokeTest",
    "TargetOS",
    "default_profile_path",
    "load_profile",
]
