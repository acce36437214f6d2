"""The bootstrap scripts' helper: what ``bootstrap.sh`` and ``bootstrap.ps1`` do with the
environment's own Python, with apply's own code (this module packed after
``fingerprint``, ``activation_files`` and ``journal``: ``render/artifacts_bootstrap.py``).

    python -I HELPER state-check|state-write|activation

Its input is data, never code: ``PROVISION_BOOTSTRAP_DATA`` names a JSON file that
``provision render`` made from the typed contract (``state``: the state skeleton and
the names of the measured fields; ``activation``: the activation data), and
``PROVISION_PREFIX``, ``PROVISION_STATE_FILE``, ``PROVISION_LOCKFILE`` and
``PROVISION_SMOKE_RESULT`` say where things are.

- ``state-check``: exit 0 when apply's state marks the prefix verified for this lock;
- ``state-write``: record it so, after the smoke test passed;
- ``activation``: make activating the prefix set ``environment.variables``, in a prefix
  the script has just built (nothing uses it yet: plain writes suffice).

Exit 0 done, 1 not so (``state-check``) or failed, 2 usage.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from provisioner.target.activation_files import changes
from provisioner.target.fingerprint import env_fingerprint
from provisioner.target.journal import (
    is_verified,
    read_state_file,
    verified_record,
    write_state_file,
)


def _data() -> dict[str, Any]:
    with open(os.environ["PROVISION_BOOTSTRAP_DATA"], encoding="utf-8") as f:
        data = json.load(f)
    if not isinstance(data, dict):
        raise ValueError("PROVISION_BOOTSTRAP_DATA is not a JSON object")
    return data


def _smoke_result() -> dict[str, Any] | None:
    path = os.environ.get("PROVISION_SMOKE_RESULT", "")
    if not path:
        return None
    try:
        with open(path, encoding="utf-8") as f:
            result = json.load(f)
    except (OSError, ValueError, RecursionError):
        return None
    return result if isinstance(result, dict) else None


def write_activation(prefix: str, data: dict[str, Any]) -> None:
    for path, raw in changes(prefix, data):
        if raw is None:
            os.unlink(path)
            continue
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(raw)


def main(argv: list[str]) -> int:
    if len(argv) != 1 or argv[0] not in ("state-check", "state-write", "activation"):
        print("usage: HELPER state-check|state-write|activation", file=sys.stderr)
        return 2
    mode = argv[0]
    data = _data()
    prefix = os.path.abspath(os.environ["PROVISION_PREFIX"])
    if mode == "activation":
        write_activation(prefix, data["activation"])
        return 0
    skeleton = data["state"]["skeleton"]
    path = os.environ["PROVISION_STATE_FILE"]
    fingerprint = env_fingerprint(Path(prefix))
    if mode == "state-check":
        found = is_verified(read_state_file(path), skeleton, prefix=prefix, fingerprint=fingerprint)
        return 0 if found else 1
    record = verified_record(
        skeleton,
        data["state"]["measured"],
        prefix=prefix,
        lock_path=os.environ["PROVISION_LOCKFILE"],
        fingerprint=fingerprint,
        result=_smoke_result(),
    )
    write_state_file(path, record)
    return 0
