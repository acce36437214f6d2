"""bundle: three ratios measured in one run, on the shipped cpu profile (torch CPU from
this machine's pip configuration, the real smoke test):

- the bundle's size against the sum of the packages in it (target <= 1.02x);
- an offline bootstrap from the bundle (``unshare -n`` where allowed) against a
  warm-cache ``provision apply`` of the same profile into a fresh home (target <= 1.3x),
  as the median of interleaved rounds, each side broken down by step;
- the no-op rerun of the exported playbook on 3 SSH hosts (network namespaces, as in
  tests/fleet) against a bare playbook that copies the same bundle with the same
  checksum logic and runs ``true`` (target <= 2x); needs root, ``ip netns`` and sshd.

Bundling fetches provision's own wheels from PyPI the first time. A command that fails
is named with its exit code, the free disk space and the tail of its output (the
playbook's too), and the other parts still run.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from benchmarks._timing import report

REPO = Path(__file__).resolve().parent.parent
PACKAGES = (".whl", ".conda", ".tar.bz2")


class BenchFailure(Exception):
    """A command a benchmark needs failed: the message says which, why, and its output."""


def _run(argv: list[str], env: dict[str, str], what: str) -> subprocess.CompletedProcess[str]:
    """Run ``argv``; a failure raises :class:`BenchFailure` with its exit code, the free
    disk space (a full disk was the cause twice) and the tail of its output."""
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        free = shutil.disk_usage(tempfile.gettempdir()).free / 2**30
        tail = (done.stdout[-4000:] + "\n" + done.stderr[-3000:]).strip()
        raise BenchFailure(
            f"{what} failed (exit {done.returncode}; {free:.1f} GiB free in "
            f"{tempfile.gettempdir()}):\n{tail}"
        )
    return done


def _provision(env: dict[str, str], *args: str) -> None:
    _run([sys.executable, "-m", "provisioner", *args], env, f"provision {args[0]}")


def _timed(argv: list[str], env: dict[str, str], what: str = "") -> float:
    start = time.perf_counter()
    _run(argv, env, what or " ".join(argv[:2]))
    return time.perf_counter() - start


def _size(root: Path, env: dict[str, str], profile: Path) -> None:
    archive = root / "cpu.tar.gz"
    _provision(env, "bundle", str(profile), "-o", str(archive))
    with tarfile.open(archive) as tar:
        packages = sum(m.size for m in tar if m.isfile() and m.name.endswith(PACKAGES))
    report_size(archive.stat().st_size, packages)


def report_size(bundle: int, packages: int) -> None:
    ratio = bundle / packages
    print(
        f"bundle size: {bundle / 2**20:.1f} MiB, packages in it {packages / 2**20:.1f} MiB, "
        f"ratio {ratio:.3f}x (target <= 1.02x)",
        flush=True,
    )


# Rounds of (warm-cache apply, offline bootstrap), interleaved so that a busy machine
# slows both alike; the median of the rounds is reported, with each side broken down.
# Most of either is the smoke test's CPU training, whose speed swings widely while
# other processes hold the cores.
ROUNDS = 5


def _steps(report: Path) -> dict[str, float]:
    """A run's time per step, from its report (the bootstrap's own parts are added by
    the caller)."""
    data = json.loads(report.read_text())
    return {s["name"]: float(s["duration_s"]) for s in data["steps"]}


def _bootstrap_vs_apply(root: Path, env: dict[str, str], profile: Path) -> None:
    folder = root / "dir"
    _provision(env, "bundle", str(profile), "-o", str(folder))
    warm = dict(env, PROVISION_HOME=str(root / "warm"))
    _provision(warm, "apply", str(profile))  # fills the uv cache: not counted
    runner = ["unshare", "-n"] if _unshare_ok() else []
    script = folder / "cpu-linux-64" / "bootstrap.sh"
    applies, bootstraps = [], []
    parts: dict[str, list[dict[str, float]]] = {"apply": [], "bootstrap": []}
    for n in range(ROUNDS):
        fresh = dict(env, PROVISION_HOME=str(root / f"apply-{n}"))
        argv = [sys.executable, "-m", "provisioner", "apply", str(profile)]
        applies.append(_timed(argv, fresh, "warm-cache apply"))
        parts["apply"].append(_steps(root / f"apply-{n}" / "reports" / "cpu.json"))
        # A new machine: its own HOME, so uv's cache starts empty and every wheel of the
        # bundle is unpacked (the apply above links from a warm cache).
        target = dict(env, HOME=str(root / f"target-home-{n}"))
        target.pop("PYTHONPATH", None)
        home = root / f"target-{n}"
        written = root / f"target-report-{n}.json"
        argv = [*runner, str(script), "--home", str(home), "--report", str(written)]
        took = _timed(argv, target, "offline bootstrap")
        bootstraps.append(took)
        steps = _steps(written)
        # What the bootstrap does before apply starts: hash the bundle, install the tool.
        steps = {"bundle check + tool": max(0.0, took - sum(steps.values())), **steps}
        parts["bootstrap"].append(steps)
        for name in (f"apply-{n}", f"target-{n}", f"target-home-{n}"):
            shutil.rmtree(root / name, ignore_errors=True)
    print(
        "  each round (apply, bootstrap): "
        + ", ".join(f"({a:.1f} s, {b:.1f} s)" for a, b in zip(applies, bootstraps, strict=True)),
        flush=True,
    )
    for side, runs in parts.items():
        names = list(dict.fromkeys(k for r in runs for k in r))
        medians = {k: statistics.median(r.get(k, 0.0) for r in runs) for k in names}
        print(
            f"  {side} median by step: " + ", ".join(f"{k} {v:.1f} s" for k, v in medians.items()),
            flush=True,
        )
    where = "offline (unshare -n)" if runner else "network allowed (unshare -n not permitted)"
    report(
        f"bootstrap from the bundle, {where}, median of {ROUNDS} interleaved rounds",
        statistics.median(bootstraps),
        statistics.median(applies),
        "warm-cache apply",
        "<= 1.3x",
    )


def _unshare_ok() -> bool:
    try:
        return subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0
    except FileNotFoundError:
        return False


BARE = """\
- name: Bare copy of the same bundle, then true
  hosts: all
  gather_facts: false
  tasks:
    - name: Create the folder
      ansible.builtin.file: {path: "{{ provision_home }}/bare", state: directory, mode: "0755"}
    - name: Push the bundle (checksum-aware)
      ansible.builtin.copy:
        src: "%(bundle)s"
        dest: "{{ provision_home }}/bare/b.tar.gz"
        mode: "0644"
    - name: Run true
      ansible.builtin.command: "true"
      changed_when: false
