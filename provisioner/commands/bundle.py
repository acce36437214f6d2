"""``provision bundle PROFILE [--platform P] -o OUT``: everything to build and verify the
profile's environment with no network, as a folder, a ``.tar.gz`` or a ``.zip``
(see :mod:`provisioner.bundle`). ``provision bundle --check OUT`` re-hashes a bundle
against its manifest: exit 0 intact, 1 damaged, 2 not a bundle.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from provisioner.errors import ExitCode, ProvisionError


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("profile", type=Path, nargs="?", help="profile YAML file (with its lock)")
    p.add_argument(
        "-o", "--output", type=Path, help="OUT.tar.gz, OUT.zip or a folder (holds one folder)"
    )
    p.add_argument(
        "--platform", help="conda subdir to bundle for (default: the lock's first platform)"
    )
    p.add_argument(
        "--tool-python",
        action="append",
        default=[],
        metavar="X.Y",
        help="host Python the carried provision runs on (repeatable; default: the profile's "
        "Python for venv profiles, else 3.10-3.13)",
    )
    p.add_argument(
        "--check", type=Path, metavar="BUNDLE", help="re-hash BUNDLE against its manifest"
    )
    p.set_defaults(
        run=lambda a: (
            check_bundle(path=a.check)
            if a.check is not None
            else bundle(
                profile=a.profile,
                output=a.output,
                platform=a.platform,
                tool_pythons=tuple(a.tool_python),
            )
        )
    )


def bundle(
    *,
    profile: Path | None,
    output: Path | None,
    platform: str | None = None,
    tool_pythons: tuple[str, ...] = (),
) -> int:
    """Collect, fetch and write the bundle; print its path, size and manifest sha256."""
    from provisioner.bundle.archive import write
    from provisioner.bundle.build import collect, sha256_file
    from provisioner.profile import load_profile

    if profile is None or output is None:
        raise ProvisionError(
            "bundle needs a PROFILE and -o OUT (or --check BUNDLE)",
            hint="provision bundle profiles/cpu.yaml -o cpu.tar.gz",
        )
    if not output.is_dir():  # an archive or a new folder: a file, never a device or pipe
        from provisioner.outputs import output_target

        output_target(output, "-o", stream=False)
        output = Path(os.path.realpath(output))  # a link the user named stays a link
    resolved = load_profile(profile)
    parent = output.absolute().parent
    parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()

    def say(stage: str) -> None:  # progress on stderr: stdout keeps the summary
        print(f"bundle: {stage} ({time.monotonic() - started:.0f}s)", file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory(prefix=".provision-bundle-", dir=parent) as tmp:
        contents = collect(
            resolved, platform=platform, tool_pythons=tool_pythons, work=Path(tmp), say=say
        )
        say(f"writing {output} ({contents.size / 2**20:.0f} MiB in {len(contents.entries)} files)")
        final = write(contents, output)
    manifest = next(e for e in contents.entries if e.path == "manifest.json")
    size = (
        sum(f.stat().st_size for f in final.rglob("*")) if final.is_dir() else final.stat().st_size
    )
    print(f"bundle     {final} ({size / 2**20:.1f} MiB, {len(contents.entries)} files)")
    print(f"platform   {contents.platform}")
    print(f"manifest   sha256 {manifest.sha256}")
    if not final.is_dir():
        print(f"archive    sha256 {sha256_file(final)}")
    sys.stdout.flush()
    return int(ExitCode.OK)


def check_bundle(*, path: Path) -> int:
    """Re-hash every file against the manifest; exit 1 naming each problem."""
    from provisioner.bundle.archive import check

    checked = check(path)
    for problem in checked.problems:
        print(f"provision: error: {problem}", file=sys.stderr)
    if checked.problems:
        print(
            f"provision: error: {path}: {len(checked.problems)} problem(s) in "
            f"{checked.files} files (fix: copy the bundle again, or re-bundle)",
            file=sys.stderr,
        )
        return int(ExitCode.NOT_READY)
    print(f"ok: {path} ({checked.top}): {checked.files} files match the manifest")
    return int(ExitCode.OK)
