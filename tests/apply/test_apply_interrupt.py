"""Ctrl-C or SIGKILL of `provision apply` while `uv pip install` runs: the installer
must die with apply, and the next apply must converge (not crash racing an orphan that
still writes into the prefix it removes). The shipped cpu profile on real packages."""

from __future__ import annotations

import json
import os
import shutil
import signal
from pathlib import Path

import pytest

from tests.apply.apply_e2e import REPO, Provision
from tests.support import machine
from tests.support.processes import alive, children, cmdline
from tests.support.waiting import wait_until, within

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path("/proc/self").exists(), reason="finds the installer in /proc"),
]


def wait_for_installer(apply_pid: int, timeout: float = 300) -> int:
    """The pid of apply's `uv pip install` child, once it runs."""

    def installer() -> int | None:
        for pid in children(apply_pid):
            argv = cmdline(pid)
            if len(argv) > 2 and Path(argv[0]).name == "uv" and argv[1:3] == ["pip", "install"]:
                return pid
        assert alive(apply_pid), "apply ended before it started `uv pip install`"
        return None

    return wait_until(installer, seconds=timeout, what="apply to start `uv pip install`")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["ctrl-c", "kill-9"])
def test_killed_during_install_then_apply_converges(
    provision: Provision, tmp_path: Path, sig: signal.Signals
) -> None:
    machine.cpu_profile_offline()
    machine.with_pip_config(provision.env, tmp_path / "pip")  # this machine's sources, offline
    profile = tmp_path / "cpu.yaml"
    shutil.copy(REPO / "profiles" / "cpu.yaml", profile)

    child = provision.start("apply", str(profile), "--quiet")
    uv = wait_for_installer(child.pid)
    os.kill(child.pid, sig)  # Ctrl-C reaches apply only: uv runs in its own session
    code = child.wait(timeout=60)
    assert code == (130 if sig == signal.SIGINT else -signal.SIGKILL), child.stderr
    assert within(lambda: not alive(uv), 10), f"`uv pip install` (pid {uv}) outlived apply"
    state = json.loads((provision.home / "state" / "cpu.json").read_text())
    assert state["phase"] == "building"

    again = provision("apply", str(profile), "--quiet", "--json")
    assert again.returncode == 0, again.stderr[-3000:]
    report = json.loads(again.stdout)
    assert report["result"] == "changed" and report["verify"]["passed"] is True
