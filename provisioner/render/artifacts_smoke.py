"""The rendered training smoke test, ``smoke_test.py`` (issue 5).

One self-contained script per profile, packed from ``provisioner/target/smoke/`` (real,
linted and type-checked Python) by the one packer (``provisioner/target/pack.py``),
with the profile's smoke-test values and the framework table's facts
(``provisioner/frameworks.py``) baked in as Python literals (through ``|py``) in place
of ``target/smoke/profile.py``'s defaults; each value can be overridden on the script's
command line.
"""

from __future__ import annotations

from provisioner.frameworks import script_values
from provisioner.render import Artifact, RenderContext
from provisioner.render.jinja import render_template
from provisioner.target import SMOKE_MODULES, SMOKE_PROVIDED
from provisioner.target.pack import Packed, pack


def script_sources() -> Packed:
    """The script modules, split into hoisted imports and sections, in program order."""
    return pack(SMOKE_MODULES, SMOKE_PROVIDED)


def smoke_template_values(ctx: RenderContext) -> dict[str, object]:
    """The profile values the smoke-test template reads, as plain data."""
    profile = ctx.resolved.profile
    smoke = profile.smoke_test
    return {
        "profile_name": profile.name,
        "framework": smoke.framework.value,
        "device": smoke.device.value,
        "steps": smoke.steps,
        "min_loss_drop": smoke.min_loss_drop,
        "require_accelerator": smoke.require_accelerator,
        "variables": dict(profile.environment.variables),
        "tool_version": ctx.tool_version,
        "table": script_values(smoke.framework),
    }


def render_smoke_test(ctx: RenderContext) -> str:
    """``smoke_test.py`` for this profile (Python 3.7+, stdlib and the framework only)."""
    sources = script_sources()
    return render_template(
        "smoke_test.py.j2",
        imports=sources.imports,
        body=sources.body(),
        **smoke_template_values(ctx),
    )


ARTIFACTS = (Artifact("smoke_test.py", render_smoke_test, executable=True),)
