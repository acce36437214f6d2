"""Lock modes, end to end with a real local channel (and the two named stand-in packages
of apply_e2e): a lock beside the profile is never silently bypassed. Fresh: used.
Stale: updated in place, said on stderr (or refused where it cannot be written);
``--locked`` refuses it; ``--frozen`` installs it as it is, never solving; ``plan``
says which will happen."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.apply.apply_e2e import REPO, Provision, conda_profile

pytestmark = pytest.mark.slow


def _edit(profile: Path, **environment: object) -> None:
    data = yaml.safe_load(profile.read_text())
    data["environment"].update(environment)
    profile.write_text(yaml.safe_dump(data, sort_keys=False))


def _locked_beside(provision: Provision, channel: Path, folder: Path) -> tuple[Path, Path]:
    profile = conda_profile(folder, channel, tool="1.0")
    done = provision("lock", str(profile))
    assert done.returncode == 0, done.stderr
    return profile, profile.parent / "e2e.conda-lock.yml"


def test_a_description_edit_keeps_the_lock_fresh(
    provision: Provision, channel: Path, tmp_path: Path
) -> None:
    profile, lockfile = _locked_beside(provision, channel, tmp_path / "p")
    before = lockfile.read_bytes()
    data = yaml.safe_load(profile.read_text())
    data["description"] = "now with a description"
    data["smoke_test"]["steps"] = 50
    profile.write_text(yaml.safe_dump(data, sort_keys=False))
    assert provision("lock", str(profile), "--check").returncode == 0
    done = provision("apply", str(profile), "--verify", "import", "--json")
    assert done.returncode == 0, done.stderr
    lock_step = json.loads(done.stdout)["steps"][1]
    assert (lock_step["status"], lock_step["reason"]) == ("ok", f"fresh lock {lockfile}")
    assert lockfile.read_bytes() == before
    assert not (provision.home / "locks").exists()


def test_frozen_installs_a_stale_lock_without_solving(
    provision: Provision, channel: Path, tmp_path: Path
) -> None:
    profile, lockfile = _locked_beside(provision, channel, tmp_path / "p")
    before = lockfile.read_bytes()
    # Stale, and unsolvable: a solve would have to read a channel that does not exist.
    _edit(
        profile,
        channels=[(tmp_path / "no-such-channel").as_uri()],
        conda=["app", "tool=2.0", "pytorch"],
    )
    stale = provision("lock", str(profile), "--check")
    assert stale.returncode == 1 and "environment.channels, environment.conda" in stale.stderr
    done = provision("apply", str(profile), "--frozen", "--verify", "import", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["lock"] == {
        "path": str(lockfile),
        "sha256": report["lock"]["sha256"],
        "fresh": False,
    }
    assert report["steps"][1]["reason"].startswith(f"--frozen: install {lockfile} as it is")
    assert (provision.prefix / "share/tool/VERSION").read_text() == "1.0\n"  # the lock's pin
    assert lockfile.read_bytes() == before and not (provision.home / "locks").exists()
    # Again: nothing to do, still without solving.
    again = json.loads(
        provision("apply", str(profile), "--frozen", "--verify", "import", "--json").stdout
    )
    assert again["result"] == "converged"


def test_frozen_without_a_lock_is_an_error(
    provision: Provision, channel: Path, tmp_path: Path
) -> None:
    profile = conda_profile(tmp_path / "p", channel)
    done = provision("apply", str(profile), "--frozen", "--verify", "import")
    assert done.returncode == 2
    assert "--frozen: there is no lock to install: neither" in done.stderr
    assert f"(fix: run `provision lock {profile}` first" in done.stderr
    assert not provision.prefix.exists()


def test_locked_refuses_a_stale_or_missing_lock(
    provision: Provision, channel: Path, tmp_path: Path
) -> None:
    profile = conda_profile(tmp_path / "none", channel)
    missing = provision("apply", str(profile), "--locked", "--verify", "import")
    assert missing.returncode == 1
    assert "--locked: there is no lockfile beside the profile" in missing.stderr
    profile, lockfile = _locked_beside(provision, channel, tmp_path / "p")
    before = lockfile.read_bytes()
    _edit(profile, pip=["six==1.16.0"])
    done = provision("apply", str(profile), "--locked", "--verify", "import")
    assert done.returncode == 1, done.stderr
    assert f"--locked: the lockfile {lockfile} is stale (environment.pip changed)" in done.stderr
    assert "(fix: run `provision lock" in done.stderr
    assert lockfile.read_bytes() == before and not provision.prefix.exists()
    plan = provision("plan", str(profile), "--locked", "--skip-checks", "--json")
    assert plan.returncode == 1
    assert json.loads(plan.stdout)["steps"][-1]["status"] == "fail"


def test_a_stale_lock_beside_the_profile_is_updated_in_place_loudly(
    provision: Provision, channel: Path, tmp_path: Path
) -> None:
    profile, lockfile = _locked_beside(provision, channel, tmp_path / "p")
    _edit(profile, conda=["app", "tool=2.0", "pytorch"])
    plan = json.loads(provision("plan", str(profile), "--skip-checks", "--json").stdout)
    assert plan["steps"][1]["status"] == "change"
    assert plan["steps"][1]["reason"] == (
        f"update the stale lock {lockfile} in place (environment.conda changed)"
    )
    done = provision("apply", str(profile), "--verify", "import")
    assert done.returncode == 0, done.stderr
    assert "provision: warning: " in done.stderr
    assert "was stale (environment.conda changed); re-locked and updated it in place" in (
        done.stderr
    )
    assert provision("lock", str(profile), "--check").returncode == 0
    assert "version: '2.0'" in lockfile.read_text()
    assert (provision.prefix / "share/tool/VERSION").read_text() == "2.0\n"
    assert not (provision.home / "locks").exists()  # the lock beside the profile, no other


def test_a_stale_lock_that_cannot_be_written_stops_with_the_fix(
    provision: Provision, channel: Path, tmp_path: Path
) -> None:
    """The profile's folder is a read-only bind mount in a private mount namespace
    (root can write to any folder, so permissions alone would not stop it)."""
    profile, lockfile = _locked_beside(provision, channel, tmp_path / "ro")
    _edit(profile, conda=["app", "tool=2.0", "pytorch"])
    folder = shlex.quote(str(profile.parent))
    apply = shlex.join([sys.executable, "-m", "provisioner", "apply", str(profile)])
    script = (
        f"mount --bind {folder} {folder} && mount -o remount,bind,ro {folder} && "
        f"{apply} --skip-checks --verify import"
    )
    try:
        done = subprocess.run(
            ["unshare", "-m", "sh", "-c", script],
            env=provision.env,
            capture_output=True,
            text=True,
            timeout=300,
            cwd=REPO,
        )
    except FileNotFoundError:
        pytest.skip("needs unshare(1) for a read-only bind mount")
    if "mount" in done.stderr and "Operation not permitted" in done.stderr:
        pytest.skip("needs a private mount namespace (root) for a read-only bind mount")
    assert done.returncode == 1, done.stderr
    assert f"the lockfile {lockfile} beside the profile is stale (environment.conda changed)" in (
        done.stderr
    )
    assert "Read-only file system" in done.stderr
    assert "`provision apply --frozen` to install the lock as it is" in done.stderr
    assert not provision.prefix.exists()
