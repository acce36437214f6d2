"""The lock step's decision, in process, for every lock mode (docs/lock.md): which
lockfile an apply builds from, when it re-locks, and when it stops (exit 1 for a host
or lock that cannot serve, exit 2 for what the user must supply).

A venv profile and lockfiles written with the real writer: no solve runs here (the
``change`` half, which solves, is covered end to end in test_apply_lock_modes.py)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from provisioner.apply.lockstep import LockStep, lockfile_unwritable
from provisioner.apply.run import Context, Findings, LockMode, Options
from provisioner.errors import ExitCode, ExternalFailure, HostNotReady, ProvisionError
from provisioner.lock import Lock, LockedPackage
from provisioner.lock.inputs import input_digests, inputs_hash
from provisioner.lock.location import lock_location
from provisioner.lock.lockfile import write_lockfile
from provisioner.lock.staleness import Cause
from provisioner.profile import ResolvedProfile, default_profile_path, load_profile
from provisioner.state import State, file_sha256
from tests.support.profiles import profile_document, write_profile

MODES: tuple[LockMode, ...] = ("update", "locked", "frozen")


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PROVISION_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def profile(tmp_path: Path, pip: list[str] | None = None, os_: str = "linux") -> ResolvedProfile:
    env: dict[str, object] = {"manager": "venv", "python": "3.11", "pip": pip or ["six==1.17.0"]}
    return load_profile(write_profile(tmp_path / "lab.yaml", profile_document("lab", env, os_=os_)))


def lock_for(resolved: ResolvedProfile, platforms: tuple[str, ...] = ("linux-64",)) -> Lock:
    """A lock as `provision lock` makes it for ``resolved`` (its inputs recorded)."""
    pkgs = tuple(
        LockedPackage("pip", "six", "1.17.0", p, "file:///w/six-1.17.0-py3-none-any.whl", "0" * 64)
        for p in platforms
    )
    inputs = tuple(input_digests(resolved).items())
    return Lock(inputs_hash(resolved), platforms, (), pkgs, inputs)


def beside(resolved: ResolvedProfile, lock: Lock | None = None) -> Path:
    return write_lockfile(lock or lock_for(resolved), resolved, lock_location(resolved).path)


def edit_pip(resolved: ResolvedProfile, pip: list[str]) -> ResolvedProfile:
    data = yaml.safe_load(resolved.path.read_text())
    data["environment"]["pip"] = pip
    resolved.path.write_text(yaml.safe_dump(data))
    return load_profile(resolved.path)


def ctx(
    resolved: ResolvedProfile, mode: LockMode = "update", state: State | None = None
) -> Context:
    prefix = resolved.path.parent / "env"
    return Context(resolved, Options(lock_mode=mode), "linux-64", prefix, state, 0.0)


def check(context: Context) -> tuple[str, str, bool]:
    found = LockStep().check(context, Findings())
    return found.status, found.reason, found.fresh


@pytest.mark.parametrize("mode", MODES)
def test_a_fresh_lock_beside_the_profile_is_used_in_every_mode(
    tmp_path: Path, mode: LockMode
) -> None:
    resolved = profile(tmp_path)
    path = beside(resolved)
    assert check(ctx(resolved, mode)) == ("ok", f"fresh lock {path}", True)


def test_a_stale_lock_beside_the_profile_is_updated_in_place_by_default(tmp_path: Path) -> None:
    resolved = profile(tmp_path)
    path = beside(resolved)
    edited = edit_pip(resolved, ["six==1.16.0"])
    found = LockStep().check(ctx(edited, "update"), Findings())
    assert (found.status, found.reason) == (
        "change",
        f"update the stale lock {path} in place (environment.pip changed)",
    )
    assert found.beside is True and found.locked is None and found.target == path
    assert found.stale is not None and found.stale.cause is Cause.INPUTS
    assert found.stale.inputs == ("environment.pip",)


def test_locked_refuses_a_stale_lock_beside_the_profile(tmp_path: Path) -> None:
    resolved = profile(tmp_path)
    path = beside(resolved)
    edited = edit_pip(resolved, ["six==1.16.0"])
    with pytest.raises(HostNotReady) as e:
        check(ctx(edited, "locked"))
    assert e.value.message == f"--locked: the lockfile {path} is stale (environment.pip changed)"
    assert e.value.exit_code == ExitCode.NOT_READY
    assert e.value.hint is not None and "provision lock" in e.value.hint


def test_frozen_installs_a_stale_lock_as_it_is_and_says_so(tmp_path: Path) -> None:
    resolved = profile(tmp_path)
    path = beside(resolved)
    edited = edit_pip(resolved, ["six==1.16.0"])
    found = LockStep().check(ctx(edited, "frozen"), Findings())
    assert (found.status, found.fresh) == ("ok", False)
    assert found.reason == f"--frozen: install {path} as it is (stale: environment.pip changed)"
    assert found.locked is not None and found.locked.sha256 == file_sha256(path)


@pytest.mark.parametrize(("mode", "status"), [("update", "change"), ("frozen", "fail")])
def test_without_any_lock_apply_locks_into_its_own_folder_unless_frozen(
    tmp_path: Path, mode: LockMode, status: str
) -> None:
    resolved = profile(tmp_path)
    context = ctx(resolved, mode)
    own = lock_location(context.resolved).own
    if status == "fail":
        with pytest.raises(ProvisionError) as e:
            check(context)
        assert e.value.exit_code == ExitCode.INVALID
        assert e.value.message == (
            f"--frozen: there is no lock to install: neither "
            f"{lock_location(resolved).path} nor {own} exists"
        )
        return
    assert check(context) == ("change", f"lock into {own} (no lockfile yet)", False)


def test_locked_needs_a_lock_beside_the_profile(tmp_path: Path) -> None:
    resolved = profile(tmp_path)
    with pytest.raises(HostNotReady, match=r"^--locked: there is no lockfile beside the profile"):
        check(ctx(resolved, "locked"))


@pytest.mark.parametrize("mode", ["update", "frozen"])
def test_apply_s_own_fresh_lock_is_used(tmp_path: Path, mode: LockMode) -> None:
    resolved = profile(tmp_path)
    context = ctx(resolved, mode)
    own = write_lockfile(lock_for(resolved), resolved, lock_location(context.resolved).own)
    assert check(context) == ("ok", f"fresh lock {own}", True)


@pytest.mark.parametrize("damage", [b"", b"version: 1\n", b"\x00\xff", b"[" * 10_000])
def test_a_damaged_own_lock_is_made_again_but_frozen_stops_on_it(
    tmp_path: Path, damage: bytes
) -> None:
    resolved = profile(tmp_path)
    own = lock_location(resolved).own
    own.parent.mkdir(parents=True)
    own.write_bytes(damage)
    status, reason, fresh = check(ctx(resolved, "update"))
    assert (status, fresh) == ("change", False)
    assert reason.startswith(f"lock into {own} (stale: {own}: not a valid conda-lock file")
    with pytest.raises(ProvisionError) as e:
        check(ctx(resolved, "frozen"))
    assert e.value.exit_code == ExitCode.INVALID


def test_a_damaged_lock_beside_the_profile_is_exit_2_in_every_mode(tmp_path: Path) -> None:
    resolved = profile(tmp_path)
    lock_location(resolved).path.write_text("package: [\n")
    for mode in MODES:
        with pytest.raises(ProvisionError, match="not a valid conda-lock file") as e:
            check(ctx(resolved, mode))
        assert e.value.exit_code == ExitCode.INVALID


def recorded(resolved: ResolvedProfile, path: Path, **changes: str) -> State:
    state = State(
        "lab-env",
        str(resolved.path.parent / "env"),
        "venv",
        "linux-64",
        "verified",
        lock_path=str(path),
        lock_sha256=file_sha256(path),
        lock_inputs_hash=inputs_hash(resolved),
    )
    return state.but(**changes)


def test_the_recorded_lock_is_trusted_without_parsing_it(tmp_path: Path) -> None:
    resolved = profile(tmp_path)
    path = beside(resolved)
    state = recorded(resolved, path)
    assert check(ctx(resolved, "update", state)) == ("ok", f"fresh lock {path} (recorded)", True)


@pytest.mark.parametrize(
    "changes",
    [
        {"lock_sha256": "0" * 64},  # the file changed since
        {"platform": "linux-aarch64"},  # recorded on another platform
        {"lock_inputs_hash": ""},  # installed stale (--frozen) last time
        {"lock_inputs_hash": "sha256:other"},  # the profile's inputs changed
    ],
)
def test_a_record_that_does_not_match_is_not_trusted(
    tmp_path: Path, changes: dict[str, str]
) -> None:
    resolved = profile(tmp_path)
    path = beside(resolved)
    context = ctx(resolved, "update", recorded(resolved, path, **changes))
    assert check(context) == ("ok", f"fresh lock {path}", True)  # parsed and checked


def test_the_recorded_validation_key_says_the_lock_inputs_are_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under the key recorded with the lock (profile/validation_key.py) the lock inputs
    are not computed (the compatibility data and the lock-input code are not loaded);
    under any other key, or with no inputs recorded (a stale install), they are."""
    import provisioner.apply.lockstep as lockstep

    resolved = profile(tmp_path)
    path = beside(resolved)
    key = resolved.validation_key
    assert key
    computed: list[str] = []
    real = inputs_hash

    def counted(r: ResolvedProfile) -> str:
        computed.append(r.name)
        return real(r)

    monkeypatch.setattr(lockstep, "inputs_hash", counted)
    same = recorded(resolved, path, validation_key=key, lock_inputs_hash="sha256:recorded")
    assert check(ctx(resolved, "update", same)) == ("ok", f"fresh lock {path} (recorded)", True)
    assert computed == []
    other = recorded(resolved, path, validation_key="sha256:other")
    assert check(ctx(resolved, "update", other)) == ("ok", f"fresh lock {path} (recorded)", True)
    assert computed == ["lab"]
    stale = recorded(resolved, path, validation_key=key, lock_inputs_hash="")
    assert check(ctx(resolved, "update", stale)) == ("ok", f"fresh lock {path}", True)  # parsed


