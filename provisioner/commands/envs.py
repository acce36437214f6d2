"""``provision envs [--json]`` lists the environments on this machine (profile, state,
size, prefix); ``provision envs remove NAME...`` deletes one with its state, apply's
cached lock and its reports (provisioner.inventory)."""

from __future__ import annotations

import argparse
import json


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.description = (
        "List the environments provision built here (their owning profile, "
        "state, size and prefix), or remove one with everything kept for it."
    )
    p.add_argument("--json", action="store_true", help="print the list as JSON")
    actions = p.add_subparsers(dest="action", metavar="ACTION")
    remove = actions.add_parser(
        "remove",
        help="delete an environment, its state, apply's cached lock and its reports",
    )
    remove.add_argument("names", nargs="+", metavar="NAME", help="environment name (envs)")
    remove.add_argument("--json", action="store_true", help="print what was removed as JSON")
    p.set_defaults(run=lambda a: run(a))


def run(args: argparse.Namespace) -> int:
    if args.action == "remove":
        return remove(names=args.names, json_out=args.json)
    return envs(json_out=args.json)


def envs(*, json_out: bool = False) -> int:
    """Print the environments; exit 0."""
    from provisioner.inventory import environments, human_size
    from provisioner.paths import envs_dir

    found = environments()
    if json_out:
        print(json.dumps([e.as_json() for e in found], indent=2))
        return 0
    if not found:
        print(f"no environments (in {envs_dir()}); `provision apply PROFILE` builds one")
        return 0
    rows = [("name", "profile", "state", "manager", "size", "updated", "prefix")]
    for e in found:
        rows.append(
            (
                e.name,
                e.profile or "-",
                e.status,
                e.manager or "-",
                human_size(e.size) if e.size else "-",
                e.updated_at or "-",
                str(e.prefix),
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=False)) + "  " + r[-1])
    return 0


def remove(*, names: list[str], json_out: bool = False) -> int:
    """Remove each named environment; print what went and how much it freed."""
    from provisioner.inventory import check_env_name, human_size
    from provisioner.inventory.remove import remove_environment

    for name in names:  # every name checked before anything is deleted
        check_env_name(name)
    done = [remove_environment(name) for name in names]
    if json_out:
        print(
            json.dumps(
                [
                    {"name": r.name, "removed": [str(p) for p in r.paths], "freed_bytes": r.freed}
                    for r in done
                ],
                indent=2,
            )
        )
        return 0
    for r in done:
        print(f"removed environment {r.name} ({human_size(r.freed)} freed):")
        for path in r.paths:
            print(f"  {path}")
    return 0
