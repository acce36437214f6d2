"""Fleet: the exported playbook run by ansible-core against 3 real SSH hosts (network
namespaces on a bridge, each with Debian's sshd and key authentication). All 3 end
verified, a second run reports changed=0, 3 reports come back, and ``provision report``
(where it exists) exits 0 naming every host. The hosts share this machine's
filesystem, so each has its own ``provision_home``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fleet.netns import Fleet, fleet, missing_requirement
from tests.support import machine

REPO = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.slow, pytest.mark.network]


def provision(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "provisioner", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        cwd=REPO,
    )


def inventory(path: Path, hosts: Fleet, tmp: Path) -> Path:
    lines = ["[linux]"]
    for h in hosts.hosts:
        home = tmp / "hosts" / h.name
        lines.append(
            f"{h.name} ansible_host={h.address} provision_home={home} "
            f"ansible_remote_tmp={home}/ansible-tmp"
        )
    lines += [
        "",
        "[linux:vars]",
        "ansible_user=root",
        f"ansible_ssh_private_key_file={hosts.key}",
        f"ansible_python_interpreter={shutil.which('python3') or '/usr/bin/python3'}",
        # The hosts share this machine: one uv cache and interpreter discovery for all.
        "provision_environment={"
        f'"UV_CACHE_DIR": "{tmp}/uv-cache", '
        f'"PYENV_ROOT": "{machine.pyenv_root()}"'
        "}",
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def playbook(hosts: Fleet, site: Path, inv: Path, tmp: Path) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(tmp / "controller-home"),
        "ANSIBLE_HOME": str(tmp / "controller-home" / ".ansible"),
        "ANSIBLE_LOCAL_TEMP": str(tmp / "controller-home" / "tmp"),
        "ANSIBLE_HOST_KEY_CHECKING": "False",
        "ANSIBLE_PIPELINING": "True",
        "ANSIBLE_FORCE_COLOR": "0",
        "ANSIBLE_NOCOLOR": "1",
        # No lingering connection masters: each task opens and closes its connection.
        "ANSIBLE_SSH_ARGS": "-F /dev/null -o ControlMaster=no -o UserKnownHostsFile=/dev/null "
        "-o StrictHostKeyChecking=no",
        "LANG": "C.UTF-8",
    }
    argv = hosts.in_controller(
        [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(inv), str(site)]
    )
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=2400)


def recap(output: str) -> dict[str, dict[str, int]]:
    """PLAY RECAP counters by host."""
    out: dict[str, dict[str, int]] = {}
    for line in output.splitlines():
        m = re.match(r"^(\S+)\s+:\s+(.*)$", line)
        if m and "ok=" in m.group(2):
            out[m.group(1)] = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", m.group(2))}
    return out


def test_playbook_converges_three_ssh_hosts_and_reruns_unchanged(tmp_path: Path) -> None:
    why = missing_requirement()
    if why:
        pytest.skip(why)
    pytest.importorskip("ansible", reason="ansible-core is not installed (pip install '.[fleet]')")
    # The cpu profile is locked from this machine's pip sources (its CPU torch wheel).
    machine.cpu_profile_offline()
    env = machine.with_pip_config(dict(os.environ), tmp_path / "pip")
    env["PYTHONPATH"] = str(REPO)
    profile = tmp_path / "p" / "cpu.yaml"
    profile.parent.mkdir()
    shutil.copy(REPO / "profiles" / "cpu.yaml", profile)
    # Locked from the local sources only: PyPI's CUDA torch build must not win.
    locked = provision("lock", str(profile), env=dict(machine.offline(dict(env))))
    assert locked.returncode == 0, locked.stderr
    out = tmp_path / "fleet"
    exported = provision("export", "ansible", str(profile), "-o", str(out), env=env)
    assert exported.returncode == 0, exported.stderr

    with fleet(tmp_path / "net") as hosts:
        inv = inventory(tmp_path / "inventory.ini", hosts, tmp_path)
        first = playbook(hosts, out / "site.yml", inv, tmp_path)
        assert first.returncode == 0, first.stdout[-6000:] + first.stderr[-2000:]
        counts = recap(first.stdout)
        assert sorted(counts) == ["host1", "host2", "host3"]
        assert all(c["failed"] == 0 and c["changed"] > 0 for c in counts.values())
        for h in hosts.hosts:
            report = json.loads((out / "reports" / f"{h.name}.json").read_text())
            assert report["verify"]["passed"] is True, report
            assert (tmp_path / "hosts" / h.name / "envs" / "cpu" / "pyvenv.cfg").is_file()

        second = playbook(hosts, out / "site.yml", inv, tmp_path)
        assert second.returncode == 0, second.stdout[-6000:]
        assert {h: c["changed"] for h, c in recap(second.stdout).items()} == {
            "host1": 0,
            "host2": 0,
            "host3": 0,
        }
        reports = sorted(p.name for p in (out / "reports").glob("*.json"))
        assert reports == ["host1.json", "host2.json", "host3.json"]
        for name in reports:
            data = json.loads((out / "reports" / name).read_text())
            assert data["result"] == "converged" and data["verify"]["passed"] is True

    summary = provision("report", str(out / "reports"), env=env)
    if "invalid choice: 'report'" in summary.stderr:
        return  # `provision report` is not on this branch yet: the reports were checked above
    assert summary.returncode == 0, summary.stdout + summary.stderr
    for name in ("host1", "host2", "host3"):
        assert name in summary.stdout
