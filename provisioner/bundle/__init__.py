"""Offline bundles: one folder (or a reproducible ``.tar.gz``/``.zip`` of it) with
everything needed to build and verify a profile's environment with no network.

Layout of the one top-level folder, ``<profile name>-<platform>/``::

    bootstrap.sh / bootstrap.ps1   install from this folder only (hashes checked first)
    README.md                      what is here, what the target needs
    profile.yaml                   the resolved profile (``extends`` flattened)
    conda-lock.yml                 the lockfile, as locked (original URLs and hashes)
    channel/<subdir>/...           every conda artifact of the platform, with repodata.json
                                   (``noarch/repodata.json`` too): a local conda channel
    wheels/*.whl                   every pip artifact of the platform (wheels only)
    tool/*.whl                     provision itself and its runtime wheels (py-rattler, uv,
                                   pydantic...) for the target platform and its Python(s)
    tool/requirements-X.Y.txt      the tool's exact wheels for host Python X.Y, with hashes
    render/                        ``provision render`` output: check.sh, smoke_test.py, ...
    manifest.json                  every other file's path, size and sha256
    SHA256SUMS                     the same, in ``sha256sum -c`` form (manifest.json included)

On the target, ``bootstrap.sh`` checks every hash, installs the tool from ``tool/``
into a venv of a host Python (uv, offline, ``--require-hashes``) and runs
:mod:`provisioner.bundle.install`, which points a copy of the lock at the bundle's
files (same sha256s) and runs ``provision apply`` on it.
"""

from __future__ import annotations

from pathlib import Path

MANIFEST = "manifest.json"
SUMS = "SHA256SUMS"
PROFILE_FILE = "profile.yaml"
LOCK_FILE = "conda-lock.yml"
CHANNEL_DIR = "channel"
WHEELS_DIR = "wheels"
TOOL_DIR = "tool"
RENDER_DIR = "render"
BUNDLE_SCHEMA = "provision-bundle/1"
# Archive members get this time (1980-01-01, the earliest a zip can hold) and no owner.
FIXED_MTIME = 315532800


def archive_kind(out: Path) -> str:
    """``tar.gz``, ``zip`` or ``folder``, from the output name."""
    name = out.name.lower()
    if name.endswith((".tar.gz", ".tgz")):
        return "tar.gz"
    if name.endswith(".zip"):
        return "zip"
    return "folder"
