"""bootstrap.sh sets ``environment.variables`` on activation exactly as ``provision apply``
does (its own writer, ``provisioner/target/activation_files.py``, in the packed helper): a
real venv's
``bin/activate`` sourced by bash, a conda prefix (stand-in micromamba) whose
``conda-meta/state`` and ``activate.d`` scripts hold them, and apply on the same prefix
finding nothing to change."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from provisioner.env.activation import activation_current
from tests.bootstrap.bootstrap_e2e import STUB_SMOKE_TEST, Renderer
from tests.bootstrap.test_bootstrap_sh import STAND_IN_MICROMAMBA, run_bootstrap
from tests.pypi_index import small_index
from tests.support.profiles import profile_document, write_profile

REPO = Path(__file__).resolve().parents[2]
VARS = {"CUDA_VISIBLE_DEVICES": "1", "ODD": 'it\'s $HOME "q" `x`'}


def bash(script: str) -> list[str]:
    done = subprocess.run(
        ["bash", "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    return done.stdout.splitlines()


def apply(profile: Path, env: dict[str, str]) -> dict[str, object]:
    """``provision apply --json --skip-checks PROFILE`` as a child process; its report."""
    env = {**env, "PYTHONPATH": str(REPO)}
    env.pop("PIP_NO_INDEX", None)  # the profile's own file:// index, nothing else
    argv = [sys.executable, "-m", "provisioner", "apply", "--json", "--skip-checks", str(profile)]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    report: dict[str, object] = json.loads(done.stdout)
    return report


def no_change(report: dict[str, object]) -> bool:
    steps = report["steps"]
    assert isinstance(steps, list)
    return report["result"] == "converged" and all(not s["changed"] for s in steps)


def test_sourcing_bin_activate_after_bootstrap_sets_the_variables(
    render: Renderer, tmp_path: Path, bootstrap_env: dict[str, str]
) -> None:
    environment = {
        "manager": "venv",
        "python": "3.11",
        "pip": ["six==1.17.0", "iniconfig==2.3.0"],
        "index_url": small_index().as_uri(),
        "variables": VARS,
    }
    profile = write_profile(tmp_path / "p" / "act.yaml", profile_document("act", environment))
    folder = render(profile)
    (folder / "smoke_test.py").write_text(STUB_SMOKE_TEST)  # STUB: no framework in this env
    done = run_bootstrap(folder, bootstrap_env, "--skip-checks")
    assert done.returncode == 0, done.stdout + done.stderr
    prefix = Path(bootstrap_env["PROVISION_HOME"]) / "envs" / "act-env"
    script = f"""
        CUDA_VISIBLE_DEVICES=0; export CUDA_VISIBLE_DEVICES; unset ODD
        source {prefix}/bin/activate
        echo "$CUDA_VISIBLE_DEVICES|$ODD"
        deactivate
        echo "$CUDA_VISIBLE_DEVICES|${{ODD-unset}}"
    """
    assert bash(script) == [f"1|{VARS['ODD']}", "0|unset"]
    # byte for byte what apply writes: activate, activate.fish and Activate.ps1
    assert activation_current(prefix, "venv", VARS)
    for name in ("activate.fish", "Activate.ps1"):
        assert "provision: environment.variables" in (prefix / "bin" / name).read_text()


def test_a_conda_prefix_from_bootstrap_holds_the_variables_and_apply_changes_nothing(
    render: Renderer, tmp_path: Path, bootstrap_env: dict[str, str]
) -> None:
    from tests.channels import build_channel, demo_packages

    channel = build_channel(tmp_path / "chan", demo_packages())
    environment = {
        "manager": "conda",
        "name": "conda-env",
        "channels": [channel.as_uri()],
        "python": "3.11",
        "conda": ["app", "tool=1.0"],
        "variables": VARS,
    }
    profile = write_profile(tmp_path / "p" / "ca.yaml", profile_document("ca", environment))
    folder = render(profile)
    (folder / "smoke_test.py").write_text(
        '"""STUB smoke test: no framework in this stand-in env."""\nimport sys, json\n'
        'json.dump({"passed": True, "stub": True}, open(sys.argv[2], "w"))\n'
    )
    bindir = tmp_path / "bin"
    bindir.mkdir()
    mm = bindir / "micromamba"  # STAND-IN micromamba: micromamba cannot be obtained here
    mm.write_text(STAND_IN_MICROMAMBA.format(python=sys.executable))
    mm.chmod(0o755)
    env = {
        **bootstrap_env,
        "PATH": f"{bindir}:{bootstrap_env['PATH']}",
        "MICROMAMBA_ARGS": str(tmp_path / "args"),
    }
    done = run_bootstrap(folder, env, "--skip-checks")
    assert done.returncode == 0, done.stdout + done.stderr
    prefix = Path(env["PROVISION_HOME"]) / "envs" / "conda-env"
    state = json.loads((prefix / "conda-meta" / "state").read_text())
    assert state["env_vars"] == VARS  # what conda, mamba and micromamba set on activate
    d = prefix / "etc" / "conda"
    script = f"""
        unset CUDA_VISIBLE_DEVICES
        . {d}/activate.d/provision-env-vars.sh; echo "$CUDA_VISIBLE_DEVICES"
        . {d}/deactivate.d/provision-env-vars.sh; echo "${{CUDA_VISIBLE_DEVICES-unset}}"
    """
    assert bash(script) == ["1", "unset"]
    assert activation_current(prefix, "conda", VARS)
    # apply on the same lock and prefix: the recorded state holds (the activation data
    # is in the fingerprint's conda-meta), the activation is current, nothing changes
    report = apply(profile, env)
    assert no_change(report), report["steps"]
