"""The shipped ``directml-wsl2`` profile, with the venv manager and Python 3.7, locks and
applies on this machine with its real pip configuration (extra ``file://`` indexes:
``gast==0.2.2`` and ``six`` pins resolve only when every index is considered, as pip
does), and trains on the CPU with ``require_accelerator: false``.

Needs pyenv's Python 3.7, pip's config on this machine (tests/support/machine.py) and
PyPI (tensorflow-directml is not in the local mirrors); the training takes a while."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.apply.apply_e2e import REPO, Provision
from tests.support import machine

pytestmark = [pytest.mark.slow, pytest.mark.network]


def test_directml_wsl2_as_a_python37_venv_locks_applies_and_trains_on_the_cpu(
    provision: Provision, tmp_path: Path
) -> None:
    machine.pyenv_python("3.7")  # skips without it
    machine.with_pip_config(provision.env, tmp_path / "pipconf")  # skips without it
    profile = tmp_path / "dml-venv.yaml"
    profile.write_text(
        yaml.safe_dump(
            {
                "extends": str(REPO / "profiles" / "directml-wsl2.yaml"),
                "name": "directml-wsl2-venv",
                "environment": {"manager": "venv", "name": "dml-venv", "conda": ["!numpy"]},
                "smoke_test": {"require_accelerator": False},
            }
        )
    )
    locked = provision("lock", str(profile), timeout=900)
    assert locked.returncode == 0, locked.stderr
    lock = yaml.safe_load((tmp_path / "dml-venv.conda-lock.yml").read_text())
    versions = {p["name"]: p["version"] for p in lock["package"]}
    assert versions["tensorflow-directml"] == "1.15.8" and versions["gast"] == "0.2.2"
    # The host is not WSL: the checks step would refuse it, the environment is the point.
    done = provision("apply", str(profile), "--locked", "--skip-checks", "--json", timeout=1800)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads(done.stdout)
    assert report["result"] == "changed" and report["lock"]["fresh"] is True
    verify = report["verify"]
    assert verify["passed"] is True, verify
    assert (provision.home / "envs" / "dml-venv" / "bin" / "python3.7").exists()
