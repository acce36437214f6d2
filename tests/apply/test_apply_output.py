"""What apply prints when something goes wrong: a step that raises still gives the
JSON report and the JUnit failure; an unusable PROVISION_HOME is one line, exit 1; a
refused apply never reads the state (it is read under the lock). The shipped cpu
profile, run as ``python -m provisioner``; no step here installs anything."""

from __future__ import annotations

import json
import os
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

from provisioner.apply.guard import exclusive
from tests.apply.apply_e2e import REPO, Provision

BROKEN_LOCK = "not a valid conda-lock file"


def cpu_profile_with_corrupt_lock(folder: Path) -> Path:
    """The cpu profile beside a committed lockfile that cannot be parsed (an error the
    user must fix, exit 2, raised inside the lock step)."""
    folder.mkdir(parents=True, exist_ok=True)
    profile = folder / "cpu.yaml"
    shutil.copy(REPO / "profiles" / "cpu.yaml", profile)
    (folder / "cpu.conda-lock.yml").write_text("garbage: [\n")
    return profile


def test_failed_step_still_gives_json_and_junit(provision: Provision, tmp_path: Path) -> None:
    profile = cpu_profile_with_corrupt_lock(tmp_path / "p")
    junit = tmp_path / "out" / "apply.xml"
    done = provision("apply", str(profile), "--json", "--junit", str(junit))
    assert done.returncode == 2, done.stderr
    errors = done.stderr.strip().splitlines()
    assert len(errors) == 1 and errors[0].startswith("provision: error: "), done.stderr
    assert BROKEN_LOCK in errors[0] and "(fix: " in errors[0]
    assert "internal error" not in done.stderr

    report = json.loads(done.stdout)  # stdout is exactly the report
    assert (report["result"], report["exit_code"], report["mode"]) == ("failed", 2, "apply")
    assert [(s["name"], s["status"]) for s in report["steps"]] == [
        ("checks", "ok"),
        ("lock", "fail"),
    ]
    assert BROKEN_LOCK in report["steps"][1]["reason"]
    (written,) = provision.reports()  # the same report is on disk
    assert json.loads(written.read_text())["steps"] == report["steps"]

    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None and suite.get("failures") == "1" and suite.get("tests") == "2"
    lock = suite.find("testcase[@name='lock']/failure")
    assert lock is not None and BROKEN_LOCK in (lock.get("message") or "")
    assert suite.find("testcase[@name='checks']/failure") is None


def test_failed_step_in_plan_json(provision: Provision, tmp_path: Path) -> None:
    profile = cpu_profile_with_corrupt_lock(tmp_path / "p")
    done = provision("plan", str(profile), "--json")
    assert done.returncode == 2
    report = json.loads(done.stdout)
    assert report["mode"] == "plan" and report["steps"][-1]["status"] == "fail"
    assert done.stderr.count("provision: error: ") == 1 and BROKEN_LOCK in done.stderr


def test_provision_home_that_is_a_file_is_one_line_exit_1(
    provision: Provision, tmp_path: Path
) -> None:
    home = tmp_path / "not-a-folder"
    home.write_text("")
    provision.env["PROVISION_HOME"] = str(home)
    done = provision("apply", str(REPO / "profiles" / "cpu.yaml"), "--quiet")
    assert done.returncode == 1, done.stderr
    assert "internal error" not in done.stderr and "Traceback" not in done.stderr
    assert done.stderr.strip() == (
        f"provision: error: cannot access {home / 'state'}: Not a directory (fix: make sure "
        f"PROVISION_HOME ({home}) and the folders under it are folders you can write to, "
        "then apply again)"
    )
    assert done.stdout == ""


def test_state_is_read_only_under_the_lock(provision: Provision, tmp_path: Path) -> None:
    """While another apply holds the environment, a second one is refused at once and
    never reads the state: a FIFO as the state file would block any read of it (the
    validation key, looked up before the lock, opens it without blocking and refuses
    anything but a regular file: provisioner.state.read_state)."""
    state_dir = provision.home / "state"
    state_dir.mkdir(parents=True)
    os.mkfifo(state_dir / "cpu.json")
    with exclusive(state_dir / "cpu.lock", "cpu"):  # the running apply, in this process
        done = provision("apply", str(REPO / "profiles" / "cpu.yaml"), "--quiet", timeout=30)
    assert done.returncode == 1, done.stderr
    assert "another `provision apply` is changing environment 'cpu'" in done.stderr