"""


def _fleet(root: Path, env: dict[str, str], profile: Path) -> None:
    from tests.fleet.netns import fleet, missing_requirement
    from tests.support import machine

    why = missing_requirement()
    if why:
        print(f"fleet no-op rerun: skipped ({why})", flush=True)
        return
    play = root / "play"
    _provision(env, "export", "ansible", str(profile), "-o", str(play))
    bundle = next((play / "roles" / "provision" / "files").glob("*.tar.gz"))
    bare = root / "bare.yml"
    bare.write_text(BARE % {"bundle": bundle})
    bindir = Path(sys.executable).parent
    with fleet(root / "net") as hosts:
        inventory = root / "inventory.ini"
        lines = [
            f"{h.name} ansible_host={h.address} provision_home={root}/hosts/{h.name} "
            f"ansible_remote_tmp={root}/hosts/{h.name}/tmp"
            for h in hosts.hosts
        ]
        lines += [
            "[all:vars]",
            "ansible_user=root",
            f"ansible_ssh_private_key_file={hosts.key}",
            f"ansible_python_interpreter={shutil.which('python3')}",
            f'provision_environment={{"UV_CACHE_DIR": "{root}/uv", '
            f'"PYENV_ROOT": "{machine.pyenv_root()}"}}',
        ]
        inventory.write_text("\n".join(lines) + "\n")
        ansible_env = {
            "PATH": f"{bindir}:/usr/bin:/bin",
            "HOME": str(root / "ctl"),
            "ANSIBLE_HOST_KEY_CHECKING": "False",
            "ANSIBLE_PIPELINING": "True",
            "ANSIBLE_SSH_ARGS": "-F /dev/null -o ControlMaster=no "
            "-o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=no",
        }

        def play_once(site: Path) -> float:
            argv = [str(bindir / "ansible-playbook"), "-i", str(inventory), str(site)]
            return _timed(hosts.in_controller(argv), ansible_env, f"ansible-playbook {site.name}")

        play_once(play / "site.yml")  # converge: not counted
        play_once(bare)
        ours = min(play_once(play / "site.yml") for _ in range(2))
        base = min(play_once(bare) for _ in range(2))
    report("fleet no-op rerun (3 hosts)", ours, base, "bare copy + true playbook", "<= 2x")


def main() -> None:
    sys.path.insert(0, str(REPO))
    import pytest

    from tests.support import machine

    try:
        machine.cpu_profile_offline()
    except pytest.skip.Exception as e:  # this machine has no local CPU torch wheel
        print(f"bundle benchmarks: skipped ({e.msg})", flush=True)
        return
    with tempfile.TemporaryDirectory(prefix="bench-bundle-") as tmp:
        root = Path(tmp)
        env = machine.with_pip_config(dict(os.environ), root / "pip")
        env["PYTHONPATH"] = str(REPO)
        profile = root / "p" / "cpu.yaml"
        profile.parent.mkdir()
        shutil.copy(REPO / "profiles" / "cpu.yaml", profile)
        _provision(dict(machine.offline(dict(env))), "lock", str(profile))  # the local CPU torch
        failed = []
        for part in (_size, _bootstrap_vs_apply, _fleet):
            try:
                part(root, env, profile)
            except BenchFailure as e:  # said, with the command's output; the others still run
                print(f"bench_bundle: {part.__name__.strip('_')}: {e}", flush=True)
                failed.append(part.__name__)
        if failed:
            raise SystemExit(f"bench_bundle: failed: {', '.join(failed)} (output above)")
