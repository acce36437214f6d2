"""The bundle's own files at its root: ``bootstrap.sh`` (linux targets),
``bootstrap.ps1`` (win-64) and ``README.md``, rendered from ``templates/bundle/``.

The scripts check every file against ``SHA256SUMS`` (bash) or ``manifest.json``
(PowerShell) before anything runs, install the carried tool into a venv of a host
Python with uv (offline, ``--require-hashes``), and hand over to
:mod:`provisioner.bundle.install`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from provisioner import __version__
from provisioner.bundle.toolcheck import RUN_FROM_WHEEL
from provisioner.errors import ExternalFailure
from provisioner.host.patterns import PY_LAUNCHER_LINE, PYTHON_PROBE
from provisioner.lock import LockedPackage
from provisioner.profile import ResolvedProfile
from provisioner.templating import render_template


def bundle_scripts(
    *,
    resolved: ResolvedProfile,
    platform: str,
    top: str,
    tool_ids: Mapping[str, str],
    locked: Sequence[LockedPackage],
    tool_files: Sequence[str],
) -> dict[str, tuple[str, bool]]:
    """``{name: (text, executable)}`` for the bundle's root scripts and README."""
    names = [f.rsplit("/", 1)[-1] for f in tool_files]
    uv_wheel = next((n for n in names if n.startswith("uv-") and n.endswith(".whl")), None)
    if uv_wheel is None:  # resolve_tool always brings uv; a missing one is a bug
        raise ExternalFailure(f"no uv wheel among provision's dependencies for {platform}")
    from provisioner.bundle.tool import own_name

    stem = own_name().replace("-", "_") + "-"
    self_wheel = next((n for n in names if n.startswith(stem) and n.endswith(".whl")), None)
    if self_wheel is None:  # _tool always carries it; a missing one is a bug
        raise ExternalFailure(f"no wheel of provision itself among the tool files for {platform}")
    env = resolved.profile.environment
    context = {
        "tool_version": __version__,
        "top": top,
        "platform": platform,
        "windows": platform.startswith("win"),
        "profile": resolved.profile,
        "env_name": env.name,
        "manager": env.manager.value,
        "python": env.python,
        "tool_pythons": sorted(tool_ids),
        "tool_ids": {v: tool_ids[v][:16] for v in sorted(tool_ids)},
        "uv_wheel": uv_wheel,
        "self_wheel": self_wheel,
        "n_conda": sum(1 for p in locked if p.manager == "conda"),
        "n_pip": sum(1 for p in locked if p.manager == "pip"),
        "py_launcher_line": PY_LAUNCHER_LINE,  # bootstrap.ps1's Find-Python (ps1/python.ps1.j2)
        "python_probe": PYTHON_PROBE,  # ... and what it asks each candidate
        "toolcheck_code": RUN_FROM_WHEEL,  # both scripts' check of the installed tool
    }
    files: dict[str, tuple[str, bool]] = {
        "README.md": (render_template("bundle/README.md.j2", **context), False)
    }
    if platform.startswith("win"):
        text = render_template("bundle/bootstrap.ps1.j2", **context)
        # Windows PowerShell 5.1 reads a BOM-less script in the ANSI code page: CRLF + BOM.
        files["bootstrap.ps1"] = ("\ufeff" + text.replace("\n", "\r\n"), False)
    else:
        files["bootstrap.sh"] = (render_template("bundle/bootstrap.sh.j2", **context), True)
    return files
