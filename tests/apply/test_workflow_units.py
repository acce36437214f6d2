"""Small pieces of apply that the end-to-end tests cannot reach: ENOSPC mapping, the
state file round trip, and the apply lock within one process."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from provisioner.apply.guard import ApplyBusy, exclusive
from provisioner.apply.state import State, env_fingerprint, read_state, state_path, write_state
from provisioner.apply.workflow import os_failure
from provisioner.errors import ExitCode, ExternalFailure


def test_enospc_becomes_one_error_with_a_fix() -> None:
    err = os_failure(OSError(errno.ENOSPC, "No space left on device", "/data/state.json"))
    assert isinstance(err, ExternalFailure) and err.exit_code == ExitCode.NOT_READY
    assert err.lines() == [
        "error: the disk is full writing /data/state.json (fix: free space on the disk that "
        "holds PROVISION_HOME and the package caches, then apply again (it resumes))"
    ]
    quota = os_failure(OSError(errno.EDQUOT, "Disk quota exceeded", "/data/r.json"))
    assert quota.lines()[0].startswith("error: the disk is full writing /data/r.json (fix:")


def test_other_oserror_becomes_one_error_naming_the_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROVISION_HOME", str(tmp_path / "home"))
    err = os_failure(OSError(errno.EACCES, "Permission denied", "/data/state"))
    assert isinstance(err, ExternalFailure) and err.exit_code == ExitCode.NOT_READY
    assert err.lines() == [
        f"error: cannot access /data/state: Permission denied (fix: make sure PROVISION_HOME "
        f"({tmp_path / 'home'}) and the folders under it are folders you can write to, then "
        "apply again)"
    ]


def test_state_round_trip_and_unreadable_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROVISION_HOME", str(tmp_path))
    s = State(
        "e",
        "/p",
        "venv",
        "linux-64",
        "verified",
        lock_sha256="ab",
        fingerprint="cd",
        verify_kind="smoke",
        packages=[{"name": "six"}],
    )
    write_state(s)
    assert read_state("e") == s
    assert s.good_for(lock_sha256="ab", fingerprint="cd", verify_kind="import")
    assert not s.good_for(lock_sha256="ab", fingerprint="xx", verify_kind="smoke")
    assert not s.but(phase="built").good_for(
        lock_sha256="ab", fingerprint="cd", verify_kind="smoke"
    )
    state_path("e").write_text("{not json")
    assert read_state("e") is None


def test_fingerprint_changes_when_a_package_appears(tmp_path: Path) -> None:
    site = tmp_path / "lib" / "python3.11" / "site-packages"
    site.mkdir(parents=True)
    before = env_fingerprint(tmp_path)
    assert before == env_fingerprint(tmp_path)
    (site / "six-1.17.0.dist-info").mkdir()
    assert env_fingerprint(tmp_path) != before
    assert env_fingerprint(tmp_path / "missing") == ""


def test_second_holder_is_refused_while_the_first_holds(tmp_path: Path) -> None:
    lock = tmp_path / "e.lock"
    busy = pytest.raises(ApplyBusy, match="another `provision apply` is changing")
    with exclusive(lock, "e"), busy, exclusive(lock, "e"):
        pass
    with exclusive(lock, "e"):  # released on exit
        pass
