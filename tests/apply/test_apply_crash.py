"""Crash safety: SIGKILL `provision apply` (and everything it started) at several
points, then apply again and see it converge; two applies on one environment."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from apply_e2e import Provision, conda_meta_mtimes, conda_profile, kill_tree, wait_for_pause

pytestmark = pytest.mark.slow

APPLY = ("--verify", "import", "--quiet")


@pytest.mark.parametrize(
    ("point", "phase_after_kill"),
    [
        ("environment:journal-written", "building"),  # before the prefix is touched
        ("environment:installed", "building"),  # installed, not yet recorded
        ("verify:start", "built"),  # built and recorded, not verified
        ("verify:passed", "built"),  # verified, not yet recorded
    ],
)
def test_sigkill_at_a_point_then_apply_converges(
    provision: Provision, channel: Path, tmp_path: Path, point: str, phase_after_kill: str
) -> None:
    profile = conda_profile(tmp_path / "p", channel)
    child = provision.start("apply", str(profile), *APPLY, pause_at=point)
    wait_for_pause(child, point)
    kill_tree(child)
    state = provision.state()
    assert state is not None and state["phase"] == phase_after_kill  # never marked good

    plan = json.loads(provision("plan", str(profile), "--json").stdout)
    expected_env = "change" if phase_after_kill == "building" else "ok"
    assert plan["steps"][2]["status"] == expected_env
    assert plan["steps"][3]["status"] == "change"  # verify again

    again = provision("apply", str(profile), *APPLY, "--json")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["result"] == "changed"
    state = provision.state()
    assert state is not None and state["phase"] == "verified"
    third = provision("apply", str(profile), *APPLY, "--json")
    assert json.loads(third.stdout)["result"] == "converged"


def test_sigkill_during_install_then_apply_converges(
    provision: Provision, channel: Path, tmp_path: Path
) -> None:
    profile = conda_profile(tmp_path / "p", channel)
    assert provision("apply", str(profile), *APPLY).returncode == 0
    before = conda_meta_mtimes(provision.prefix)
    # Update to tool 2.0 and kill as soon as the installer starts touching the prefix.
    bumped = conda_profile(tmp_path / "p", channel, tool="2.0")
    child = provision.start("apply", str(bumped), *APPLY)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and conda_meta_mtimes(provision.prefix) == before:
        if child.poll() is not None:
            break
        time.sleep(0.005)
    kill_tree(child)
    state = provision.state()
    assert state is not None
    if child.returncode != 0:  # killed mid-way: never marked good for the new lock
        assert state["phase"] != "verified" or "tool-2.0" not in json.dumps(state["packages"])
    again = provision("apply", str(bumped), *APPLY, "--json")
    assert again.returncode == 0, again.stderr
    assert (provision.prefix / "share/tool/VERSION").read_text() == "2.0\n"
    names = sorted(conda_meta_mtimes(provision.prefix))
    assert [n for n in names if n.startswith("tool-")] == ["tool-2.0-0.json"]
    assert json.loads(provision("apply", str(bumped), *APPLY, "--json").stdout)["result"] == (
        "converged"
    )


def test_second_apply_on_the_same_env_is_refused(
    provision: Provision, channel: Path, tmp_path: Path
) -> None:
    profile = conda_profile(tmp_path / "p", channel)
    first = provision.start("apply", str(profile), *APPLY, pause_at="environment:journal-written")
    try:
        wait_for_pause(first, "environment:journal-written")
        second = provision("apply", str(profile), *APPLY)
        assert second.returncode == 1
        assert f"another `provision apply` is changing environment 'e2e-env' (pid {first.pid})" in (
            second.stderr
        )
        assert "fix: wait for it to finish" in second.stderr
        # plan does not take the lock: it only reads.
        assert provision("plan", str(profile), "--json").returncode == 0
    finally:
        kill_tree(first)
    assert provision("apply", str(profile), *APPLY).returncode == 0
