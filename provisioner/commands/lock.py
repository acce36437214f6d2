"""``provision lock PROFILE [-o FILE] [--check]``: write the conda-lock lockfile.

``--check`` changes nothing: exit 0 when the lockfile exists and its inputs match the
profile's (``docs/lock.md`` lists them), 1 when it is stale (naming the inputs that
changed) or missing.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from provisioner.cli_arguments import add_profile, check_output_file, profile_or_default
from provisioner.errors import ExitCode, ProvisionError, relpath

WRITABLE_HINT = "choose a writable path with -o FILE"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.description = (
        "Solve the conda part with py-rattler and the pip part with uv for the "
        "target's platforms, and write a conda-lock unified lockfile with hashes."
    )
    add_profile(p)
    p.add_argument(
        "-o",
        "--output",
        type=Path,
        default=None,
        help="lockfile path (default: <profile stem>.conda-lock.yml beside the profile)",
    )
    p.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 when the lockfile is stale or missing, 0 when fresh",
    )
    p.add_argument(
        "--upgrade-package",
        "-P",
        action="append",
        default=[],
        metavar="NAME",
        help="re-solve only NAME (repeatable); every other package keeps its locked version",
    )
    p.add_argument(
        "--allow-local",
        action="store_true",
        help="no warning for files only this machine has (a lock for this machine only)",
    )
    p.add_argument("--json", action="store_true", help="print a JSON summary")
    p.set_defaults(
        run=lambda a: lock(
            profile=a.profile,
            output=a.output,
            check=a.check,
            json_out=a.json,
            upgrade=a.upgrade_package,
            allow_local=a.allow_local,
        )
    )


def lock(
    *,
    profile: Path | None = None,
    output: Path | None = None,
    check: bool = False,
    json_out: bool = False,
    upgrade: list[str] | None = None,
    allow_local: bool = False,
) -> int:
    """Lock ``profile`` into ``output`` (or check that lockfile); return the exit code.
    With ``upgrade``, only those packages are re-solved; the rest keep the versions of
    the lockfile there."""
    from provisioner.lock.location import lock_location
    from provisioner.lock.lockfile import lock_profile, read_lockfile, write_lockfile
    from provisioner.lock.staleness import Cause, Staleness, staleness
    from provisioner.profile import load_profile

    check_output_file(output, "-o", stream=False)  # a lockfile is a file
    resolved = load_profile(profile_or_default(profile))
    path = output or lock_location(resolved).path
    if check:
        stale = (
            staleness(read_lockfile(path), resolved) if path.is_file() else Staleness(Cause.MISSING)
        )
        state = "fresh" if stale is None else stale.cause.value
        if stale is not None and stale.cause is not Cause.MISSING:
            state = "stale"
        if json_out:
            doc = {
                "lockfile": str(path),
                "state": state,
                "cause": None if stale is None else stale.cause.value,
                "changed": [] if stale is None else list(stale.inputs),
            }
            print(json.dumps(doc))
        else:
            why = f" ({stale.describe()})" if stale is not None and state == "stale" else ""
            fix = "" if stale is None else f" (fix: provision lock {relpath(resolved.path)})"
            out = sys.stdout if stale is None else sys.stderr
            print(f"{relpath(path)}: {state}{why}{fix}", file=out)
        return int(ExitCode.OK if stale is None else ExitCode.NOT_READY)
    check_writable(path)  # before the solve, which can take minutes
    start = time.monotonic()
    changes: list[str] = []
    if upgrade:
        from provisioner.lock.update import check_upgrade_names, read_existing, relock

        old = read_existing(path)
        check_upgrade_names(upgrade, old, resolved)
        relocked = relock(resolved, old, upgrade=upgrade)
        locked, changes = relocked.new, relocked.changes()
    else:
        locked = lock_profile(resolved)
    try:
        write_lockfile(locked, resolved, path)
    except OSError as e:
        raise ProvisionError(
            f"{path}: cannot write the lockfile: {e.strerror}", hint=WRITABLE_HINT
        ) from e
    elapsed = time.monotonic() - start
    if profile is not None and not allow_local:  # the embedded profile's lock never travels
        from provisioner.lock.travel import warn_outside

        warn_outside(locked, resolved)
    counts = {
        platform: {
            "conda": len(locked.for_platform(platform, "conda")),
            "pip": len(locked.for_platform(platform, "pip")),
        }
        for platform in locked.platforms
    }
    if json_out:
        print(
            json.dumps(
                {
                    "lockfile": str(path),
                    "content_hash": locked.content_hash,
                    "platforms": counts,
                    "seconds": round(elapsed, 3),
                    **({"changes": changes} if upgrade else {}),
                }
            )
        )
    else:
        summary = ", ".join(
            f"{platform}: {c['conda']} conda + {c['pip']} pip" for platform, c in counts.items()
        )
        print(f"wrote {relpath(path)} ({summary}) in {elapsed:.1f}s")
        if upgrade:
            print("\n".join(f"  {c}" for c in changes) or "  no package changed")
    return int(ExitCode.OK)


def check_writable(path: Path) -> None:
    """Fail now, with one line, if the lockfile cannot be written to ``path``.

    Writing needs a new entry in its folder (the folder, or its nearest existing
    parent when the folder is to be created), so a throwaway folder is made there
    and removed: this checks what the write will do, which `os.access` cannot
    (as root it says yes to /proc)."""
    if path.is_dir():
        raise ProvisionError(
            f"{path}: cannot write the lockfile: it is a directory", hint=WRITABLE_HINT
        )
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise ProvisionError(
            f"{path}: cannot write the lockfile: {folder} is not a directory", hint=WRITABLE_HINT
        )
    try:
        Path(tempfile.mkdtemp(prefix=f".{path.name}.check-", dir=folder)).rmdir()
    except OSError as e:
        raise ProvisionError(
            f"{path}: cannot write the lockfile: cannot create files in {folder} ({e.strerror})",
            hint=WRITABLE_HINT,
        ) from e
