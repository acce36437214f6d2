"""``provision show PROFILE``: the resolved profile (after ``extends``), as YAML or JSON.

``--origin`` adds where each value came from (file:line), or ``(default)``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from provisioner.cli_arguments import add_profile, profile_or_default
from provisioner.errors import ExitCode


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_profile(p)
    p.add_argument("--json", action="store_true", help="print JSON instead of YAML")
    p.add_argument("--origin", action="store_true", help="show the file:line that set each value")
    p.set_defaults(run=lambda a: show(profile=a.profile, json_out=a.json, origin=a.origin))


def show(*, profile: str | Path | None = None, json_out: bool = False, origin: bool = False) -> int:
    """Print the resolved profile; raises ValidationFailed (exit 2) when it is invalid."""
    from provisioner.profile import load_profile

    resolved = load_profile(profile_or_default(Path(profile) if profile else None))
    data = resolved.as_data()
    if json_out:
        doc: dict[str, Any] = data
        if origin:
            doc = {
                "profile": data,
                "origins": {k: str(v) for k, v in sorted(resolved.origins.items())},
            }
        print(json.dumps(doc, indent=2))
    elif origin:
        rows = list(leaves(data))
        width = min(60, max((len(f"{k}: {v}") for k, v in rows), default=0))
        for key, value in rows:
            where = resolved.origins.get(key)
            text = f"{key}: {value}"
            print(f"{text:<{width}}  # {where if where else '(default)'}")
    else:
        import yaml

        print(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), end="")
    return int(ExitCode.OK)


def leaves(data: Any, prefix: str = "") -> list[tuple[str, str]]:
    """Flatten resolved data into (origin key, JSON value) rows, in profile order.

    Keys follow :attr:`ResolvedProfile.origins`: package-list items by package name,
    other list items by index.
    """
    from provisioner.profile.extends import PACKAGE_LISTS, package_name

    rows: list[tuple[str, str]] = []
    if isinstance(data, dict) and data:
        for k, v in data.items():
            rows += leaves(v, f"{prefix}.{k}" if prefix else str(k))
    elif isinstance(data, list) and data:
        kind = PACKAGE_LISTS.get(tuple(prefix.split(".")))
        for i, item in enumerate(data):
            name = package_name(item, kind) if kind else None
            rows += leaves(item, f"{prefix}[{name if name else i}]")
    else:
        rows.append((prefix, json.dumps(data)))
    return rows
