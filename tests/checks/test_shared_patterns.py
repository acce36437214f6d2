"""One source for how the host is read: provisioner/host/patterns.py feeds doctor, check.sh
and check.ps1 (injected at render time), so none of them can drift on its own."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from provisioner.host import patterns
from provisioner.profile import load_profile
from provisioner.render import RenderContext
from provisioner.render.artifacts_checks import (
    render_check_ps1,
    render_check_sh,
    shared_patterns,
)
from tests.checks.host_replay import PROFILES_DIR, ReplayedHost, as_scripts_see_it, diagnose_host

TEMPLATES = Path(__file__).resolve().parents[2] / "provisioner" / "templates"


def test_every_shared_value_is_injected_into_both_scripts() -> None:
    ctx = RenderContext(load_profile(PROFILES_DIR / "cuda-wsl2.yaml"), "test")
    sh, ps1 = render_check_sh(ctx), render_check_ps1(ctx)
    assert len(shared_patterns()) >= 30
    for name in shared_patterns():
        assert (f"\nP_{name}=" in sh) is (name not in patterns.WINDOWS_ONLY), name
        assert f"\n$P['{name}'] = " in ps1, name


@pytest.mark.parametrize(
    "value",
    [
        patterns.WSL1_KERNEL,
        patterns.WSL2_KERNEL,
        patterns.LINUX_NVIDIA_PACKAGES,
        patterns.SMI_CUDA_ERROR_FAILURE,
        patterns.REASON_INTEROP_OFF,
        patterns.NVIDIA_LIB,
    ],
)
def test_templates_do_not_keep_their_own_copy(value: str) -> None:
    for name in ("check.sh.j2", "check.ps1.j2"):
        assert value not in (TEMPLATES / name).read_text("utf-8"), name


def test_a_changed_reason_reaches_doctor_and_check_sh(
    host: Callable[[str], ReplayedHost], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(patterns, "REASON_INTEROP_OFF", "interop off (changed in one place)")
    h = host("wsl2-interop-disabled")
    profile = PROFILES_DIR / "directml-wsl2.yaml"
    want = as_scripts_see_it(diagnose_host(h, profile, tmp_path).as_json())
    script = tmp_path / "check.sh"
    script.write_text(render_check_sh(RenderContext(load_profile(profile), "test")))
    done = subprocess.run(
        ["/bin/bash", str(script), "--root", str(h.root), "--json"],
        env=h.process_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    got = json.loads(done.stdout)
    assert got == want
    summaries = [c["summary"] for c in got["checks"]]
    assert "Windows build: unknown (interop off (changed in one place))" in summaries
