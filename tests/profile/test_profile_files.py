"""A profile as a file: encodings and line endings an editor may save, and paths that
are not a readable profile. Each refusal is one error at ``FILE:1:1`` with the cause
and a fix; what an editor saves on Windows (a BOM, CRLF) loads as written."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from provisioner.errors import ValidationFailed
from provisioner.profile import load_profile

BASE = """\
name: files
target: {os: linux}
environment:
  manager: venv
  name: files-env
  python: "3.11"
  pip: [numpy]
smoke_test: {framework: pytorch, device: cpu, require_accelerator: false}
"""
TRAP = (
    'environment.python: unquoted version 3.10 is read by YAML as the number 3.1; quote it: "3.10"'
)


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # errors name files relative to the working folder


def errors(path: Path | str) -> list[str]:
    with pytest.raises(ValidationFailed) as info:
        load_profile(Path(path))
    return [str(d) for d in info.value.diagnostics]


@pytest.mark.parametrize(
    "encode",
    [
        lambda text: text.encode("utf-8"),
        lambda text: b"\xef\xbb\xbf" + text.encode("utf-8"),
        lambda text: text.replace("\n", "\r\n").encode("utf-8"),
        lambda text: b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("utf-8"),
    ],
    ids=["utf-8", "bom", "crlf", "bom-crlf"],
)
def test_what_editors_save_loads_and_keeps_positions(encode: Callable[[str], bytes]) -> None:
    Path("ok.yaml").write_bytes(encode(BASE))
    assert load_profile(Path("ok.yaml")).profile.environment.python == "3.11"
    Path("trap.yaml").write_bytes(encode(BASE.replace('"3.11"', "3.10")))
    assert errors("trap.yaml") == [f"trap.yaml:6:11: error: {TRAP}"]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (BASE.encode("utf-16"), "not UTF-8 text (byte 0)"),
        (BASE.replace("files-env", "caf\xe9").encode("latin-1"), "not UTF-8 text (byte 72)"),
    ],
    ids=["utf-16-bom", "latin-1"],
)
def test_text_that_is_not_utf8_is_refused_with_the_byte(data: bytes, reason: str) -> None:
    Path("enc.yaml").write_bytes(data)
    (line,) = errors("enc.yaml")
    assert line.startswith(f"enc.yaml:1:1: error: cannot read profile: {reason}")
    assert line.endswith("(fix: save it as UTF-8)")


def test_utf16_without_a_bom_is_refused_at_its_first_nul_with_the_fix() -> None:
    Path("u16.yaml").write_bytes(BASE.encode("utf-16-le"))
    assert errors("u16.yaml") == [
        "u16.yaml:1:1: error: the file contains a NUL byte; a profile is text: save it as "
        "UTF-8 (UTF-16 puts a NUL in every other byte)"
    ]


@pytest.fixture
def unix_socket(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "profile.sock"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    yield path
    server.close()


def test_a_socket_is_not_a_profile(unix_socket: Path) -> None:
    """Opening a socket fails with ENXIO, which used to read "No such device or
    address (fix: pass an existing profile file)" for a file that exists."""
    (line,) = errors(unix_socket.name)
    assert line == (
        "profile.sock:1:1: error: cannot read profile: not a regular file (a socket or a "
        "device) (fix: name a profile YAML file, not a folder, pipe or device)"
    )


def test_a_dangling_symlink_names_what_is_missing() -> None:
    Path("gone.yaml").symlink_to("nowhere.yaml")
    assert errors("gone.yaml") == [
        "nowhere.yaml:1:1: error: cannot read profile: No such file or directory "
        "(fix: pass an existing profile file)"
    ]


@pytest.mark.parametrize(
    ("path", "reason", "fix"),
    [
        ("file/profile.yaml", "Not a directory", "pass an existing profile file"),
        ("p" * 300 + ".yaml", "the file name is too long", "use a shorter path"),
    ],
    ids=["through-a-file", "name-too-long"],
)
def test_paths_that_lead_nowhere(path: str, reason: str, fix: str) -> None:
    Path("file").write_text("x", encoding="utf-8")
    assert errors(path) == [f"{path}:1:1: error: cannot read profile: {reason} (fix: {fix})"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a file whatever its mode")
def test_an_unreadable_file_says_make_it_readable() -> None:
    Path("locked.yaml").write_text(BASE, encoding="utf-8")
    Path("locked.yaml").chmod(0)
    (line,) = errors("locked.yaml")
    assert line.endswith("(fix: make the file readable)")


@pytest.mark.parametrize("text", ["", "# only a comment\n", "---\n", "--- ~\n", "null\n", "\n\n"])
def test_an_empty_profile_lists_what_it_lacks_at_its_own_name(text: str) -> None:
    """The file is named as the user wrote it (relative), not by its absolute path; an
    explicit empty document (``---``, ``~``) used to be "cannot load profile", no cause."""
    Path("empty.yaml").write_text(text, encoding="utf-8")
    got = errors("empty.yaml")
    assert all(line.startswith("empty.yaml:") for line in got), got
    assert [line.split(": error: ")[1] for line in got] == [
        f'missing required field "{field}"'
        for field in ("name", "target", "environment", "smoke_test")
    ]
