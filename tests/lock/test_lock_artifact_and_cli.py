"""The lockfile as a rendered artifact, and ``provision lock`` as a real process."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from provisioner import __version__
from provisioner.lock.lockfile import lock_profile, write_lockfile
from provisioner.profile import load_profile
from provisioner.render import RenderContext
from provisioner.render.artifacts_lock import APPLIES_WITH_CONTEXT, ARTIFACTS, render_lock

ProfileWriter = Callable[..., Path]
PROVISION = Path(sys.executable).parent / "provision"


def test_lock_artifact_re_emits_the_lockfile_text(
    demo_channel: Path, write_profile: ProfileWriter, tmp_path: Path
) -> None:
    resolved = load_profile(write_profile([demo_channel.as_uri()]))
    path = write_lockfile(lock_profile(resolved), resolved, tmp_path / "x.conda-lock.yml")
    text = path.read_text()
    ctx = RenderContext(resolved, __version__, {"lock_text": text})
    (artifact,) = ARTIFACTS
    assert artifact.name == "conda-lock.yml" and not artifact.executable
    assert artifact.render(ctx) == text == render_lock(ctx)
    applies = APPLIES_WITH_CONTEXT["conda-lock.yml"]
    assert applies(ctx)
    assert not applies(RenderContext(resolved, __version__, {}))


def test_provision_lock_process_exits_cleanly_after_rattler(
    demo_channel: Path, write_profile: ProfileWriter
) -> None:
    # rattler can crash the interpreter at exit; the console script must still exit 0/1.
    profile = write_profile([demo_channel.as_uri()])
    done = subprocess.run(
        [str(PROVISION), "lock", str(profile)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("wrote ") and done.stderr == ""
    check = subprocess.run(
        [str(PROVISION), "lock", str(profile), "--check"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert check.returncode == 0 and "fresh" in check.stdout
    bad = write_profile(["file:///nonexistent/chan"], name="bad.yaml")
    failed = subprocess.run(
        [str(PROVISION), "lock", str(bad)], capture_output=True, text=True, timeout=120
    )
    assert failed.returncode == 1
    assert failed.stderr.count("\n") == 1 and "Traceback" not in failed.stderr
