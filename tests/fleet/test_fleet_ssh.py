"""Fleet: the exported playbook run by ansible-core against 3 real SSH hosts (network
namespaces on a bridge, each with Debian's sshd and key authentication), one converged
fleet taken through what a lab admin relies on:

- all 3 end verified, a second run reports changed=0, 3 reports come back;
- ``--check`` on converged hosts exits 0 with changed=0 and writes no report;
- a file deleted in one host's environment: ``--check --diff`` shows that host's
  package diff (changed, nothing repaired), the next plain run repairs it (changed);
- a host made unreachable on that run: ``provision report`` shows it unreachable,
  never verified, and exits 1;
- ``serial`` and ``max_fail_percentage`` (extra variables): a host that fails before
  provision runs gets a report from the controller (failed, with the task's message),
  and the run stops after that batch: the host it never reached is stale, never
  verified;
- two bundle updates: disk use of a host after an update stays within the documented
  bound (one previous bundle kept, no second copy of torch), and the bundle before the
  previous one is removed.

The hosts share this machine's filesystem, so each has its own ``provision_home``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.fleet.netns import Fleet, fleet, missing_requirement, stop_host
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


def playbook(
    hosts: Fleet, site: Path, inv: Path, tmp: Path, *args: str
) -> subprocess.CompletedProcess[str]:
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
        [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(inv), str(site), *args]
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


def output(done: subprocess.CompletedProcess[str]) -> str:
    return done.stdout[-8000:] + done.stderr[-3000:]


def du(path: Path) -> int:
    """Bytes under ``path``, each hard-linked file once (as ``du`` counts)."""
    seen: set[tuple[int, int]] = set()
    total = 0
    for p in path.rglob("*"):
        st = p.lstat()
        if p.is_symlink() or not p.is_file() or (st.st_dev, st.st_ino) in seen:
            continue
        seen.add((st.st_dev, st.st_ino))
        total += st.st_blocks * 512
    return total


def breakdown(home: Path) -> dict[str, int]:
    """MiB per folder two levels down, to say where a home grew."""
    out = {}
    for first in sorted(home.iterdir()):
        for p in sorted(first.iterdir()) if first.is_dir() else [first]:
            out[str(p.relative_to(home))] = (
                du(p) // 2**20 if p.is_dir() else p.stat().st_size // 2**20
            )
    return out


def export(profile: Path, out: Path, env: dict[str, str], description: str | None = None) -> str:
    if description is not None:  # a new bundle of the same lock (the description is no input)
        data = profile.read_text().replace("description:", f"description: {description} -", 1)
        profile.write_text(data)
    done = provision("export", "ansible", str(profile), "-o", str(out), env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout


def locked_export(tmp_path: Path) -> tuple[dict[str, str], Path, Path]:
    """Skip without sshd, namespaces or ansible-core; else the cpu profile locked from this
    machine's pip sources (its CPU torch wheel: PyPI's CUDA build must not win) and
    exported to ``tmp_path/fleet``: the environment, the profile and the export."""
    why = missing_requirement()
    if why:
        pytest.skip(why)
    pytest.importorskip("ansible", reason="ansible-core is not installed (pip install '.[fleet]')")
    machine.cpu_torch_wheel()
    env = machine.with_pip_config(dict(os.environ), tmp_path / "pip")
    env["PYTHONPATH"] = str(REPO)
    profile = tmp_path / "p" / "cpu.yaml"
    profile.parent.mkdir()
    shutil.copy(REPO / "profiles" / "cpu.yaml", profile)
    locked = provision("lock", str(profile), env={**env, "UV_OFFLINE": "1"})
    assert locked.returncode == 0, locked.stderr
    out = tmp_path / "fleet"
    export(profile, out, env)
    return env, profile, out


def test_a_fleet_of_three_ssh_hosts_never_lies(tmp_path: Path) -> None:
    env, _, out = locked_export(tmp_path)
    reports = out / "reports"
    homes = tmp_path / "hosts"

    with fleet(tmp_path / "net") as hosts:
        inv = inventory(tmp_path / "inventory.ini", hosts, tmp_path)
        site = out / "site.yml"
        first = playbook(hosts, site, inv, tmp_path)
        assert first.returncode == 0, output(first)
        counts = recap(first.stdout)
        assert sorted(counts) == ["host1", "host2", "host3"]
        assert all(c["failed"] == 0 and c["changed"] > 0 for c in counts.values())
        run_ids = set()
        for h in hosts.hosts:
            report = json.loads((reports / f"{h.name}.json").read_text())
            assert report["verify"]["passed"] is True, report
            assert report["host"]["name"] == h.name and report["bundle_id"]
            run_ids.add(report["run_id"])
            assert (homes / h.name / "envs" / "cpu" / "pyvenv.cfg").is_file()
        assert len(run_ids) == 1 and "" not in run_ids  # one run, one id

        second = playbook(hosts, site, inv, tmp_path)
        assert second.returncode == 0, output(second)
        assert {h: c["changed"] for h, c in recap(second.stdout).items()} == {
            "host1": 0,
            "host2": 0,
            "host3": 0,
        }
        assert sorted(p.name for p in reports.glob("*.json")) == [
            "host1.json",
            "host2.json",
            "host3.json",
        ]
        for name in ("host1", "host2", "host3"):
            data = json.loads((reports / f"{name}.json").read_text())
            assert data["result"] == "converged" and data["verify"]["passed"] is True
            assert data["run_id"] not in run_ids  # a new run, a new id

        # --check on converged hosts: provision plan, exit 0, changed=0, no report.
        before = {p.name: p.read_bytes() for p in reports.glob("*.json")}
        checked = playbook(hosts, site, inv, tmp_path, "--check")
        assert checked.returncode == 0, output(checked)
        assert {h: c["changed"] for h, c in recap(checked.stdout).items()} == {
            "host1": 0,
            "host2": 0,
            "host3": 0,
        }
        assert {p.name: p.read_bytes() for p in reports.glob("*.json")} == before

        # Drift on host2: --check --diff shows its package diff and repairs nothing.
        site_packages = next((homes / "host2" / "envs" / "cpu").glob("lib/python3*/site-packages"))
        functional = site_packages / "torch" / "nn" / "functional.py"
        functional.unlink()
        diffed = playbook(hosts, site, inv, tmp_path, "--check", "--diff")
        assert diffed.returncode == 0, output(diffed)
        assert recap(diffed.stdout)["host2"]["changed"] == 1, output(diffed)
        assert recap(diffed.stdout)["host1"]["changed"] == 0
        assert "-torch==2.13.0+cpu (drift: torch/nn/functional.py missing)" in diffed.stdout
        assert "+torch==2.13.0+cpu" in diffed.stdout
        assert not functional.exists()

        # The next plain run repairs host2; host3 is unreachable on that run.
        down = hosts.hosts[2]
        stop_host(down)
        repaired = playbook(hosts, site, inv, tmp_path)
        assert repaired.returncode != 0, output(repaired)
        counts = recap(repaired.stdout)
        assert counts["host2"]["changed"] == 1 and counts["host2"]["failed"] == 0
        assert counts["host1"]["changed"] == 0 and counts["host3"]["unreachable"] == 1
        assert functional.is_file()
        host2 = json.loads((reports / "host2.json").read_text())
        assert host2["result"] == "changed" and host2["environment"]["action"] == "repair"
        host3 = json.loads((reports / "host3.json").read_text())
        assert host3["result"] == "unreachable" and host3["run_id"] == host2["run_id"]
        assert host3["previous"]["result"] == "converged" and host3["previous"]["verified"]

        summary = provision("report", str(reports), "--json", env=env)
        assert summary.returncode == 1, summary.stdout + summary.stderr
        rows = report_rows(summary.stdout)
        assert rows["host1"]["verified"] is True
        assert rows["host2"]["verified"] is True
        assert rows["host2"]["repairs"] == [
            "repaired 1 file of torch (torch/nn/functional.py missing)"
        ]
        assert rows["host3"]["verified"] is False and rows["host3"]["result"] == "unreachable"
        assert "last report: converged (verified)" in " ".join(rows["host3"]["details"])

        # serial and max_fail_percentage: two hosts at a time, stop when any fails.
        # host1 fails before provision runs (no such host Python: the controller writes
        # its report), so the run stops in the first batch (host1, host2) and never
        # reaches host3; the hosts without a report of this run are stale.
        # (Ansible counts failed hosts for max_fail_percentage, not unreachable ones.)
        broken = tmp_path / "broken-first.ini"
        lines = inv.read_text().splitlines()
        hosts_at = [i for i, x in enumerate(lines) if x.startswith("host")]
        lines[hosts_at[0]] += " provision_python=/nonexistent/python3"
        broken.write_text("\n".join(lines) + "\n")
        extra = ("-e", "provision_serial=2", "-e", "provision_max_fail_percentage=0")
        limited = playbook(hosts, site, broken, tmp_path, *extra)
        assert limited.returncode != 0, output(limited)
        assert sorted(recap(limited.stdout)) == ["host1", "host2"], output(limited)

    stale = provision("report", str(reports), "--json", env=env)
    assert stale.returncode == 1, stale.stdout + stale.stderr
    rows = report_rows(stale.stdout)
    failed = rows["host1"]
    assert failed["result"] == "failed" and failed["verified"] is False, failed
    assert failed["problem"].startswith("failed: Install provision from the bundle"), failed
    assert "no host Python" in failed["problem"], failed
    # The run stopped at host1's failure, before host2 was converged (Ansible runs a
    # batch task by task), and never reached host3: both are stale.
    for name in ("host2", "host3"):
        assert rows[name]["stale"] is True and rows[name]["verified"] is False, rows[name]
        assert rows[name]["problem"].startswith("stale: no report from the newest run")


def report_rows(text: str) -> dict[str, dict[str, Any]]:
    return {h["host"]: h for p in json.loads(text)["profiles"] for h in p["hosts"]}


def test_disk_use_after_bundle_updates_stays_bounded(tmp_path: Path) -> None:
    """Two bundle updates of one host: after the first, the home grows by at most one
    unpacked bundle (kept for a rollback; no package reinstalled, no second copy of
    torch in uv's cache); after the second, the first bundle is gone."""
    env, profile, out = locked_export(tmp_path)
    home = tmp_path / "hosts" / "host1"
    with fleet(tmp_path / "net", count=1) as hosts:
        inv = inventory(tmp_path / "inventory.ini", hosts, tmp_path)
        # The uv cache is the host's own here (under its home), so it is measured too.
        text = inv.read_text().replace(f"{tmp_path}/uv-cache", f"{home}/cache/uv")
        inv.write_text(text)
        first = playbook(hosts, out / "site.yml", inv, tmp_path)
        assert first.returncode == 0, output(first)
        bundles = home / "bundles"
        (old,) = [p for p in bundles.iterdir() if len(p.name) == 16]
        unpacked = du(old)
        used = du(home)
        was = breakdown(home)

        # Re-exporting the unchanged profile keeps the bundle as it is, without rebuilding it.
        archive = next((out / "roles" / "provision" / "files").glob("*.tar.gz"))
        stamp = archive.stat().st_mtime_ns
        reexported = export(profile, out, env)
        assert f"identical  {archive}" in reexported and archive.stat().st_mtime_ns == stamp

        export(profile, out, env, description="update 1")
        update = playbook(hosts, out / "site.yml", inv, tmp_path)
        assert update.returncode == 0, output(update)
        grown = du(home) - used
        slack = 16 * 2**20  # a new work folder, state, reports, bytecode
        assert grown <= unpacked + slack, (grown, unpacked, was, breakdown(home))
        ids = sorted(p.name for p in bundles.iterdir() if len(p.name) == 16)
        assert old.name in ids and len(ids) == 2  # the previous bundle is kept

        export(profile, out, env, description="update 2")
        again = playbook(hosts, out / "site.yml", inv, tmp_path)
        assert again.returncode == 0, output(again)
        ids = sorted(p.name for p in bundles.iterdir() if len(p.name) == 16)
        assert old.name not in ids and len(ids) == 2
        assert du(home) - used <= unpacked + slack
        report = json.loads((out / "reports" / "host1.json").read_text())
        assert report["verify"]["passed"] is True
