"""The lockfile as a rendered artifact: ``conda-lock.yml`` beside the bootstrap scripts.

The render command puts the lockfile's text in ``ctx.extras["lock_text"]`` (from
a committed lockfile or a fresh lock); it is re-emitted byte for byte, so the
rendered folder installs exactly what was locked.
"""

from __future__ import annotations

from provisioner.render import Artifact, RenderContext

LOCK_ARTIFACT_NAME = "conda-lock.yml"


def render_lock(ctx: RenderContext) -> str:
    text = ctx.extras.get("lock_text")
    if not isinstance(text, str):
        raise ValueError("conda-lock.yml rendered without extras['lock_text']")
    return text


def _has_lock(ctx: RenderContext) -> bool:
    return ctx.extras.get("lock_text") is not None


ARTIFACTS: tuple[Artifact, ...] = (Artifact(LOCK_ARTIFACT_NAME, render_lock),)
# Applies only when the render command supplied the lock text (see registry's `applies_ctx`).
APPLIES_WITH_CONTEXT = {LOCK_ARTIFACT_NAME: _has_lock}
