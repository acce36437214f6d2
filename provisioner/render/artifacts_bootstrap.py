"""``bootstrap.sh`` (linux, wsl2) and ``bootstrap.ps1`` (windows): converge a machine
from the rendered folder without the tool installed.

Each script runs the check script, creates the environment from the lock, runs
``smoke_test.py`` and writes the same report JSON as ``provision apply``. The
locked package lists are embedded in the script (from ``conda-lock.yml``, read and
validated once by the render command):

- conda: an ``@EXPLICIT`` spec list (``url#md5``, the form conda, mamba and
  micromamba all accept) for ``<conda-exe> create -y -p PREFIX --file``;
- pip: ``name @ url --hash=sha256:...`` lines for ``pip install --require-hashes
  --no-deps`` with the environment's own Python.

The script also embeds the lockfile's sha256, refuses a ``conda-lock.yml`` changed
since render, and stamps the prefix with it once the smoke test passed: a second run
on a matching prefix skips the build and the smoke test.

What the scripts share with ``provision apply`` comes from one typed contract, and
they get it as data: the state skeleton (``provisioner.state``: a verified ``State``
less what only the run knows), the report skeleton (``report.model.report_skeleton``),
the activation data (``env/activation.py``) and the state file's path. The code that
runs with the environment's own Python (the prefix fingerprint, the activation writer,
the state journal) is apply's own, packed once into the scripts' helper
(``target/bootstrap.py``, ``target/pack.py``): both scripts run the same program.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cache
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any

from provisioner.errors import ProvisionError
from provisioner.host.patterns import PY_LAUNCHER_LINE, PYTHON_PROBE
from provisioner.lock import Lock
from provisioner.paths import data_home
from provisioner.platforms import target_subdir
from provisioner.profile import ResolvedProfile
from provisioner.render import Artifact, RenderContext
from provisioner.state import PackageRecord, State, VerifySummary, state_path, verified_skeleton
from provisioner.target import BOOTSTRAP_MODULES
from provisioner.templating import render_template

NO_LOCK_MESSAGE = "no conda-lock.yml here: run `provision lock PROFILE` before render"


@dataclass(frozen=True)
class LockedLists:
    """What the script installs for one platform, taken from the validated lock."""

    platform: str
    lock_sha256: str
    explicit: tuple[str, ...]  # "url#md5" (or "url#sha256:<hex>" without an md5)
    conda_sha256: tuple[str, ...]  # the sha256 of each ``explicit`` entry, same order
    requirements: tuple[str, ...]  # "name @ url --hash=sha256:<hex>"
    packages: tuple[PackageRecord, ...]  # for the state and the report


def locked_lists(lock: Lock, lock_text: str, platform: str) -> LockedLists:
    """The install lists for ``platform`` from ``lock`` (read and validated by
    ``provisioner.lock.lockfile.read_lockfile``); ``lock_text`` is the file's exact text,
    whose sha256 the script checks before installing."""
    explicit: list[str] = []
    conda_sha256: list[str] = []
    requirements: list[str] = []
    packages: list[PackageRecord] = []
    for pkg in lock.for_platform(platform):
        packages.append(PackageRecord.of(pkg))
        if pkg.manager == "conda":
            if not pkg.sha256:  # the scripts hash every artifact before installing it
                raise ProvisionError(
                    f"conda-lock.yml: conda package {pkg.spec()} ({platform}) has no sha256",
                    hint="re-create the lockfile with `provision lock PROFILE`",
                )
            conda_sha256.append(pkg.sha256)
            explicit.append(f"{pkg.url}#{pkg.md5}" if pkg.md5 else f"{pkg.url}#sha256:{pkg.sha256}")
        elif not pkg.sha256:  # pip --require-hashes needs one for every requirement
            raise ProvisionError(
                f"conda-lock.yml: pip package {pkg.name} {pkg.version} ({platform}) has no sha256",
                hint="re-create the lockfile with `provision lock PROFILE`",
            )
        else:
            requirements.append(f"{pkg.name} @ {pkg.url} --hash=sha256:{pkg.sha256}")
    return LockedLists(
        platform,
        hashlib.sha256(lock_text.encode("utf-8")).hexdigest(),
        tuple(explicit),
        tuple(conda_sha256),
        tuple(requirements),
        tuple(packages),
    )


def _lists(ctx: RenderContext, platform: str) -> LockedLists | None:
    """The render command puts the lockfile's text and its validated Lock in
    ``ctx.extras`` (``lock_text``, ``lock``); without them the script refuses to run."""
    lock_text = ctx.extras.get("lock_text")
    if lock_text is None:
        return None
    lock = ctx.extras.get("lock")
    if not isinstance(lock_text, str) or not isinstance(lock, Lock):
        raise ValueError(
            "bootstrap rendered with extras['lock_text'] but no validated extras['lock']"
        )
    return locked_lists(lock, lock_text, platform)


def report_skeleton(ctx: RenderContext, script: str, lists: LockedLists | None) -> str:
    """The report's fixed part as JSON (docs/report.md), made by the report model
    (``report_skeleton``): what provision knows at render time. The script adds the run's
    result, host, checks, verification, steps and times."""
    from provisioner.report.model import LockInfo, ProfileInfo, report_skeleton

    skeleton = report_skeleton(
        tool=f"{script} (provision {ctx.tool_version})",
        profile=ProfileInfo.of(ctx.resolved, path=ctx.resolved.path.name),
        lock=LockInfo(
            path="conda-lock.yml", sha256=lists.lock_sha256 if lists else None, fresh=True
        ),
        packages=lists.packages if lists else (),
    )
    return json.dumps(skeleton, separators=(",", ":"), ensure_ascii=True)


def _context(ctx: RenderContext, script: str) -> dict[str, Any]:
    from provisioner.report.model import SCHEMA

    r = ctx.resolved
    p = r.profile
    platform = target_subdir(r.profile.target)
    lists = _lists(ctx, platform)
    return {
        "report_schema": SCHEMA,
        "report_skeleton": report_skeleton(ctx, script, lists),
        "tool_version": ctx.tool_version,
        "profile": p,
        "profile_path": str(r.path.name),
        "content_hash": r.content_hash,
        "platform": platform,
        "has_lock": lists is not None,
        "lock_sha256": lists.lock_sha256 if lists else "",
        "explicit": lists.explicit if lists else (),
        "conda_sha256": lists.conda_sha256 if lists else (),
        "requirements": lists.requirements if lists else (),
        "no_lock_message": NO_LOCK_MESSAGE,
        "variables": _variables(r),
        "bootstrap_data": _json_literal(bootstrap_data(ctx, platform, lists)),
        "helper_code": helper_program(),
        "state_relpath": _state_relpath(p.environment.name),
        "state_relpath_windows": str(PureWindowsPath(_state_relpath(p.environment.name))),
        "py_launcher_line": PY_LAUNCHER_LINE,  # bootstrap.ps1's Find-Python (ps1/python.ps1.j2)
        "python_probe": PYTHON_PROBE,  # ... and what it asks each candidate
    }


def bootstrap_data(ctx: RenderContext, platform: str, lists: LockedLists | None) -> dict[str, Any]:
    """What the scripts' helper reads (``target/bootstrap.py``): the state skeleton, the
    measured fields it completes from the smoke test's result, the activation data."""
    return {
        "state": {
            "skeleton": state_skeleton(ctx, platform, lists),
            "measured": list(VerifySummary.MEASURED),
        },
        "activation": _activation_data(ctx.resolved),
    }


