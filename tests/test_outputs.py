"""Output paths the user names (``-o``, ``--junit``, ``--html``, ``--save``) that are
devices, pipes, links or descriptors: written through or refused with the reason,
never replaced by a regular file (as root, ``-o /dev/null`` replaced the system's).

Device nodes are made here with ``mknod`` (a char device with /dev/null's numbers,
a block device with a loop device's), so a regression replaces a node in a temp
folder, not the machine's /dev."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO

import pytest

from provisioner.cli import main
from provisioner.outputs import OutputRefused, output_target, write_output

REPO = Path(__file__).resolve().parents[1]
ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
needs_root = pytest.mark.skipif(not ROOT, reason="mknod needs root (CAP_MKNOD)")


def char_device(folder: Path) -> Path:
    path = folder / "null"
    os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # what /dev/null is
    return path


def block_device(folder: Path) -> Path:
    path = folder / "disk"
    os.mknod(path, stat.S_IFBLK | 0o600, os.makedev(7, 200))  # a loop device number
    return path


def fleet_report(folder: Path) -> Path:
    """A folder of reports to feed `provision report` (tests/report's example fleet)."""
    from tests.report.report_data import fleet

    return fleet(folder)


class Reader:
    """A thread that reads a named pipe until its writer closes it."""

    def __init__(self, fifo: Path) -> None:
        self.data = b""
        self._thread = threading.Thread(target=self._read, args=(fifo,), daemon=True)
        self._thread.start()

    def _read(self, fifo: Path) -> None:
        with fifo.open("rb") as f:
            self.data = f.read()

    def join(self) -> bytes:
        self._thread.join(timeout=30)
        assert not self._thread.is_alive()
        return self.data


# Commands with an output option, each as (argv with {out}, what a good output holds).
def _schema(out: Path, tmp: Path) -> list[str]:
    return ["schema", "-o", str(out)]


def _report_junit(out: Path, tmp: Path) -> list[str]:
    return ["report", str(fleet_report(tmp / "r")), "--junit", str(out)]


def _report_html(out: Path, tmp: Path) -> list[str]:
    return ["report", str(fleet_report(tmp / "r")), "--html", str(out)]


def _facts_save(out: Path, tmp: Path) -> list[str]:
    return ["facts", "--root", str(tmp), "--json", "--save", str(out)]


COMMANDS: dict[str, tuple[Callable[[Path, Path], list[str]], bytes]] = {
    "schema -o": (_schema, b'"$schema"'),
    "report --junit": (_report_junit, b"<testsuites"),
    "report --html": (_report_html, b"<!DOCTYPE html>"),
    "facts --save": (_facts_save, b'"format"'),
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_named_pipe_someone_reads_is_written_through(
    tmp_path: Path, command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    make, expected = COMMANDS[command]
    fifo = tmp_path / "out.pipe"
    os.mkfifo(fifo)
    argv = make(fifo, tmp_path)
    reader = Reader(fifo)
    assert main(argv) in (0, 1)
    assert expected in reader.join()
    assert stat.S_ISFIFO(fifo.lstat().st_mode)  # still the pipe


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_named_pipe_nobody_reads_is_refused_not_waited_on(
    tmp_path: Path, command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    make, _ = COMMANDS[command]
    fifo = tmp_path / "out.pipe"
    os.mkfifo(fifo)
    assert main(make(fifo, tmp_path)) == 2
    (line,) = [ln for ln in capsys.readouterr().err.splitlines() if "error" in ln]
    assert f"{fifo}: a named pipe nobody reads" in line
    assert stat.S_ISFIFO(fifo.lstat().st_mode)


@needs_root
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_character_device_is_written_through_never_replaced(
    tmp_path: Path, command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    make, _ = COMMANDS[command]
    device = char_device(tmp_path)
    before = device.lstat()
    assert main(make(device, tmp_path)) in (0, 1)
    after = device.lstat()
    assert stat.S_ISCHR(after.st_mode) and after.st_ino == before.st_ino
    assert after.st_rdev == os.makedev(1, 3)


@needs_root
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_block_device_is_refused_with_the_reason(
    tmp_path: Path, command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    make, _ = COMMANDS[command]
    disk = block_device(tmp_path)
    assert main(make(disk, tmp_path)) == 2
    (line,) = [ln for ln in capsys.readouterr().err.splitlines() if "error" in ln]
    assert f"{disk}: a block device (a disk): refused" in line
    assert stat.S_ISBLK(disk.lstat().st_mode)


@needs_root
@pytest.mark.parametrize("option", ["--junit"])
@pytest.mark.parametrize("command", ["apply", "verify"])
def test_apply_and_verify_refuse_a_block_device_before_any_work(
    tmp_path: Path, command: str, option: str, capsys: pytest.CaptureFixture[str]
) -> None:
    disk = block_device(tmp_path)
    profile = tmp_path / "missing.yaml"  # never read: the output is checked first
    assert main([command, str(profile), option, str(disk)]) == 2
    assert "a block device (a disk): refused" in capsys.readouterr().err


def test_a_socket_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "s"
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(path))
        assert main(["schema", "-o", str(path)]) == 2
    assert f"-o {path}: a socket: refused" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "option"),
    [
        (["lock", "-o", "{out}"], "-o"),
        (["bundle", str(REPO / "profiles" / "cpu.yaml"), "-o", "{out}"], "-o"),
    ],
    ids=["lock", "bundle"],
)
def test_outputs_that_must_be_files_refuse_a_pipe(
    tmp_path: Path, argv: list[str], option: str, capsys: pytest.CaptureFixture[str]
) -> None:
    fifo = tmp_path / "out.tar.gz"
    os.mkfifo(fifo)
    assert main([a.format(out=fifo) for a in argv]) == 2
    assert f"{option} {fifo}: a named pipe, not a file" in capsys.readouterr().err
    assert stat.S_ISFIFO(fifo.lstat().st_mode)


def run_schema(out: str, stdout: int | IO[bytes] = subprocess.PIPE) -> bytes:
    """``provision schema -o OUT`` in a child; its stdout (when piped)."""
    done = subprocess.run(
        [sys.executable, "-m", "provisioner", "schema", "-o", out],
        env={**os.environ, "PYTHONPATH": str(REPO)},
        timeout=120,
        check=True,
        stdout=stdout,
    )
    return done.stdout or b""


def test_dev_stdout_into_a_pipe_is_the_schema_alone() -> None:
    assert json.loads(run_schema("/dev/stdout"))["$schema"]  # nothing else on stdout


def test_dev_stdout_redirected_to_a_file_writes_into_that_file(tmp_path: Path) -> None:
    """/dev/stdout then names a regular file: written through the descriptor (the file
    the shell opened), not replaced by a new file the shell no longer holds."""
    target = tmp_path / "schema.json"
    with target.open("wb") as out:
        out.write(b"")
        run_schema("/dev/stdout", stdout=out)
    assert json.loads(target.read_bytes())["$schema"]


def test_a_link_the_user_named_stays_a_link(tmp_path: Path) -> None:
    target = tmp_path / "real.json"
    target.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(target)
    assert write_output(link, "new", "-o") == "file"
    assert link.is_symlink() and target.read_text() == "new"


def test_a_regular_file_is_replaced_atomically(tmp_path: Path) -> None:
    path = tmp_path / "out.xml"
    path.write_text("old")
    inode = path.stat().st_ino
    write_output(path, "new", "--junit")
    assert path.read_text() == "new" and path.stat().st_ino != inode  # renamed into place
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.xml"]


def test_a_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(OutputRefused, match="is a folder"):
        output_target(tmp_path, "--html")
