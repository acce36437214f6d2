"""Where provision keeps its files, and the variables that move each folder."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from provisioner import paths


def test_provision_home_moves_state_reports_locks_and_envs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROVISION_HOME", str(tmp_path / "ph"))
    monkeypatch.delenv("PROVISION_ENVS_DIR", raising=False)
    assert paths.state_dir() == tmp_path / "ph" / "state"
    assert paths.reports_dir() == tmp_path / "ph" / "reports"
    assert paths.locks_dir() == tmp_path / "ph" / "locks"
    assert paths.envs_dir() == tmp_path / "ph" / "envs"
    monkeypatch.setenv("PROVISION_ENVS_DIR", str(tmp_path / "conda-envs"))
    assert paths.envs_dir() == tmp_path / "conda-envs"


def test_xdg_folders_when_nothing_is_set(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("PROVISION_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert paths.data_home() == tmp_path / ".local" / "share" / "provision"
    assert paths.artifact_store() == tmp_path / ".cache" / "provision" / "artifacts"
    assert paths.log_dir() == tmp_path / ".local" / "state" / "provision" / "logs"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "c"))
    assert paths.cache_root() == tmp_path / "c" / "provision"


def test_a_windows_service_account_keeps_its_data_under_programdata(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """SYSTEM's profile is under System32 (redirected for 32-bit processes, unreadable to
    lab users): the same root as bootstrap.ps1's Get-DataHome (test_bootstrap_ps1_contexts)."""
    for var in ("PROVISION_HOME", "XDG_DATA_HOME"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("SYSTEMROOT", "C:\\Windows")
    monkeypatch.setenv("PROGRAMDATA", "C:\\ProgramData")
    monkeypatch.setenv("USERPROFILE", "C:\\WINDOWS\\system32\\config\\systemprofile")
    monkeypatch.setattr(sys, "platform", "win32")
    assert paths.windows_service_account()
    assert paths.data_home() == Path("C:\\ProgramData") / "provision"
    monkeypatch.setenv("USERPROFILE", "C:\\Users\\Zo\u00eb O'Brien")
    assert not paths.windows_service_account()
    assert not paths.windows_service_account("linux")
