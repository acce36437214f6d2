"""The target side of a bundle: ``python -m provisioner.bundle.install --bundle DIR``,
run by the bundle's ``bootstrap.sh``/``bootstrap.ps1`` after they checked every hash.

It writes, under ``$PROVISION_HOME/bundles/<top>-<id>/``, the bundle's profile and a
copy of its lock whose URLs point at the bundle's own ``channel/`` and ``wheels/``
files (the sha256 of every package is unchanged, and apply checks each one again),
then converges them through apply's workflow (:func:`provisioner.apply.workflow.converge`)
as ``provision apply --frozen`` would, with the installers kept offline. The copies are
rewritten only when their bytes change, so a second run is a no-op apply.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import secrets
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from provisioner import bundle as b
from provisioner.atomic import write_atomic
from provisioner.errors import ExitCode, ExternalFailure, ProvisionError
from provisioner.inputs import LOCKFILE, MANIFEST, PROFILE, Kind, Unreadable, read_bounded

if TYPE_CHECKING:
    from provisioner.apply.workflow import Converged


def bundle_file(path: Path, kind: Kind = MANIFEST) -> bytes:
    """A file of the bundle, read bounded (a regular file of at most ``kind.cap`` bytes):
    anything else is a damaged bundle, one line, exit 1."""
    try:
        return read_bounded(path, kind)
    except Unreadable as e:
        raise ExternalFailure(
            f"{path}: the bundle is damaged: {e.reason}",
            hint="copy the whole bundle folder again",
        ) from None


def _text(path: Path, kind: Kind) -> str:
    try:
        return bundle_file(path, kind).decode("utf-8")
    except UnicodeDecodeError:
        raise ExternalFailure(
            f"{path}: the bundle is damaged: not UTF-8 text",
            hint="copy the whole bundle folder again",
        ) from None


def read_manifest(bundle: Path) -> dict[str, Any]:
    try:
        data = json.loads(bundle_file(bundle / b.MANIFEST).decode("utf-8"))
    except (ValueError, RecursionError) as e:
        raise ExternalFailure(
            f"{bundle / b.MANIFEST}: not a readable bundle manifest "
            f"({'nested too deeply' if isinstance(e, RecursionError) else e})",
            hint="copy the whole bundle folder again",
        ) from None
    needed = ("top", "platform", "environment")
    if (
        not isinstance(data, dict)
        or data.get("schema") != b.BUNDLE_SCHEMA
        or not all(isinstance(data.get(k), str) and data[k] for k in needed)
    ):
        raise ExternalFailure(
            f"{bundle / b.MANIFEST}: not a {b.BUNDLE_SCHEMA} manifest",
            hint="use the bootstrap script of the same bundle",
        )
    return data


def pooled(wheel: Path, pool: Path, sha256: str, *, share: bool = False) -> Path:
    """``pool/<sha256[:16]>/<file>``, a hard link to the bundle's wheel: the same wheel
    has the same URL in every bundle, so a bundle update reinstalls only what changed
    and uv's cache gets no second copy. With ``share`` (a bundle unpacked under
    ``PROVISION_HOME``), a wheel already pooled replaces the bundle's copy by a hard link
    to it, once its bytes are checked: every bundle of a host holds one copy of torch.
    Where no hard link can be made (another file system), the bundle's file is used."""
    if len(sha256) < 16:
        return wheel
    target = pool / sha256[:16] / wheel.name
    try:
        if target.is_file():
            there, here = target.stat(), wheel.stat()
            if (there.st_dev, there.st_ino) == (here.st_dev, here.st_ino):
                return target
            if _sha256(target) == sha256:
                if share:
                    _link_over(target, wheel)
                return target
            target.unlink()  # not the locked bytes: pooled again from this bundle
        target.parent.mkdir(parents=True, exist_ok=True)
        _link_over(wheel, target)
    except OSError:
        return wheel
    return target


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _link_over(source: Path, target: Path) -> None:
    """Make ``target`` a hard link to ``source`` in one rename."""
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")
    os.link(source, tmp)
    try:
        os.replace(tmp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def localized_lock(
    lock_text: str, bundle: Path, platform: str, pool: Path | None = None, share: bool = False
) -> str:
    """The lock with every package of ``platform`` pointing at the bundle's copy (pip
    wheels through ``pool``, when given: see :func:`pooled`)."""
    import yaml

    from provisioner.env.artifacts import file_url, filename

    data = yaml.safe_load(lock_text)
    for entry in data.get("package", []):
        if entry.get("platform") != platform:
            continue
        name = filename(str(entry["url"]))
        if entry.get("manager") == "conda":
            subdir = str(entry["url"]).rstrip("/").rsplit("/", 2)[-2]
            local = bundle / b.CHANNEL_DIR / subdir / name
        else:
            local = bundle / b.WHEELS_DIR / name
        if not local.is_file():
            raise ExternalFailure(
                f"the bundle has no file for locked package {entry.get('name')} ({local})",
                hint="copy the whole bundle again, and check it with `provision bundle --check`",
            )
        digests = entry.get("hash")
        if pool is not None and entry.get("manager") == "pip" and isinstance(digests, dict):
            local = pooled(local, pool, str(digests.get("sha256", "")), share=share)
        entry["url"] = file_url(local.resolve())
    header = "# provision bundle: the bundle's lock, pointed at its local files\n"
    return header + yaml.safe_dump(data, sort_keys=False, width=1 << 16)


def write_if_changed(path: Path, text: str) -> None:
    data = text.encode("utf-8")
    if path.is_file() and path.read_bytes() == data:
        return
    write_atomic(path, data)


@dataclass(frozen=True)
class Prepared:
    """The localized profile to converge, and where its environment goes (``None``:
    provision's own envs folder)."""

    profile: Path
    envs_dir: Path | None = None
    bundle_id: str = ""  # the first 16 hex digits of the manifest's sha256


def bundle_id(bundle: Path) -> str:
    """The bundle's id: the first 16 hex digits of its manifest's sha256 (the exported
    playbook names its folder on the hosts so; reports carry it)."""
    return hashlib.sha256(bundle_file(bundle / b.MANIFEST)).hexdigest()[:16]


def work_folder(bundle: Path, manifest: dict[str, Any] | None = None) -> Path:
    """Where :func:`prepare` writes the bundle's profile and localized lock."""
    from provisioner.paths import bundles_dir

    manifest = manifest if manifest is not None else read_manifest(bundle)
    sums = hashlib.sha256(bundle_file(bundle / b.SUMS)).hexdigest()[:12]
    return bundles_dir() / f"{manifest['top']}-{sums}"


def prepare(bundle: Path, prefix: Path | None) -> Prepared:
    """Write the localized profile and lock. With ``prefix`` the environment goes
    exactly there (its folder name becomes the environment name)."""
    from provisioner.paths import bundles_dir

    manifest = read_manifest(bundle)
    work = work_folder(bundle, manifest)
    profile_text = _text(bundle / b.PROFILE_FILE, PROFILE)
    envs_dir = None
    if prefix is not None:
        import yaml

        prefix = prefix.expanduser().absolute()
        envs_dir = prefix.parent
        if prefix.name != manifest["environment"]:
            data = yaml.safe_load(profile_text)
            data["environment"]["name"] = prefix.name
            profile_text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    profile = work / "profile.yaml"
    write_if_changed(profile, profile_text)
    lock_text = _text(bundle / b.LOCK_FILE, LOCKFILE)
    pool = bundles_dir() / "pool"
    share = bundles_dir().resolve() in bundle.resolve().parents  # unpacked by the playbook
    localized = localized_lock(lock_text, bundle, manifest["platform"], pool, share)
    write_if_changed(work / "profile.conda-lock.yml", localized)
    return Prepared(profile, envs_dir, bundle_id(bundle))


def converge_bundle(
    prepared: Prepared,
    *,
    verify: str,
    skip_checks: bool,
    host_name: str | None = None,
    run_id: str | None = None,
    dry_run: bool = False,
    force: bool = False,
) -> Converged:
    """``provision apply --frozen`` of the localized profile, offline: the lock is
    installed as it is, never solved, and every package comes from the bundle.
    ``dry_run`` only plans (changes nothing, writes no report); ``force`` hashes every
    installed file and verifies again."""
    from provisioner.apply.run import Options
    from provisioner.apply.workflow import converge
    from provisioner.profile import load_profile

    options = Options(
        dry_run=dry_run,
        skip_checks=skip_checks,
        quiet=True,
        verify=verify,
        force=force,
        lock_mode="frozen",
        envs_dir=prepared.envs_dir,
        offline=True,
    )
    return converge(
        load_profile(prepared.profile),
        options,
        change=not dry_run,
        host_name=host_name,
        run_id=run_id,
        bundle_id=prepared.bundle_id,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bootstrap")
    parser.add_argument("--bundle", type=Path, required=True)
    parser.add_argument("--prefix", type=Path)
    parser.add_argument("--verify", choices=("smoke", "import"), default="smoke")
    parser.add_argument("--skip-checks", action="store_true")
    parser.add_argument("--report", type=Path)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--host-name")
    parser.add_argument("--dry-run", action="store_true")
    parser.add_argument("--force", action="store_true")
    args = parser.parse_args(argv)
    try:
        prepared = prepare(args.bundle.resolve(), args.prefix)
        result = converge_bundle(
            prepared,
            verify=args.verify,
            skip_checks=args.skip_checks,
            host_name=args.host_name,
            dry_run=args.dry_run,
            force=args.force,
        )
    except ProvisionError as e:
        for line in e.lines():
            print(f"bootstrap: {line}", file=sys.stderr)
        return int(e.exit_code)
    report = result.report
    text = report.to_json()
    if args.report is not None and not args.dry_run:
        from provisioner.outputs import write_output

        write_output(args.report, text, "--report")
    if args.json:
        sys.stdout.write(text)
    else:
        for s in report.steps:
            print(f"{s.name:<12} {s.status:<8} {s.reason}")
        print(f"result: {report.result} ({report.duration_s:.2f}s)")
    if result.error is not None:  # after the report, as the CLI does
        for line in result.error.lines():
            print(f"bootstrap: {line}", file=sys.stderr)
    return result.exit_code


def entry() -> None:
    """Run :func:`main` and leave with ``os._exit`` (py-rattler's crash at exit)."""
    try:
        code = main()
    except Exception:  # the one boundary for bugs, as the CLI's
        from provisioner.crashlog import write_crash_log

        log = write_crash_log(sys.argv[1:])
        print(f"bootstrap: internal error (this is a bug; details in {log})", file=sys.stderr)
        code = int(ExitCode.INTERNAL)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    entry()
