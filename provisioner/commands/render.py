"""``provision render [PROFILE] -o DIR``: write every artifact of a profile into DIR.

PROFILE defaults to the embedded default profile. The output folder is render's
(:mod:`provisioner.render.folder` says what that means); this command checks the
arguments, renders and prints one action line per file (``create``, ``identical``,
``overwrite``, ``remove``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from provisioner.errors import ExitCode


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "profile", nargs="?", type=Path, help="profile YAML file (default: the embedded cpu)"
    )
    p.add_argument("-o", "--output", type=Path, required=True, help="output folder")
    p.add_argument(
        "--lockfile",
        type=Path,
        help="conda-lock.yml to include (default: <profile dir>/<profile stem>.conda-lock.yml)",
    )
    p.set_defaults(run=lambda a: render(profile=a.profile, output=a.output, lockfile=a.lockfile))


def render(*, profile: Path | None, output: Path, lockfile: Path | None = None) -> int:
    """Render every artifact of ``profile`` into ``output``; print one action line per file."""
    from provisioner.cli_arguments import check_output_folder, profile_or_default
    from provisioner.profile import load_profile
    from provisioner.render.folder import render_folder

    check_output_folder(output, "-o")  # before any work
    done = render_folder(load_profile(profile_or_default(profile)), output, lockfile)
    for w in done.written:
        print(f"{w.action.value:<9}  {output / w.name}")
    for name in done.removed:
        print(f"{'remove':<9}  {output / name}")
    sys.stdout.flush()
    return int(ExitCode.OK)
