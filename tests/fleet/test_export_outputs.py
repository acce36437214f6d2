"""``provision export ansible PROFILE -o DIR`` where DIR already holds, at a path the
export writes, something that is not a file: a named pipe, a device (a link to
``/dev/null``, a device node), a socket. It was replaced by the bundle (or the export
ended in exit 3); now it is refused before the bundle is built, in one line with the
path and why, exit 2, and left as it was (docs/files.md). The export's content is
tests/fleet/test_export_render.py's."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from tests.channels import build_channel, demo_packages

REPO = Path(__file__).resolve().parents[2]
ROLE_FILES = Path("roles") / "provision" / "files"


def provision(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PROVISION_HOME": str(cwd / "home"), "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "provisioner", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        check=False,
    )


@pytest.fixture(scope="module")
def locked(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A conda profile on a local channel, locked (the bundle is never built here)."""
    root = tmp_path_factory.mktemp("export")
    channel = build_channel(root / "chan", demo_packages())
    profile = root / "lab.yaml"
    data = {
        "name": "lab",
        "target": {"os": "linux"},
        "environment": {
            "manager": "conda",
            "name": "lab-env",
            "channels": [channel.as_uri()],
            "python": "3.11",
            "conda": ["app"],
        },
        "smoke_test": {"framework": "pytorch", "device": "cpu", "require_accelerator": False},
    }
    profile.write_text(yaml.safe_dump(data, sort_keys=False))
    done = provision("lock", str(profile), cwd=root)
    assert done.returncode == 0, done.stderr
    return profile


def fifo(path: Path) -> None:
    os.mkfifo(path)


def dev_null_link(path: Path) -> None:
    path.symlink_to("/dev/null")


def device_node(path: Path) -> None:
    try:
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # a copy of /dev/null
    except PermissionError:
        pytest.skip("making a device node needs CAP_MKNOD (root): not allowed here")


def unix_socket(path: Path) -> None:
    """Bound under a short name (AF_UNIX paths are short), then moved into place."""
    short = Path(tempfile.mkdtemp(dir=path.parent.anchor + "tmp"))
    with socket.socket(socket.AF_UNIX) as s:
        s.bind(str(short / "s"))
    os.rename(short / "s", path)
    short.rmdir()


MAKERS: dict[str, Callable[[Path], None]] = {
    "fifo": fifo,
    "link-to-dev-null": dev_null_link,
    "device": device_node,
    "socket": unix_socket,
}
KIND = {"fifo": "a named pipe", "link-to-dev-null": "a device", "device": "a device"}
# Where the export writes a file or makes a folder (the bundle's name: the profile's
# name and the lock's platform).
TARGETS = {
    "the bundle": ROLE_FILES / "lab-linux-64.tar.gz",
    "a task file": Path("roles") / "provision" / "tasks" / "main.yml",
    "site.yml": Path("site.yml"),
    "the reports folder": Path("reports"),
    "the role's files folder": ROLE_FILES,
}


@pytest.mark.parametrize("where", sorted(TARGETS))
@pytest.mark.parametrize("kind", sorted(MAKERS))
def test_a_special_file_where_export_writes_is_refused_and_kept(
    locked: Path, tmp_path: Path, kind: str, where: str
) -> None:
    out = tmp_path / "play"
    target = out / TARGETS[where]
    target.parent.mkdir(parents=True)
    MAKERS[kind](target)
    before = target.lstat()
    done = provision("export", "ansible", str(locked), "-o", str(out), cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert str(target) in lines[0] and KIND.get(kind, "a socket") in lines[0], lines[0]
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr
    after = target.lstat()
    assert (after.st_ino, after.st_mode) == (before.st_ino, before.st_mode)  # not replaced
    assert not (out / ROLE_FILES).is_dir() or not any(
        p.name.startswith(".provision-bundle-") for p in (out / ROLE_FILES).iterdir()
    )  # refused before the bundle was built
