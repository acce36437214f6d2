"""``provision list [PROFILE] [--json]``: the packages installed in the profile's
environment with their version, source (conda channel or pip source) and whether the
profile asked for them (provisioner.env.listing)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from provisioner.cli_arguments import add_profile, profile_or_default
from provisioner.errors import HostNotReady


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.description = (
        "The packages installed in the profile's environment: version, "
        "conda channel or pip source, and whether the profile asked for each one or it "
        "came as a dependency."
    )
    add_profile(p)
    p.add_argument("--json", action="store_true", help="print the list as JSON")
    p.add_argument(
        "--requested", action="store_true", help="only the packages the profile asks for"
    )
    p.set_defaults(
        run=lambda a: list_packages(profile=a.profile, json_out=a.json, requested=a.requested)
    )


def list_packages(
    *, profile: Path | None = None, json_out: bool = False, requested: bool = False
) -> int:
    """Print the installed packages; exit 1 when the environment does not exist."""
    from provisioner.apply.ownership import check_owner
    from provisioner.env import env_prefix, env_python
    from provisioner.env.listing import installed_packages
    from provisioner.platforms import is_windows
    from provisioner.profile import load_profile
    from provisioner.state import read_state

    resolved = load_profile(profile_or_default(profile))
    env = resolved.profile.environment
    check_owner(resolved, read_state(env.name))
    prefix = env_prefix(env.name)
    python = env_python(prefix, windows=is_windows(), manager=env.manager.value)
    if not python.exists():
        shown = f" {profile}" if profile is not None else ""
        raise HostNotReady(
            f"environment {env.name} not found at {prefix}",
            hint=f"run `provision apply{shown}` to build it",
        )
    state = read_state(env.name)
    urls = {(p.manager, p.name): p.url for p in state.packages} if state is not None else {}
    found = installed_packages(resolved, prefix, python, urls)
    if requested:
        found = [p for p in found if p.requested]
    if json_out:
        print(json.dumps([p.as_json() for p in found], indent=2))
        return 0
    rows = [("name", "version", "from", "source", "asked for")]
    for p in found:
        rows.append((p.name, p.version, p.manager, p.source or "-", p.requested or "(dependency)"))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=False)) + "  " + r[-1])
    n = sum(1 for p in found if p.requested)
    print(f"{len(found)} packages in {prefix} ({n} asked for by the profile)")
    return 0
