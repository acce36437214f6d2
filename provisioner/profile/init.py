"""``provision init``: a new profile, commented, that validates.

Without ``--from`` the new profile extends another (``--extends``, default ``cpu``, the
embedded default) and names its own environment, so it never shares one with the
profile it extends (apply/ownership.py). With ``--from`` it is a whole profile made
from another tool's file (:mod:`provisioner.profile.importers`). The text is written
here, not dumped, so every key keeps a comment saying what it is for; values are JSON
strings, which YAML reads back exactly.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from provisioner.errors import ExitCode, ProvisionError, relpath
from provisioner.profile import load_profile
from provisioner.profile.importers import Imported, read_source


@dataclass(frozen=True)
class Initialized:
    """The new profile's path, what it was made from, and what was not carried over."""

    path: Path
    source: str
    skipped: tuple[str, ...]


def _q(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def _list(values: list[str]) -> str:
    return "[" + ", ".join(_q(v) for v in values) + "]"


def extending_text(name: str, base: str) -> str:
    """A profile that extends ``base`` and owns an environment named after itself."""
    from provisioner.profile.shipped import is_profile_name

    shown = base if is_profile_name(base) else _q(base)
    pad = " " * max(1, 22 - len(shown))
    return f"""\
# {name}: a team profile. `provision show {name}.yaml --origin` shows every value and the
# file that set it; docs/profiles.md describes every field.
extends: {shown}{pad}# a shipped profile by name, or a path relative to this file
name: {_q(name)}
description: {_q(f"{name}: {base} plus our packages")}
environment:
  name: {_q(name)}{" " * max(1, 21 - len(name))}# this profile's own environment: never {base}'s
  # Packages merge by name with the inherited ones: a new name is added, a listed
  # one re-pinned, "!name" removes one. `provision add -p {name}.yaml SPEC` edits this.
  pip: []
  # variables: {{MY_SETTING: "1"}}   # set whenever the environment is activated
"""


def imported_text(name: str, found: Imported, framework: str) -> str:
    """A whole profile from an imported file."""
    lines = [
        f"# {name}: made by `provision init --from {found.source}`; docs/profiles.md",
        "# describes every field.",
        f"name: {_q(name)}",
        f"description: {_q(f'imported from {found.source}')}",
        "target:",
        f"  os: {found.os}                      # wsl2 | windows | linux",
        "  arch: x86_64",
        "requires:",
        "  gpu:",
        "    api: none                     # cuda | directml for a GPU (docs/profiles.md)",
    ]
    if found.os == "windows":
        lines.append("  windows: {min_build: 19044}")
    lines += [
        "environment:",
        f"  manager: {found.manager}{' ' * (22 - len(found.manager))}# conda | venv",
        f"  name: {_q(name)}",
        f"  python: {_q(found.python or '3.11')}{' ' * 14}# always quoted",
    ]
    if found.manager == "conda":
        lines.append(f"  channels: {_list(found.channels)}")
        lines.append(f"  conda: {_list(found.conda)}")
    lines.append(f"  pip: {_list(found.pip)}")
    if found.index_url:
        lines.append(f"  index_url: {_q(found.index_url)}")
    if found.extra_index_urls:
        lines.append(f"  extra_index_urls: {_list(found.extra_index_urls)}")
    if found.find_links:
        lines.append(f"  find_links: {_list(found.find_links)}")
    if found.variables:
        pairs = ", ".join(f"{k}: {_q(v)}" for k, v in found.variables.items())
        lines.append(f"  variables: {{{pairs}}}")
    lines += [
        "smoke_test:",
        f"  framework: {framework}",
        "  device: cpu                     # dml | cuda | cpu",
        "  require_accelerator: false      # true once a GPU path is set up",
    ]
    return "\n".join(lines) + "\n"


def init_profile(
    path: Path, *, name: str, extends: str | None = None, source: Path | None = None
) -> Initialized:
    """Write a new profile at ``path`` (never over an existing file) and check that it
    validates; return what was written and what could not be carried over."""
    from provisioner.atomic import write_atomic

    if path.exists():
        raise ProvisionError(
            f"{relpath(path)} exists; init never overwrites a profile",
            hint="pick another NAME or -o PATH, or edit it with provision add/remove",
            exit_code=ExitCode.INVALID,
        )
    skipped: list[str] = []
    if source is not None:
        found = read_source(source)
        framework = found.framework()
        if framework is None:
            framework = "pytorch"
            skipped.append(
                "smoke test: no framework among the packages (torch, tensorflow, ...): "
                "smoke_test.framework is pytorch; add torch or change it"
            )
        if not found.python:
            skipped.append('python: the file names no Python X.Y: environment.python is "3.11"')
        text = imported_text(name, found, framework)
        skipped = [*found.skipped, *skipped]
        shown = found.source
    else:
        text = extending_text(name, extends or "cpu")
        shown = f"extends {extends or 'cpu'}"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, text)
    try:
        load_profile(path)
    except ProvisionError:
        path.unlink(missing_ok=True)  # never leave a profile that does not validate
        raise
    return Initialized(path, shown, tuple(skipped))
