"""``provision export ansible``: a playbook (``site.yml``) and one role that bring every
host of an inventory to the profile's verified environment from its offline bundle.

Written under DIR::

    site.yml                              the play: every host of the inventory, the role
    inventory.example.ini                 what an inventory looks like (host vars included)
    roles/provision/defaults/main.yml     provision_home, provision_verify, ... (override per host)
    roles/provision/vars/main.yml         derived paths and the bootstrap command line
    roles/provision/tasks/main.yml        push (checksum-aware), install the tool, converge, fetch
    roles/provision/library/provision.py  the Ansible module doing a Linux host's work with
                                          provision's engine (provisioner.bundle.host)
    roles/provision/files/<bundle>        the bundle: .tar.gz for Linux, .zip for win-64
    callback_plugins/provision_fleet.py   the run id, and a report for each host that sent none
    collections/requirements.yml          the collections the play needs, pinned
    reports/<inventory_hostname>.json     each host's report, fetched by the play

Linux hosts are driven over SSH: ``ansible.builtin`` modules push the bundle, and our
module, run with the Python of the tool venv the bundle installs, converges the host
(check mode: ``provision plan``; ``--diff``: the package diff; facts: the host checks).
A win-64 profile gets the same variables and tags with ``ansible.windows`` modules over
WinRM/PSRP running ``bootstrap.ps1`` (untested on real Windows). Neither needs provision
on the hosts: the bundle carries it. ``changed`` is honest: the copy and unpack change
only when the bundle does, the checks and the report fetch never, the converge only
when apply changed something.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from provisioner import __version__
from provisioner.templating import comment_safe, render_template

ROLE = "provision"
CALLBACK = "provision_fleet"
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
    files = {
        "site.yml": render_template("ansible/site.yml.j2", **context),
        f"{role}/defaults/main.yml": render_template("ansible/defaults.yml.j2", **context),
        f"{role}/vars/main.yml": render_template(f"ansible/{kind}-vars.yml.j2", **context),
        f"{role}/tasks/main.yml": render_template(f"ansible/{kind}-tasks.yml.j2", **context),
        "inventory.example.ini": render_template("ansible/inventory.ini.j2", **context),
        "collections/requirements.yml": render_template("ansible/requirements.yml.j2", **context),
        f"callback_plugins/{CALLBACK}.py": plugin_source(
            "callback",
            PROFILE=book.profile_name,
            ENVIRONMENT=book.env_name,
            TOOL=f"ansible-playbook (provision {__version__})",
        ),
    }
    if not book.windows:  # Windows modules are PowerShell: bootstrap.ps1 does the work there
        files[f"{role}/library/provision.py"] = plugin_source("module")
    return files


def plugin_source(name: str, **values: str) -> str:
    """The source of ``ansible_plugins/<name>.py`` as an export writes it: provision's
    version in a header line (after a ``#!`` line, which Ansible reads) and each of
    ``values`` in place of its ``NAME = ""  # set by export`` line."""
    text = (Path(__file__).parent / "ansible_plugins" / f"{name}.py").read_text("utf-8")
    for key, value in values.items():
        marked = f'{key} = ""  # set by export\n'
        if marked not in text:
            raise AssertionError(f"ansible_plugins/{name}.py has no line {marked!r}")
        text = text.replace(marked, f"{key} = {json.dumps(value)}\n", 1)
    header = f"# Exported by provision {comment_safe(__version__)}; do not edit, export again.\n"
    if text.startswith("#!"):
        first, _, rest = text.partition("\n")
        return f"{first}\n{header}{rest}"
    return header + text
