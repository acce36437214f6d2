"""``provision export ansible``: a playbook (``site.yml``) and one role that bring every
host of an inventory to the profile's verified environment from its offline bundle.

Written under DIR::

    site.yml                              the play: every host of the inventory, the role
    inventory.example.ini                 what an inventory looks like (host vars included)
    roles/provision/defaults/main.yml     provision_home, provision_verify, ... (override per host)
    roles/provision/vars/main.yml         derived paths and the bootstrap command line
    roles/provision/tasks/main.yml        push (checksum-aware), check, bootstrap, verify, fetch
    roles/provision/files/<bundle>        the bundle: .tar.gz for Linux, .zip for win-64
    reports/<inventory_hostname>.json     each host's report, fetched by the play

Linux hosts are driven over SSH with ``ansible.builtin`` modules; a win-64 profile gets
the same steps with ``ansible.windows`` modules over WinRM/PSRP running
``bootstrap.ps1`` (untested on real Windows). Neither needs provision on the hosts:
the bundle carries it. ``changed`` is honest: the copy and unpack change only when the
bundle does, the checks and the report fetch never, the bootstrap only when apply
changed something.
"""

from __future__ import annotations

from dataclasses import dataclass

from provisioner import __version__
from provisioner.templating import render_template

ROLE = "provision"
LINUX_HOME = "/var/lib/provision"
WINDOWS_HOME = "C:\\ProgramData\\provision"


@dataclass(frozen=True)
class Playbook:
    """What the playbook needs to know about the bundle it pushes."""

    profile_name: str
    env_name: str
    platform: str
    bundle_file: str  # file name under roles/provision/files/
    bundle_id: str  # sha256 of the bundle's manifest, first 16 hex digits
    top: str  # the bundle's top-level folder

    @property
    def windows(self) -> bool:
        return self.platform.startswith("win")


def playbook_files(book: Playbook) -> dict[str, str]:
    """``{path under DIR: text}`` of the playbook, the role and the example inventory."""
    kind = "windows" if book.windows else "linux"
    context = {
        "tool_version": __version__,
        "profile_name": book.profile_name,
        "env_name": book.env_name,
        "windows": book.windows,
        "hosts_pattern": "all",
        "role": ROLE,
        "default_home": WINDOWS_HOME if book.windows else LINUX_HOME,
        "bundle_file": book.bundle_file,
        "bundle_id": book.bundle_id,
        "top": book.top,
    }
    role = f"roles/{ROLE}"
    return {
        "site.yml": render_template("ansible/site.yml.j2", **context),
        f"{role}/defaults/main.yml": render_template("ansible/defaults.yml.j2", **context),
        f"{role}/vars/main.yml": render_template(f"ansible/{kind}-vars.yml.j2", **context),
        f"{role}/tasks/main.yml": render_template(f"ansible/{kind}-tasks.yml.j2", **context),
        "inventory.example.ini": render_template("ansible/inventory.ini.j2", **context),
    }
