"""``smoke_test.py`` for a profile: the script's modules (``provisioner/target/smoke/``)
packed by the one packer (``provisioner/target/pack.py``), with the profile's
smoke-test values and the framework table's facts (``provisioner/frameworks.py``: the
driver, the reported distributions, the device variables) baked in as Python literals
(through ``|py``) in place of ``target/smoke/profile.py``'s defaults; each value can be
overridden on the script's command line. ``provision render``
(``render/artifacts_smoke.py``) and the smoke runner both take the script from here.
"""

from __future__ import annotations

from provisioner.frameworks import script_values
from provisioner.profile import ResolvedProfile
from provisioner.target import SMOKE_MODULES, SMOKE_PROVIDED
from provisioner.target.pack import Packed, pack
from provisioner.templating import render_template


def script_sources() -> Packed:
    """The script modules, split into hoisted imports and sections, in program order."""
    return pack(SMOKE_MODULES, SMOKE_PROVIDED)


def smoke_template_values(resolved: ResolvedProfile, tool_version: str) -> dict[str, object]:
    """The profile values the smoke-test template reads, as plain data."""
    profile = resolved.profile
    smoke = profile.smoke_test
    return {
        "profile_name": profile.name,
        "framework": smoke.framework.value,
        "device": smoke.device.value,
        "steps": smoke.steps,
        "min_loss_drop": smoke.min_loss_drop,
        "require_accelerator": smoke.require_accelerator,
        "variables": dict(profile.environment.variables),
        "tool_version": tool_version,
        "table": script_values(smoke.framework),
    }


def smoke_script_text(resolved: ResolvedProfile, tool_version: str) -> str:
    """``smoke_test.py`` for this profile (Python 3.7+, stdlib and the framework only)."""
    sources = script_sources()
    return render_template(
        "smoke_test.py.j2",
        imports=sources.imports,
        body=sources.body(),
        **smoke_template_values(resolved, tool_version),
    )
