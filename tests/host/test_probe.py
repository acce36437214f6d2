"""The probe: live reads, timeouts, and record/replay of a whole host."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest

from provisioner.errors import ExitCode, ProvisionError
from provisioner.host.facts import Unknown, gather
from provisioner.host.probe import Probe

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "checks"))
from host_replay import make_tools_dir, replayed


def test_this_machine_is_plain_linux_with_python() -> None:
    facts = gather(Probe())
    assert facts.os_kind == "linux"
    assert facts.windows_build == Unknown("not a Windows or WSL host")
    assert any(p.version.startswith("3.") for p in facts.pythons)


def test_hung_stand_in_times_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    h = replayed("wsl2-hung-powershell", make_tools_dir(tmp_path / "tools"))
    monkeypatch.setenv("PROVISION_COMMAND_TIMEOUT", "1")
    start = time.monotonic()
    facts = gather(Probe(h.root, path=h.path, env=h.env))
    assert time.monotonic() - start < 10
    assert facts.adapters == Unknown("powershell.exe timed out")
    assert facts.windows_build == 22000  # the other commands still answered


def test_record_then_replay_gives_the_same_facts(tmp_path: Path) -> None:
    h = replayed("wsl2-nvml-blocked-utils-510", make_tools_dir(tmp_path / "tools"))
    live = Probe(h.root, path=h.path, env=h.env)
    facts = gather(live)
    snap = tmp_path / "host.json"
    live.save(snap)
    data = json.loads(snap.read_text())
    assert "nvidia-smi" in data["commands"] and "/proc/version" in data["files"]
    again = gather(Probe.replay(snap))
    assert again.as_json() == facts.as_json()


def test_replay_of_a_non_snapshot_is_a_one_line_error(tmp_path: Path) -> None:
    bad = tmp_path / "x.json"
    bad.write_text("{not json")
    with pytest.raises(ProvisionError) as e:
        Probe.replay(bad)
    assert e.value.exit_code == ExitCode.INVALID
    assert len(e.value.lines()) == 1 and "provision facts --save" in e.value.lines()[0]
