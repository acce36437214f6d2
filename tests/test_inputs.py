"""The one bounded reader (:mod:`provisioner.inputs`): regular files only, a size cap
checked before and during the read, streaming, and one reason with a fix for
anything else. The commands that use it are tested end to end in
``tests/test_input_paths.py``."""

from __future__ import annotations

import io
import os
import socket
from pathlib import Path

import pytest

from provisioner.inputs import (
    FACTS,
    LOG,
    InputError,
    Kind,
    Unreadable,
    capped,
    input_chunks,
    input_lines,
    open_input,
    read_bounded,
    read_input,
    read_input_text,
)

SMALL = Kind("thing", 64, "pass a thing", "a thing file")


def test_a_regular_file_is_read_whole(tmp_path: Path) -> None:
    path = tmp_path / "f.txt"
    path.write_bytes(b"a\nb\n")
    assert read_input(path, SMALL) == b"a\nb\n"
    assert list(input_lines(path, SMALL)) == [b"a\n", b"b\n"]
    assert b"".join(input_chunks(path, SMALL, size=1)) == b"a\nb\n"


def test_a_file_at_the_cap_is_read_one_byte_more_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "f.txt"
    path.write_bytes(b"x" * SMALL.cap)
    assert len(read_input(path, SMALL)) == SMALL.cap
    path.write_bytes(b"x" * (SMALL.cap + 1))
    with pytest.raises(InputError) as e:
        read_input(path, SMALL)
    assert str(e.value) == (
        f"{path}: cannot read the thing: the file is larger than 64 bytes (65 bytes), "
        "more than any thing"
    )
    assert e.value.exit_code == 2
    assert e.value.hint == "pass a thing; not a bigger file"


def test_a_named_pipe_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "x.json"
    os.mkfifo(fifo)  # nobody writes: a blocking open or read would wait forever
    with pytest.raises(InputError) as e:
        read_input(fifo, FACTS)
    assert "not a regular file (a named pipe)" in str(e.value)
    assert e.value.hint == (
        "name a file written by `provision facts --save FILE`, not a folder, pipe or device"
    )


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/null", "/dev/urandom"])
def test_a_device_is_refused(device: str) -> None:
    with pytest.raises(InputError, match=r"not a regular file \(a device\)"):
        read_input(device, LOG)


def test_a_link_to_a_device_is_refused(tmp_path: Path) -> None:
    link = tmp_path / "log.txt"
    link.symlink_to("/dev/zero")
    with pytest.raises(InputError, match=r"log.txt: cannot read the log: not a regular file"):
        read_input(link, LOG)


def test_a_folder_a_socket_a_loop_and_a_missing_file_are_each_one_reason(
    tmp_path: Path,
) -> None:
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    sock_path = tmp_path / "s"
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(sock_path))
        reasons = {}
        for name, path in {
            "folder": tmp_path,
            "socket": sock_path,
            "loop": loop,
            "missing": tmp_path / "nope",
        }.items():
            with pytest.raises(Unreadable) as e:
                read_bounded(path, SMALL)
            reasons[name] = (e.value.reason, e.value.fix)
    assert reasons["folder"] == ("not a regular file (a folder)", SMALL.not_a_file_fix)
    assert reasons["socket"][0].startswith("not a regular file (a socket")
    assert reasons["loop"][0] == "too many levels of symbolic links (a symlink loop)"
    assert reasons["missing"] == ("No such file or directory", "pass a thing")


def test_a_file_that_grows_past_the_cap_while_read_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "grows.txt"
    path.write_bytes(b"x" * 10)
    with pytest.raises(InputError, match="larger than"), open_input(path, SMALL) as stream:
        with path.open("ab") as more:
            more.write(b"y" * 200)  # after the size check on the open descriptor
        stream.read()


def test_stdin_is_read_through_the_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    class Stdin(io.TextIOWrapper):
        pass

    monkeypatch.setattr("sys.stdin", Stdin(io.BytesIO(b"x" * 10)))
    assert read_input("-", SMALL, stdin=True) == b"x" * 10
    monkeypatch.setattr("sys.stdin", Stdin(io.BytesIO(b"x" * 100)))
    with pytest.raises(InputError, match=r"^stdin: cannot read the thing: the file is larger"):
        read_input("-", SMALL, stdin=True)


def test_stdin_only_where_the_command_takes_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # a file named "-" is looked for here
    with pytest.raises(InputError, match="No such file"):
        read_input("-", SMALL)


def test_a_member_stream_is_capped_while_it_is_read() -> None:
    class Zeros(io.RawIOBase):
        def readable(self) -> bool:
            return True

        def readinto(self, b: memoryview) -> int:  # type: ignore[override]
            b[: len(b)] = b"\0" * len(b)
            return len(b)

    with pytest.raises(Unreadable, match="larger than"):
        capped(Zeros(), SMALL).read()  # type: ignore[arg-type]
    assert capped(io.BytesIO(b"ok"), SMALL).read() == b"ok"


def test_text_must_be_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.txt"
    path.write_bytes(b"caf\xe9")
    with pytest.raises(InputError, match=r"not UTF-8 text \(byte 3\)"):
        read_input_text(path, SMALL)
    path.write_bytes(b"\xef\xbb\xbfok")
    assert read_input_text(path, SMALL) == "ok"