@cache
def helper_program() -> str:
    """The scripts' helper: apply's fingerprint, activation writer and state journal
    packed with ``target/bootstrap.py``, run with the environment's own Python."""
    from provisioner.target.pack import pack

    return pack(BOOTSTRAP_MODULES).program(
        epilogue='if __name__ == "__main__":\n    sys.exit(main(sys.argv[1:]))'
    )


def state_skeleton(ctx: RenderContext, platform: str, lists: LockedLists | None) -> dict[str, Any]:
    """apply's state of an environment built from this lock and verified by its smoke
    test, less what only the run knows (``provisioner.state.verified_skeleton``): made by
    ``State`` itself, so the field names, the phase, the version and the package list
    have one home."""
    env = ctx.resolved.profile.environment
    state = State(
        env=env.name,
        prefix="",
        manager=env.manager.value,
        platform=platform,
        phase="verified",
        profile_hash=ctx.resolved.content_hash,
        profile=ctx.resolved.profile.name,
        lock_sha256=lists.lock_sha256 if lists else "",
        packages=lists.packages if lists else (),
        verification=VerifySummary("smoke", "smoke test passed"),
    )
    return verified_skeleton(state)


def _state_relpath(env: str) -> PurePosixPath:
    """apply's state file relative to the data home (``state/<env>.json``)."""
    return PurePosixPath(state_path(env).relative_to(data_home()).as_posix())


def _json_literal(data: object) -> str:
    """``data`` as ASCII JSON without a single quote (``\\u0027``): a plain literal in
    both scripts, whatever the values hold."""
    text = json.dumps(data, separators=(",", ":"), sort_keys=True, ensure_ascii=True)
    return text.replace("'", "\\u0027")


def _activation_data(r: ResolvedProfile) -> dict[str, Any]:
    """What apply writes so that activating the environment sets its variables
    (``provisioner/env/activation.py``)."""
    from provisioner.env.activation import activation_data

    env = r.profile.environment
    try:
        return activation_data(env.manager.value, env.variables)
    except ProvisionError:
        # A name valid only on Windows (``ProgramFiles(x86)``): no activation script can
        # set it, and apply refuses it there too; the script leaves the activation alone.
        return activation_data(env.manager.value, {})


def _variables(r: ResolvedProfile) -> list[tuple[str, str]]:
    """``environment.variables``, sorted; their names were checked at validate
    (``provisioner.profile.values``), so each is a plain identifier a shell can export."""
    return sorted(r.profile.environment.variables.items())


def render_bootstrap_sh(ctx: RenderContext) -> str:
    return render_template("bootstrap.sh.j2", **_context(ctx, "bootstrap.sh"))


def render_bootstrap_ps1(ctx: RenderContext) -> str:
    return render_template("bootstrap.ps1.j2", **_context(ctx, "bootstrap.ps1"))


ARTIFACTS: tuple[Artifact, ...] = (
    Artifact(
        "bootstrap.sh",
        render_bootstrap_sh,
        executable=True,
        applies=lambda r: r.profile.target.os.value in ("linux", "wsl2"),
    ),
    Artifact(
        "bootstrap.ps1",
        render_bootstrap_ps1,
        applies=lambda r: r.profile.target.os.value == "windows",
    ),
)
