"""Real SSH hosts for fleet tests: network namespaces joined by veth links to a bridge in
a hub namespace, each running Debian's ``sshd`` with key authentication.

Everything is created with names carrying this process's id and removed by name (the
namespaces, which takes their veth links and bridge along) and by PID (each sshd), so
parallel runs and a crashed run never collide. The controller (ansible-playbook) runs
in a namespace of its own on the same bridge: nothing listens on, or is routed
through, the machine's own network.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SSHD = Path("/usr/sbin/sshd")
SUBNET = "10.231.{n}.{i}"


@dataclass(frozen=True)
class Host:
    name: str  # inventory name
    netns: str
    address: str
    sshd_pid: int


@dataclass(frozen=True)
class Fleet:
    controller_netns: str
    hosts: tuple[Host, ...]
    key: Path  # the controller's private key

    def in_controller(self, argv: list[str]) -> list[str]:
        return ["ip", "netns", "exec", self.controller_netns, *argv]


def missing_requirement() -> str | None:
    """Why a fleet cannot be started here, or None."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    if shutil.which("ip") is None:
        return "iproute2's `ip` is not installed"
    probe = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=False)
    if probe.returncode != 0:
        return f"`ip netns` is not available: {probe.stderr.strip()[:200]}"
    if not SSHD.is_file():
        return "Debian's openssh-server (/usr/sbin/sshd) is not installed (.ci/run installs it)"
    if shutil.which("ssh-keygen") is None:
        return "ssh-keygen (openssh-client) is not installed"
    return None


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True, timeout=30)


def _in(netns: str, *args: str) -> None:
    _ip("netns", "exec", netns, *args)


def _keygen(path: Path) -> None:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "provision-tests", "-f", str(path)],
        check=True,
        capture_output=True,
        timeout=30,
    )


def _sshd_config(folder: Path, address: str, authorized: Path) -> Path:
    host_key = folder / "ssh_host_ed25519_key"
    _keygen(host_key)
    config = folder / "sshd_config"
    config.write_text(
        f"ListenAddress {address}:22\n"
        f"HostKey {host_key}\n"
        f"PidFile {folder / 'sshd.pid'}\n"
        f"AuthorizedKeysFile {authorized}\n"
        "PermitRootLogin prohibit-password\n"
        "PubkeyAuthentication yes\n"
        "PasswordAuthentication no\n"
        "KbdInteractiveAuthentication no\n"
        "UsePAM no\n"
        "StrictModes no\n"
        "LogLevel ERROR\n"
        "Subsystem sftp internal-sftp\n"
    )
    return config


def _wait_listening(netns: str, address: str, deadline: float) -> None:
    while time.monotonic() < deadline:
        done = subprocess.run(
            ["ip", "netns", "exec", netns, "ss", "-Hltn", f"src {address}"],
            capture_output=True,
            text=True,
            check=False,
        )
        if ":22" in done.stdout:
            return
        time.sleep(0.1)
    raise TimeoutError(f"sshd did not start listening on {address}:22")


@contextlib.contextmanager
def fleet(folder: Path, count: int = 3, timeout: float = 60) -> Iterator[Fleet]:
    """Start ``count`` SSH hosts and a controller namespace; remove all of it after."""
    tag = f"pv{os.getpid() % 100000}"
    hub, ctl = f"{tag}-hub", f"{tag}-ctl"
    subnet = os.getpid() % 200 + 20
    names: list[str] = []
    procs: list[subprocess.Popen[bytes]] = []
    run_sshd = Path("/run/sshd")  # sshd's privilege-separation folder (Debian makes it at boot)
    folder.mkdir(parents=True, exist_ok=True)
    try:
        for ns in (hub, ctl):
            _ip("netns", "add", ns)
            names.append(ns)
        _in(hub, "ip", "link", "add", "br0", "type", "bridge")
        _in(hub, "ip", "link", "set", "br0", "up")
        key = folder / "id_ed25519"
        _keygen(key)
        authorized = folder / "authorized_keys"
        authorized.write_text(Path(f"{key}.pub").read_text())
        run_sshd.mkdir(mode=0o755, exist_ok=True)
        hosts = []
        deadline = time.monotonic() + timeout
        for i in range(count + 1):
            ns = ctl if i == 0 else f"{tag}-h{i}"
            if i:
                _ip("netns", "add", ns)
                names.append(ns)
            address = SUBNET.format(n=subnet, i=10 + i)
            _ip("link", "add", f"{tag}a{i}", "type", "veth", "peer", "name", f"{tag}b{i}")
            _ip("link", "set", f"{tag}a{i}", "netns", hub)
            _ip("link", "set", f"{tag}b{i}", "netns", ns)
            _in(hub, "ip", "link", "set", f"{tag}a{i}", "master", "br0", "up")
            _in(ns, "ip", "addr", "add", f"{address}/24", "dev", f"{tag}b{i}")
            _in(ns, "ip", "link", "set", f"{tag}b{i}", "up")
            _in(ns, "ip", "link", "set", "lo", "up")
            if i == 0:
                continue
            where = folder / f"h{i}"
            where.mkdir()
            config = _sshd_config(where, address, authorized)
            proc = subprocess.Popen(
                ["ip", "netns", "exec", ns, str(SSHD), "-D", "-e", "-f", str(config)],
                stdout=subprocess.DEVNULL,
                stderr=(where / "sshd.log").open("wb"),
                start_new_session=True,
            )
            procs.append(proc)
            _wait_listening(ns, address, deadline)
            hosts.append(Host(f"host{i}", ns, address, proc.pid))
        yield Fleet(ctl, tuple(hosts), key)
    finally:
        for proc in procs:  # by PID: `ip netns exec` execs sshd, so the PID is sshd's
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        for ns in reversed(names):
            # Deleting a namespace does not end what still runs in it (an `sshd:
            # root@notty` session a connection left): each is ended by its PID first.
            for pid in namespace_pids(ns):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            # by name: takes the veth links and the bridge along
            subprocess.run(["ip", "netns", "delete", ns], capture_output=True, check=False)


def namespace_pids(netns: str) -> list[int]:
    """The PIDs of the processes in ``netns`` (``ip netns pids``)."""
    done = subprocess.run(
        ["ip", "netns", "pids", netns], capture_output=True, text=True, check=False, timeout=30
    )
    return [int(p) for p in done.stdout.split() if p.isdigit()]


def stop_host(host: Host) -> None:
    """Make ``host`` unreachable: its sshd and every session it started end (by PID)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(host.sshd_pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        left = namespace_pids(host.netns)
        if not left:
            return
        for pid in left:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.1)
