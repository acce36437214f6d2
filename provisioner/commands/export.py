"""``provision export ansible PROFILE -o DIR``: a playbook and role that push the
profile's offline bundle to every host of an inventory and converge each one (see
:mod:`provisioner.export.ansible`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from provisioner.errors import ExitCode


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("format", choices=("ansible",), help="what to export: ansible")
    p.add_argument("profile", type=Path, help="profile YAML file (with its lock)")
    p.add_argument("-o", "--output", type=Path, required=True, help="output folder")
    p.add_argument("--platform", help="conda subdir of the hosts (default: the lock's first)")
    p.add_argument(
        "--tool-python",
        action="append",
        default=[],
        metavar="X.Y",
        help="host Python that runs provision on the hosts (repeatable; see provision bundle)",
    )
    p.set_defaults(
        run=lambda a: export_ansible(
            profile=a.profile,
            output=a.output,
            platform=a.platform,
            tool_pythons=tuple(a.tool_python),
        )
    )


def export_ansible(
    *,
    profile: Path,
    output: Path,
    platform: str | None = None,
    tool_pythons: tuple[str, ...] = (),
) -> int:
    """Bundle the profile into the role's files/ (unless the bundle there was made from
    the same inputs) and write the playbook beside it."""
    from provisioner.export.ansible import ROLE, playbook_files
    from provisioner.export.bundle import role_bundle
    from provisioner.profile import load_profile
    from provisioner.render import write_files

    resolved = load_profile(profile)
    _refuse_special(output, resolved, platform)
    files_dir = output / "roles" / ROLE / "files"
    files_dir.mkdir(parents=True, exist_ok=True)
    target, book, action = role_bundle(resolved, files_dir, platform, tool_pythons)
    written = write_files(output, {p: (t, False) for p, t in playbook_files(book).items()})
    (output / "reports").mkdir(exist_ok=True)
    print(f"{action:<9}  {target}")
    for w in written:
        print(f"{w.action.value:<9}  {output / w.name}")
    print(f"run: ansible-playbook -i INVENTORY {output / 'site.yml'}")
    sys.stdout.flush()
    return int(ExitCode.OK)


def _refuse_special(output: Path, resolved: Any, platform: str | None) -> None:
    """Before the bundle is built: a named pipe, a device or a socket where the export
    writes a file or makes a folder (the bundle, the playbook, the role's folders) is
    refused (exit 2), never replaced (docs/files.md)."""
    from provisioner.bundle.build import pick_platform, read_profile_lock, top_folder
    from provisioner.export.ansible import ROLE, Playbook, playbook_files
    from provisioner.outputs import refuse_special

    chosen = pick_platform(read_profile_lock(resolved)[1], platform)
    top = top_folder(resolved, chosen)
    name = _bundle_name(top, chosen)
    env_name = resolved.profile.environment.name
    written = playbook_files(Playbook(resolved.name, env_name, chosen, name, "", top))
    role = f"roles/{ROLE}"
    files = [*written, f"{role}/files/{name}"]
    folders = {"", "roles", role, "reports"} | {str(Path(f).parent) for f in files}
    refuse_special(output, "-o", files=files, folders=sorted(folders))


def _bundle_name(top: str, platform: str) -> str:
    """The bundle's file name in the role's files/: a .zip for Windows hosts."""
    return f"{top}{'.zip' if platform.startswith('win') else '.tar.gz'}"
