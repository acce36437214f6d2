"""End to end with the venv backend on real packages: the shipped cpu profile (torch
CPU wheel from this machine's pip config, the real training smoke test), and a
DirectML profile under pyenv's Python 3.7 with tensorflow-directml from PyPI. Both use
what this machine offers (tests/support/machine.py) and skip, naming it, without."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from tests.apply.apply_e2e import REPO, Provision
from tests.support import machine

pytestmark = pytest.mark.slow


@pytest.fixture
def with_pip_config(provision: Provision, tmp_path: Path) -> Provision:
    """Locking reads this machine's pip sources (its CPU torch wheel folder, the local
    mirrors), offline: the guard's PIP_NO_INDEX is lifted, UV_OFFLINE stays."""
    machine.cpu_profile_offline()
    machine.with_pip_config(provision.env, tmp_path / "pip")
    return provision


def test_cpu_profile_apply_verify_and_noop(with_pip_config: Provision, tmp_path: Path) -> None:
    provision = with_pip_config
    profile = tmp_path / "cpu.yaml"
    shutil.copy(REPO / "profiles" / "cpu.yaml", profile)
    first = provision("apply", str(profile))  # as a user runs it: human output
    assert first.returncode == 0, first.stderr[-3000:]
    out = first.stdout
    # The smoke test's own summary ends the output: device, loss drop, speed.
    assert "device      cpu" in out and "no accelerator used" in out
    assert "loss " in out and "steps/s on cpu" in out
    report_path = Path(out.strip().splitlines()[-1].removeprefix("report: "))
    assert report_path.parent == provision.home / "reports"
    report = json.loads(report_path.read_text())
    assert report["result"] == "changed"
    assert report["verify"]["passed"] is True and report["verify"]["kind"] == "smoke"
    torch = next(p for p in report["packages"] if p["name"] == "torch")
    assert torch["version"] == "2.13.0+cpu"  # the local CPU wheel, not a CUDA build
    assert not any(p["name"].startswith("nvidia-") for p in report["packages"])
    prefix = provision.home / "envs" / "cpu"
    assert (prefix / "pyvenv.cfg").is_file()

    second = provision("apply", str(profile), "--json")
    assert second.returncode == 0
    again = json.loads(second.stdout)
    assert again["result"] == "converged"
    assert again["verify"]["cached"] is True
    assert [p["name"] for p in again["packages"]] == [p["name"] for p in report["packages"]]


@pytest.mark.network
def test_directml_profile_under_python_37(provision: Provision, tmp_path: Path) -> None:
    machine.pyenv_python("3.7")
    data = yaml.safe_load((REPO / "profiles" / "directml-wsl2.yaml").read_text())
    data["environment"].update(manager="venv", conda=[])
    data["environment"].pop("channels", None)
    # No GPU here: let the smoke test train on the CPU and report it plainly.
    data["smoke_test"].update(require_accelerator=False, steps=50)
    profile = tmp_path / "directml.yaml"
    profile.write_text(yaml.safe_dump(data, sort_keys=False))
    provision.env.pop("PIP_NO_INDEX", None)
    provision.env.pop("UV_OFFLINE", None)
    done = provision("apply", str(profile), "--skip-checks", "--json", timeout=1500)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout)
    names = {p["name"]: p["version"] for p in report["packages"]}
    assert names["tensorflow-directml"] == "1.15.8"
    assert report["steps"][0]["status"] == "skipped"
    cfg = (provision.home / "envs" / data["environment"]["name"] / "pyvenv.cfg").read_text()
    assert "3.7." in cfg
    assert report["verify"]["passed"] is True
