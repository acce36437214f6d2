"""A cheap fingerprint of what is installed in a prefix: the names in ``conda-meta``
and in site-packages, with those folders' mtimes. Any install or removal changes it.

``provision apply`` records it in its state (``provisioner/state.py``); the bootstrap
scripts run this same module, packed into their helper (``target/bootstrap.py``), with
the environment's own Python (3.7 or newer, standard library only, annotations never
evaluated), so both compute the same bytes.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

# The recipe: these folders under the prefix ("/"-separated), then every
# ``GLOB[0]/<GLOB[1]>/GLOB[2]`` folder, in sorted order.
FOLDERS = ("conda-meta", "Lib/site-packages")
GLOB = ("lib", "python3*", "site-packages")


def env_fingerprint(prefix: Path) -> str:
    """sha256 over ``str(prefix)`` and, per folder that can be listed, its path relative
    to the prefix, ``|``, its mtime in ns, ``|``, then its sorted entry names joined by
    NUL, all UTF-8. Empty when the prefix does not exist."""
    if not prefix.is_dir():
        return ""
    h = hashlib.sha256(str(prefix).encode())
    folders = [prefix.joinpath(*name.split("/")) for name in FOLDERS]
    folders += sorted((prefix / GLOB[0]).glob(f"{GLOB[1]}/{GLOB[2]}"))
    for folder in folders:
        try:
            names = sorted(os.listdir(folder))
            mtime = folder.stat().st_mtime_ns
        except OSError:
            continue
        h.update(f"{folder.relative_to(prefix)}|{mtime}|".encode())
        h.update("\0".join(names).encode())
    return h.hexdigest()
