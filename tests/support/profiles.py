"""Profile documents for tests: one shape, written as YAML where a test wants a file."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

# A smoke test that passes on a machine without an accelerator.
CPU_SMOKE: dict[str, object] = {
    "framework": "pytorch",
    "device": "cpu",
    "require_accelerator": False,
}


def profile_document(
    name: str,
    environment: Mapping[str, object],
    *,
    os_: str = "linux",
    smoke: Mapping[str, object] | None = None,
    **top: object,
) -> dict[str, Any]:
    """A profile as data: ``name``, ``target.os``, ``environment`` (its ``name`` defaults
    to ``<name>-env``), the CPU smoke test, and any other top-level keys."""
    data: dict[str, Any] = {"name": name, "target": {"os": os_}}
    if os_ == "windows":
        data["requires"] = {"windows": {"min_build": 19044}}
    data.update(top)
    data["environment"] = {"name": f"{name}-env", **environment}
    data["smoke_test"] = dict(CPU_SMOKE if smoke is None else smoke)
    return data


def write_profile(path: Path, document: Mapping[str, object]) -> Path:
    """Write ``document`` as YAML to ``path`` (creating its folder); return ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(dict(document), sort_keys=False), encoding="utf-8")
    return path
