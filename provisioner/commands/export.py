"""``provision export ansible PROFILE -o DIR``: a playbook and role that push the
profile's offline bundle to every host of an inventory and converge each one (see
:mod:`provisioner.export.ansible`)."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

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
    """Bundle the profile into the role's files/ and write the playbook beside it."""
    from provisioner.bundle.archive import write
    from provisioner.bundle.build import collect
    from provisioner.export.ansible import ROLE, Playbook, playbook_files
    from provisioner.profile import load_profile
    from provisioner.render import write_files

    resolved = load_profile(profile)
    files_dir = output / "roles" / ROLE / "files"
    files_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".provision-bundle-", dir=files_dir) as tmp:
        contents = collect(resolved, platform=platform, tool_pythons=tool_pythons, work=Path(tmp))
        suffix = ".zip" if contents.platform.startswith("win") else ".tar.gz"
        name = f"{contents.top}{suffix}"
        target = files_dir / name
        before = target.read_bytes() if target.is_file() else None
        write(contents, target)
        action = "create" if before is None else "identical"
        if before is not None and before != target.read_bytes():
            action = "overwrite"
    for old in files_dir.iterdir():  # an older bundle of this profile would be pushed too
        if old.name != name and old.name.startswith(f"{resolved.name}-") and old.is_file():
            old.unlink()
    manifest = next(e for e in contents.entries if e.path == "manifest.json")
    book = Playbook(
        profile_name=resolved.name,
        env_name=resolved.profile.environment.name,
        platform=contents.platform,
        bundle_file=name,
        bundle_id=manifest.sha256[:16],
        top=contents.top,
    )
    written = write_files(output, {p: (t, False) for p, t in playbook_files(book).items()})
    (output / "reports").mkdir(exist_ok=True)
    print(f"{action:<9}  {target}")
    for w in written:
        print(f"{w.action.value:<9}  {output / w.name}")
    print(f"run: ansible-playbook -i INVENTORY {output / 'site.yml'}")
    sys.stdout.flush()
    return int(ExitCode.OK)
