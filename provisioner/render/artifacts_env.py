"""``environment.yml``: the profile's environment as a conda environment file.

conda, mamba, micromamba and ``pixi init --import`` all read it: ``name``,
``channels``, ``dependencies`` (``python=X.Y``, the conda specs, ``pip`` and a
``pip:`` subsection of requirements only) and ``variables``. pip index settings
are not pip-list entries (conda-lock and pixi read every entry as a requirement):
a comment names them as the ``PIP_*`` variables to set. Every value is emitted as a YAML scalar
that reads back as exactly the profile's string (quoted only when needed).
"""

from __future__ import annotations

from typing import Any

import yaml

from provisioner.profile.extends import package_name
from provisioner.render import Artifact, RenderContext
from provisioner.templating import render_template

ENV_ARTIFACT_NAME = "environment.yml"
_LINE_BREAKS = ("\n", "\r", "\x85", "\u2028", "\u2029")  # YAML 1.1 line breaks


def yaml_scalar(value: str) -> str:
    """``value`` as a one-line YAML scalar that loads back as the same string."""
    text: str = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=10**9)
    text = text.removesuffix("\n").removesuffix("\n...").strip()
    if "\n" in text or any(c in value for c in _LINE_BREAKS):  # keep it on one line
        text = yaml.safe_dump(value, default_style='"', allow_unicode=True, width=10**9).strip()
    return text


def conda_dependencies(ctx: RenderContext) -> list[str]:
    """The conda ``dependencies`` strings: python first, then the specs, then pip if needed."""
    env = ctx.resolved.profile.environment
    deps = [f"python={env.python}", *env.conda]
    if env.pip and not any(package_name(d, "conda") == "pip" for d in env.conda):
        deps.append("pip")
    return deps


def pip_requirements(ctx: RenderContext) -> list[str]:
    """The ``pip:`` entries: requirements only. conda-lock's parser rejects option lines
    there and ``pixi init --import`` reads every entry as a requirement, so the index
    settings go to :func:`pip_index_settings` (a comment) instead."""
    return list(ctx.resolved.profile.environment.pip)


def pip_index_settings(ctx: RenderContext) -> list[str]:
    """The profile's pip index settings as the ``PIP_*`` variables pip reads (set them
    before ``conda env create``); the lockfile already pins every download URL."""
    env = ctx.resolved.profile.environment
    out: list[str] = []
    if env.index_url:
        out.append(f"PIP_INDEX_URL={env.index_url}")
    if env.extra_index_urls:
        out.append(f"PIP_EXTRA_INDEX_URL={' '.join(env.extra_index_urls)}")
    if env.find_links:
        out.append(f"PIP_FIND_LINKS={' '.join(env.find_links)}")
    for name, url in env.package_indexes.items():  # pip has no per-package index setting
        out.append(f"{name} only from {url}: `pip install {name} --index-url {url}` first")
    return out


def render_environment_yml(ctx: RenderContext) -> str:
    """The text of ``environment.yml`` (pure)."""
    resolved = ctx.resolved
    env = resolved.profile.environment
    context: dict[str, Any] = {
        "tool_version": ctx.tool_version,
        "profile_name": yaml_scalar(resolved.name),
        "content_hash": resolved.content_hash,
        "env_name": yaml_scalar(env.name),
        "channels": [yaml_scalar(c) for c in env.channels],
        "conda": [yaml_scalar(d) for d in conda_dependencies(ctx)],
        "pip": [yaml_scalar(r) for r in pip_requirements(ctx)],
        "pip_index": pip_index_settings(ctx),
        "variables": [(yaml_scalar(k), yaml_scalar(v)) for k, v in env.variables.items()],
    }
    return render_template("environment.yml.j2", **context)


ARTIFACTS: tuple[Artifact, ...] = (Artifact(ENV_ARTIFACT_NAME, render_environment_yml),)
