"""``environment.variables`` reach the environment people activate: a real uv venv's
``bin/activate`` run by bash, and a conda prefix's ``conda-meta/state`` and
``etc/conda/activate.d`` scripts (the sh one run by bash); ``conda-meta/history``
lists the requested specs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from provisioner.env.activation import activation_current, write_activation
from provisioner.env.conda_history import write_history
from provisioner.uvbin import uv_executable

VARS = {"CUDA_VISIBLE_DEVICES": "1", "ODD": 'it\'s $HOME "quoted"'}


def bash(script: str, env: dict[str, str] | None = None) -> list[str]:
    done = subprocess.run(
        ["bash", "-c", script], capture_output=True, text=True, check=True, env=env, timeout=60
    )
    return done.stdout.splitlines()


@pytest.fixture
def venv(tmp_path: Path) -> Path:
    prefix = tmp_path / "venv"
    run = [uv_executable(), "venv", "--python", sys.executable, str(prefix)]
    subprocess.run(run, check=True, capture_output=True)
    return prefix


def test_sourcing_a_venvs_activate_sets_the_variables_and_deactivate_restores(
    venv: Path,
) -> None:
    assert not activation_current(venv, "venv", VARS)
    changed = write_activation(venv, "venv", VARS)
    assert {p.name for p in changed} == {"activate", "activate.fish", "activate.ps1"}
    assert activation_current(venv, "venv", VARS)
    assert write_activation(venv, "venv", VARS) == []  # idempotent
    script = f"""
        CUDA_VISIBLE_DEVICES=0; export CUDA_VISIBLE_DEVICES
        source {venv}/bin/activate
        echo "$CUDA_VISIBLE_DEVICES|$ODD"
        deactivate
        echo "$CUDA_VISIBLE_DEVICES|${{ODD-unset}}"
    """
    assert bash(script) == ['1|it\'s $HOME "quoted"', "0|unset"]


def test_changed_variables_replace_the_block_and_none_remove_it(venv: Path) -> None:
    original = (venv / "bin" / "activate").read_text()
    write_activation(venv, "venv", VARS)
    write_activation(venv, "venv", {"ONLY": "x"})
    text = (venv / "bin" / "activate").read_text()
    assert text.count(">>> provision") == 2  # the restore block and the set block
    assert "CUDA_VISIBLE_DEVICES" not in text
    assert bash(f"source {venv}/bin/activate; echo $ONLY") == ["x"]
    write_activation(venv, "venv", {})
    assert (venv / "bin" / "activate").read_text() == original


def test_a_conda_prefix_gets_state_env_vars_and_activate_d_scripts(tmp_path: Path) -> None:
    prefix = tmp_path / "conda-env"
    (prefix / "conda-meta").mkdir(parents=True)
    # A variable the user set with `conda env config vars set` is kept.
    state = prefix / "conda-meta" / "state"
    state.write_text(json.dumps({"env_vars": {"MINE": "keep"}}))
    write_activation(prefix, "conda", VARS)
    data = json.loads(state.read_text())
    assert data["env_vars"] == {"MINE": "keep", **VARS}
    for kind in ("activate", "deactivate"):
        for ext in ("sh", "fish", "ps1", "bat"):
            assert (prefix / "etc" / "conda" / f"{kind}.d" / f"provision-env-vars.{ext}").is_file()
    d = prefix / "etc" / "conda"
    script = f"""
        unset CUDA_VISIBLE_DEVICES
        . {d}/activate.d/provision-env-vars.sh; echo "$CUDA_VISIBLE_DEVICES"
        . {d}/deactivate.d/provision-env-vars.sh; echo "${{CUDA_VISIBLE_DEVICES-unset}}"
    """
    assert bash(script) == ["1", "unset"]
    write_activation(prefix, "conda", {})
    assert json.loads(state.read_text()) == {"env_vars": {"MINE": "keep"}}
    assert not (d / "activate.d" / "provision-env-vars.sh").exists()


def test_history_lists_the_requested_specs_and_drops_removed_ones(tmp_path: Path) -> None:
    prefix = tmp_path / "env"
    meta = prefix / "conda-meta"
    meta.mkdir(parents=True)
    record = {"name": "tool", "version": "2.0", "build": "0", "channel": "file:///c/"}
    (meta / "tool-2.0-0.json").write_text(json.dumps({**record, "subdir": "noarch"}))
    assert write_history(prefix, ["python=3.11", "tool"], "provision apply p.yaml")
    assert not write_history(prefix, ["python=3.11", "tool"], "provision apply p.yaml")
    assert write_history(prefix, ["python=3.11"], "provision apply p.yaml")
    lines = (meta / "history").read_text().splitlines()
    assert lines[0].startswith("==> ") and lines[0].endswith(" <==")
    assert "+file:///c/noarch::tool-2.0-0" in lines
    assert "# update specs: ['python=3.11', 'tool']" in lines
    assert lines[-2:] == ["# update specs: ['python=3.11']", "# remove specs: ['tool']"]


def test_activate_ps1_stays_ascii_for_a_quote_look_alike(venv: Path) -> None:
    """U+2019 closes a single-quoted PowerShell string; written raw it would end the
    literal and run the rest. The value must reach Activate.ps1 only as ASCII."""
    write_activation(venv, "venv", {"HOSTILE": "x\u2019; Remove-Item C:\\ #"})
    text = (venv / "bin" / "activate.ps1").read_text(encoding="utf-8")
    assert text.isascii()
    assert "[char]0x2019" in text


def test_rewritten_scripts_keep_their_mode_and_leave_no_temp_file(venv: Path) -> None:
    activate = venv / "bin" / "activate"
    activate.chmod(0o750)
    write_activation(venv, "venv", VARS)
    assert activate.stat().st_mode & 0o7777 == 0o750
    assert not [p.name for p in (venv / "bin").iterdir() if p.name.startswith(".")]
