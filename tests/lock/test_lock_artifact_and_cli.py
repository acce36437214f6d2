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
    done = subprocess.run(  # the test's channel is a local folder: this machine only
        [str(PROVISION), "lock", str(profile), "--allow-local"],
        capture_output=True,
        text=True,
        timeout=120,
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


def test_lock_refuses_an_unwritable_output_before_solving(
    write_profile: ProfileWriter, tmp_path: Path
) -> None:
    """The profile's channel does not exist, so a solve would fail (exit 1): exit 2 with
    the output's problem shows the output was checked first."""
    bad = write_profile(["file:///nonexistent/chan"], name="bad.yaml")
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    cases = {
        "/proc/x/l.yml": "cannot create files in /proc (No such file or directory)",
        "/sys/l.yml": "cannot create files in /sys (",
        str(a_file / "l.yml"): f"{a_file} is not a folder",
        str(tmp_path): "is a folder",
    }
    for output, cause in cases.items():
        done = subprocess.run(
            [str(PROVISION), "lock", str(bad), "-o", output],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 2, (output, done.stderr)
        assert done.stderr.count("\n") == 1 and done.stdout == ""
        # the CLI's output-path check (a folder, or a path under a file) or the lock's own
        # write check (/proc, /sys): one line naming the path, the cause and a fix
        assert done.stderr.startswith("provision: error: ") and output in done.stderr
        assert cause in done.stderr
        assert "(fix: " in done.stderr and done.stderr.rstrip().endswith(")")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file", "bad.yaml"]


def test_lock_writes_into_a_folder_it_creates(
    demo_channel: Path, write_profile: ProfileWriter, tmp_path: Path
) -> None:
    """The early check leaves nothing behind, and a new nested folder is still fine."""
    profile = write_profile([demo_channel.as_uri()])
    out = tmp_path / "new" / "deeper" / "team.conda-lock.yml"
    done = subprocess.run(
        [str(PROVISION), "lock", str(profile), "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert out.is_file()
    assert sorted(p.name for p in out.parent.iterdir()) == ["team.conda-lock.yml"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new", "team.yaml"]
