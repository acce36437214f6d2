"""Ctrl-C or SIGKILL of `provision apply` while `uv pip install` runs: the installer
must die with apply, and the next apply must converge (not crash racing an orphan that
still writes into the prefix it removes). The shipped cpu profile on real packages."""

from __future__ import annotations

import json
import os
import pwd
import shutil
import signal
import time
from pathlib import Path

import pytest
from apply_e2e import REPO, Provision
from procinfo import alive

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path("/proc/self").exists(), reason="finds the installer in /proc"),
]


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    try:
        return [int(p) for p in path.read_text().split()]
    except (FileNotFoundError, ProcessLookupError):
        return []


def cmdline(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_text().split("\0")
    except (FileNotFoundError, ProcessLookupError):
        return []


def wait_for_installer(apply_pid: int, timeout: float = 300) -> int:
    """The pid of apply's `uv pip install` child, once it runs."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for pid in children(apply_pid):
            argv = cmdline(pid)
            if len(argv) > 2 and Path(argv[0]).name == "uv" and argv[1:3] == ["pip", "install"]:
                return pid
        if not alive(apply_pid):
            break
        time.sleep(0.05)
    raise AssertionError("apply never started `uv pip install`")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["ctrl-c", "kill-9"])
def test_killed_during_install_then_apply_converges(
    provision: Provision, tmp_path: Path, sig: signal.Signals
) -> None:
    provision.env.pop("PIP_NO_INDEX", None)  # lock from pip's real config, offline
    provision.env["XDG_CONFIG_HOME"] = str(Path(pwd.getpwuid(os.getuid()).pw_dir) / ".config")
    profile = tmp_path / "cpu.yaml"
    shutil.copy(REPO / "profiles" / "cpu.yaml", profile)

    child = provision.start("apply", str(profile), "--quiet")
    uv = wait_for_installer(child.pid)
    os.kill(child.pid, sig)  # Ctrl-C reaches apply only: uv runs in its own session
    code = child.wait(timeout=60)
    assert code == (130 if sig == signal.SIGINT else -signal.SIGKILL), child.stderr
    deadline = time.monotonic() + 10
    while alive(uv) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(uv), f"`uv pip install` (pid {uv}) outlived apply"
    state = json.loads((provision.home / "state" / "cpu.json").read_text())
    assert state["phase"] == "building"

    again = provision("apply", str(profile), "--quiet", "--json")
    assert again.returncode == 0, again.stderr[-3000:]
    report = json.loads(again.stdout)
    assert report["result"] == "changed" and report["verify"]["passed"] is True
