"""``provision clean [--dry-run]``: remove the cache entries, unpacked bundles, states
and cached locks that no environment uses, and say how much that freed
(provisioner.inventory.clean)."""

from __future__ import annotations

import argparse
import json


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dry-run", action="store_true", help="only list what would be removed")
    p.add_argument("--json", action="store_true", help="print the list as JSON")
    p.set_defaults(run=lambda a: clean(dry_run=a.dry_run, json_out=a.json))


def clean(*, dry_run: bool = False, json_out: bool = False) -> int:
    """Remove (or list) what no environment uses; exit 0."""
    from provisioner.inventory import human_size
    from provisioner.inventory.clean import clean as run_clean
    from provisioner.inventory.clean import foreign_caches

    found = run_clean(dry_run=dry_run)
    total = sum(u.size for u in found)
    if json_out:
        print(
            json.dumps(
                {
                    "dry_run": dry_run,
                    "freed_bytes": 0 if dry_run else total,
                    "would_free_bytes": total if dry_run else 0,
                    "items": [
                        {"kind": u.kind, "path": str(u.path), "size_bytes": u.size, "why": u.why}
                        for u in found
                    ],
                },
                indent=2,
            )
        )
        return 0
    verb = "would remove" if dry_run else "removed"
    for u in found:
        print(f"{verb} {u.kind:<8} {human_size(u.size):>8}  {u.path}  ({u.why})")
    if not found:
        print("nothing to clean: every cached package and bundle is used by an environment")
    else:
        what = "would free" if dry_run else "freed"
        print(f"{what} {human_size(total)} ({len(found)} item{'s' * (len(found) != 1)})")
    for cache in foreign_caches():
        print(
            f"not touched: {cache.what}, {human_size(cache.size)} at {cache.path} "
            f"(shared with other tools; `{cache.trim}` trims it)"
        )
    return 0