def test_frozen_trusts_a_recorded_stale_install(tmp_path: Path) -> None:
    resolved = profile(tmp_path)
    path = beside(resolved)
    state = recorded(resolved, path, lock_inputs_hash="")
    assert check(ctx(resolved, "frozen", state)) == ("ok", f"fresh lock {path} (recorded)", True)


def test_a_lock_for_other_platforms_is_stale_and_frozen_cannot_install_it(
    tmp_path: Path,
) -> None:
    """Its inputs agree, its platforms do not: re-locked by default; under --frozen,
    which installs what it is given, one line naming the platforms."""
    resolved = profile(tmp_path)
    path = beside(resolved, lock_for(resolved, ("linux-aarch64",)))
    assert check(ctx(resolved)) == (
        "change",
        f"update the stale lock {path} in place (target.os changed)",
        False,
    )
    with pytest.raises(ExternalFailure) as e:
        check(ctx(resolved, "frozen"))
    assert e.value.message == (
        f"the lock {path} has no packages for linux-64, the platform apply runs on "
        "(it has linux-aarch64)"
    )
    assert e.value.exit_code == ExitCode.NOT_READY


def test_a_profile_for_another_os_is_not_applied_here(tmp_path: Path) -> None:
    resolved = profile(tmp_path, os_="windows")
    with pytest.raises(HostNotReady) as e:
        check(ctx(resolved))
    assert e.value.message.startswith("the profile targets windows (win-64); this machine is")
    assert e.value.hint is not None and "bootstrap script" in e.value.hint


