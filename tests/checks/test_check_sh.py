"""check.sh: rendered from the same records, shellcheck-clean, and in parity with doctor.

The parity test runs the generated script under bash with the replayed host's root and
stand-in PATH and requires exactly the JSON ``provision doctor --json`` gives.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from provisioner.profile import load_profile
from provisioner.render import RenderContext
from provisioner.render.artifacts_checks import render_check_sh
from tests.checks.host_replay import (
    PROFILES_DIR,
    ReplayedHost,
    as_scripts_see_it,
    diagnose_host,
    host_names,
    profile_paths,
)

REPO = Path(__file__).resolve().parents[2]
SHELLCHECK = Path(sys.executable).with_name("shellcheck")
LINUX_HOSTS = [n for n in host_names() if "windows-" not in n]


def render(profile: Path, target: Path) -> Path:
    target.write_text(render_check_sh(RenderContext(load_profile(profile), "test")))
    target.chmod(0o755)
    return target


def run_check_sh(script: Path, h: ReplayedHost) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["/bin/bash", str(script), "--root", str(h.root), "--json"],
        env=h.process_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("profile", profile_paths(), ids=lambda p: p.stem)
def test_check_sh_is_shellcheck_clean(profile: Path, tmp_path: Path) -> None:
    script = render(profile, tmp_path / "check.sh")
    done = subprocess.run([str(SHELLCHECK), str(script)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout


@pytest.mark.slow
@pytest.mark.parametrize("name", LINUX_HOSTS)
def test_check_sh_parity_with_doctor(
    name: str, host: Callable[[str], ReplayedHost], tmp_path: Path
) -> None:
    h = host(name)
    for profile in profile_paths():
        want = as_scripts_see_it(diagnose_host(h, profile, tmp_path).as_json())
        done = run_check_sh(render(profile, tmp_path / f"{profile.stem}.sh"), h)
        assert done.returncode == (0 if want["ready"] else 1), done.stderr
        got = json.loads(done.stdout)
        assert got == want, f"{name} / {profile.stem}"


def test_check_sh_on_this_machine_matches_doctor(tmp_path: Path) -> None:
    """No replay: the real root and PATH of the CI machine, cpu and a WSL profile."""
    from provisioner.checks.doctor import diagnose

    for profile in ("cpu", "directml-wsl2"):
        path = PROFILES_DIR / f"{profile}.yaml"
        want = as_scripts_see_it(diagnose(load_profile(path)).as_json())
        done = subprocess.run(
            ["/bin/bash", str(render(path, tmp_path / "c.sh")), "--json"],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert json.loads(done.stdout) == want
        assert done.returncode == (0 if want["ready"] else 1)


def test_check_sh_usage_errors_exit_2(tmp_path: Path) -> None:
    script = render(profile_paths()[0], tmp_path / "check.sh")
    bad = subprocess.run(["/bin/bash", str(script), "--frobnicate"], capture_output=True, text=True)
    assert bad.returncode == 2 and "unknown option" in bad.stderr
    missing = subprocess.run(
        ["/bin/bash", str(script), "--root", str(tmp_path / "nope")], capture_output=True, text=True
    )
    assert missing.returncode == 2 and "not a directory" in missing.stderr


def run_cpu_check_sh(tmp_path: Path, timeout_value: str) -> subprocess.CompletedProcess[str]:
    """check.sh of the cpu profile on this machine, with PROVISION_COMMAND_TIMEOUT set."""
    return subprocess.run(
        ["/bin/bash", str(render(PROFILES_DIR / "cpu.yaml", tmp_path / "c.sh")), "--json"],
        env={"PATH": "/usr/bin:/bin", "PROVISION_COMMAND_TIMEOUT": timeout_value},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("value", ["abc", "-1", "0", "0.0", "10s", "1..2"])
def test_check_sh_refuses_a_bad_command_timeout_like_doctor(value: str, tmp_path: Path) -> None:
    from provisioner import cli

    done = run_cpu_check_sh(tmp_path, value)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and "not a positive number of seconds" in done.stderr
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PROVISION_COMMAND_TIMEOUT", value)
        assert cli.main(["doctor", str(PROFILES_DIR / "cpu.yaml"), "--json"]) == 2


@pytest.mark.parametrize("value", ["", "2", "0.5", "10.25"])
def test_check_sh_accepts_a_good_command_timeout(value: str, tmp_path: Path) -> None:
    done = run_cpu_check_sh(tmp_path, value)
    assert done.returncode in (0, 1), done.stderr
    assert json.loads(done.stdout)["profile"] == "cpu"


def test_render_registry_writes_both_scripts() -> None:
    from provisioner.render.registry import artifacts_for

    names = {a.name: a for a in artifacts_for(load_profile(profile_paths()[0]))}
    assert names["check.sh"].executable and "check.ps1" in names


def test_hostile_profile_name_stays_data(tmp_path: Path) -> None:
    """A profile name with quotes, $(...), ; and backticks is printed back, never executed
    (a newline in a name is refused at validate: tests/profile/test_values.py)."""
    name = "cpu'$(touch pwned); touch pwned2 # \"`x`"
    src = (
        (PROFILES_DIR / "cpu.yaml")
        .read_text()
        .replace("name: cpu\n", f"name: {json.dumps(name)}\n", 1)
    )
    path = tmp_path / "hostile.yaml"
    path.write_text(src)
    script = render(path, tmp_path / "check.sh")
    assert subprocess.run([str(SHELLCHECK), str(script)], capture_output=True).returncode == 0
    done = subprocess.run(
        ["/bin/bash", str(script), "--json"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert json.loads(done.stdout)["profile"] == name
    assert not (tmp_path / "pwned").exists() and not (tmp_path / "pwned2").exists()
