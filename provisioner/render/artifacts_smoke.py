"""The rendered training smoke test, ``smoke_test.py`` (issue 5): the smoke package
makes it (:mod:`provisioner.smoke.script`), packed from ``provisioner/target/smoke/``.
"""

from __future__ import annotations

from provisioner.render import Artifact, RenderContext
from provisioner.smoke.script import smoke_script_text


def render_smoke_test(ctx: RenderContext) -> str:
    """``smoke_test.py`` for this profile (Python 3.7+, stdlib and the framework only)."""
    return smoke_script_text(ctx.resolved, ctx.tool_version)


ARTIFACTS = (Artifact("smoke_test.py", render_smoke_test, executable=True),)