def test_an_unwritable_lock_folder_is_named(tmp_path: Path) -> None:
    assert lockfile_unwritable(tmp_path / "lab.conda-lock.yml") == ""
    missing = tmp_path / "gone" / "lab.conda-lock.yml"
    assert (
        lockfile_unwritable(missing)
        == f"cannot create files in {missing.parent} (No such file or directory)"
    )
    assert list(tmp_path.iterdir()) == []  # the probe leaves nothing behind


def test_a_shipped_profile_s_lockfile_is_provision_s_own_and_locked_holds_it_to_that(
    tmp_path: Path,
) -> None:
    """The shipped profile's folder is the installed package: its lockfile is the one
    `provision lock` writes for it under PROVISION_HOME, which --locked uses when fresh
    and refuses when stale or missing."""
    resolved = load_profile(default_profile_path())
    where = lock_location(resolved)
    assert where.path == where.own and not where.beside
    assert where.own.parent == tmp_path / "home" / "locks"
    with pytest.raises(HostNotReady) as e:
        check(ctx(resolved, "locked"))
    assert e.value.message == f"--locked: there is no lockfile ({where.own})"
    fresh = lock_for(resolved)
    write_lockfile(fresh, resolved, where.own)
    assert check(ctx(resolved, "locked")) == ("ok", f"fresh lock {where.own}", True)
    inputs = tuple((k, "0" * 16 if k == "environment.pip" else v) for k, v in fresh.inputs)
    write_lockfile(replace(fresh, inputs=inputs), resolved, where.own)
    with pytest.raises(HostNotReady) as e:
        check(ctx(resolved, "locked"))
    assert e.value.message == (
        f"--locked: the lockfile {where.own} is stale (environment.pip changed)"
    )
    assert check(ctx(resolved, "update"))[:2] == (
        "change",
        f"lock into {where.own} (stale: environment.pip changed)",
    )
