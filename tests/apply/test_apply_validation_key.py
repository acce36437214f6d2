"""apply records the profile's validation key when it verifies (docs/apply.md), and a
later apply re-validates whenever the profile's content changed, in any file of its
``extends`` chain, with the compatibility rules' messages and positions.

A real conda prefix from the tests' local channel, verified with ``--verify import``
(its ``pytorch`` is the channel's STAND-IN: apply_e2e.py)."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from provisioner.profile import load_profile
from tests.apply.apply_e2e import Provision, conda_profile


def state_of(provision: Provision) -> dict[str, object]:
    data: dict[str, object] = json.loads(
        (provision.home / "state" / "e2e-env.json").read_text(encoding="utf-8")
    )
    return data


def test_an_edit_to_an_extended_file_is_validated_again(
    provision: Provision, channel: Path, tmp_path: Path
) -> None:
    base = conda_profile(tmp_path / "p", channel)
    child = tmp_path / "p" / "team.yaml"
    child.write_text("extends: e2e.yaml\ndescription: the team's\n", encoding="utf-8")
    first = provision("apply", str(child), "--verify", "import", "--quiet")
    assert first.returncode == 0, first.stdout + first.stderr
    recorded = state_of(provision)
    assert recorded["phase"] == "verified"
    assert recorded["validation_key"] == load_profile(child).validation_key != ""

    again = provision("apply", str(child), "--verify", "import", "--quiet")
    assert again.returncode == 0 and "result: converged" in again.stdout, again.stderr

    # The base file breaks a compatibility rule now: the child's own bytes are the same,
    # its content is not. apply says what `provision validate` says, where it says it.
    data = yaml.safe_load(base.read_text(encoding="utf-8"))
    data["smoke_test"]["device"] = "cuda"
    base.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    broken = provision("apply", str(child), "--verify", "import", "--quiet")
    assert broken.returncode == 2, broken.stdout + broken.stderr
    assert "smoke_test.device cuda needs requires.gpu.api: cuda" in broken.stderr
    validate = provision("validate", str(child))
    assert validate.returncode == 2 and validate.stderr == broken.stderr + "2 error(s)\n"
    assert state_of(provision) == recorded  # nothing ran, nothing recorded
