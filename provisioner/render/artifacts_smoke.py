"""The rendered training smoke test, ``smoke_test.py`` (issue 5).

One self-contained script per profile: the profile's smoke-test values are baked in
as Python literals (through ``|py``) and can be overridden on its command line.
"""

from __future__ import annotations

from provisioner.render import Artifact, RenderContext
from provisioner.render.jinja import render_template


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
    }


def render_smoke_test(ctx: RenderContext) -> str:
    """``smoke_test.py`` for this profile (Python 3.7+, stdlib and the framework only)."""
    return render_template("smoke_test.py.j2", **smoke_template_values(ctx))


ARTIFACTS = (Artifact("smoke_test.py", render_smoke_test, executable=True),)
