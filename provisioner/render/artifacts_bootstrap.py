"""``bootstrap.sh`` (linux, wsl2) and ``bootstrap.ps1`` (windows): converge a machine
from the rendered folder without the tool installed.

Each script runs the check script, creates the environment from the lock, runs
``smoke_test.py`` and writes the same report JSON as ``provision apply``. The
locked package lists are embedded in the script (rendered from ``conda-lock.yml``):

- conda: an ``@EXPLICIT`` spec list (``url#md5``, the form conda, mamba and
  micromamba all accept) for ``<conda-exe> create -y -p PREFIX --file``;
- pip: ``name @ url --hash=sha256:...`` lines for ``pip install --require-hashes
  --no-deps`` with the environment's own Python.

The script also embeds the lockfile's sha256, refuses a ``conda-lock.yml`` changed
since render, and stamps the prefix with it once the smoke test passed: a second run
on a matching prefix skips the build and the smoke test.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

import yaml

from provisioner.errors import ProvisionError
from provisioner.profile import ResolvedProfile
from provisioner.render import Artifact, RenderContext
from provisioner.render.jinja import render_template

ENV_VAR_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
NO_LOCK_MESSAGE = "no conda-lock.yml here: run `provision lock PROFILE` before render"


@dataclass(frozen=True)
class LockedLists:
    """What the script installs for one platform, taken from the lockfile text."""

    platform: str
    lock_sha256: str
    explicit: tuple[str, ...]  # "url#md5" (or "url#sha256:<hex>" without an md5)
    requirements: tuple[str, ...]  # "name @ url --hash=sha256:<hex>"
    packages: tuple[dict[str, str], ...]  # for the report: manager, name, version, build


def script_platform(resolved: ResolvedProfile) -> str:
    """The conda subdir the target's bootstrap installs for."""
    p = resolved.profile.target
    if p.os.value == "windows":
        return "win-64"
    return "linux-aarch64" if p.arch in ("aarch64", "arm64") else "linux-64"


def locked_lists(lock_text: str, platform: str) -> LockedLists:
    """Parse the conda-lock v1 text and pick the entries for ``platform``."""
    data: Any = yaml.load(lock_text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    explicit: list[str] = []
    requirements: list[str] = []
    packages: list[dict[str, str]] = []
    for pkg in (data or {}).get("package", []) or []:
        if pkg.get("platform") != platform:
            continue
        hashes = pkg.get("hash") or {}
        manager = pkg.get("manager")
        packages.append(
            {
                "manager": str(manager),
                "name": str(pkg["name"]),
                "version": str(pkg["version"]),
                "build": str(pkg.get("build") or ""),
                "url": str(pkg["url"]),
                "sha256": str(hashes.get("sha256") or ""),
            }
        )
        if manager == "conda":
            if hashes.get("md5"):
                explicit.append(f"{pkg['url']}#{hashes['md5']}")
            else:
                explicit.append(f"{pkg['url']}#sha256:{hashes['sha256']}")
        elif manager == "pip":
            requirements.append(f"{pkg['name']} @ {pkg['url']} --hash=sha256:{hashes['sha256']}")
    return LockedLists(
        platform,
        hashlib.sha256(lock_text.encode("utf-8")).hexdigest(),
        tuple(explicit),
        tuple(requirements),
        tuple(packages),
    )


def _context(ctx: RenderContext) -> dict[str, Any]:
    r = ctx.resolved
    p = r.profile
    platform = script_platform(r)
    lock_text = ctx.extras.get("lock_text")
    lists = locked_lists(lock_text, platform) if isinstance(lock_text, str) else None
    return {
        "tool_version": ctx.tool_version,
        "profile": p,
        "profile_path": str(r.path.name),
        "content_hash": r.content_hash,
        "platform": platform,
        "has_lock": lists is not None,
        "lock_sha256": lists.lock_sha256 if lists else "",
        "explicit": lists.explicit if lists else (),
        "requirements": lists.requirements if lists else (),
        "packages": lists.packages if lists else (),
        "no_lock_message": NO_LOCK_MESSAGE,
        "variables": _variables(r),
    }


def _variables(r: ResolvedProfile) -> list[tuple[str, str]]:
    """``environment.variables``; a name a shell cannot export is refused, not quoted."""
    items = sorted(r.profile.environment.variables.items())
    for key, _ in items:
        if not ENV_VAR_NAME.match(key):
            raise ProvisionError(
                f"environment.variables: {key!r} is not a valid environment variable name",
                position=r.origins.get(f"environment.variables.{key}"),
                hint="use letters, digits and '_', not starting with a digit",
            )
    return items


def render_bootstrap_sh(ctx: RenderContext) -> str:
    return render_template("bootstrap.sh.j2", **_context(ctx))


def render_bootstrap_ps1(ctx: RenderContext) -> str:
    return render_template("bootstrap.ps1.j2", **_context(ctx))


ARTIFACTS: tuple[Artifact, ...] = (
    Artifact(
        "bootstrap.sh",
        render_bootstrap_sh,
        executable=True,
        applies=lambda r: r.profile.target.os.value in ("linux", "wsl2"),
    ),
    Artifact(
        "bootstrap.ps1",
        render_bootstrap_ps1,
        applies=lambda r: r.profile.target.os.value == "windows",
    ),
)
