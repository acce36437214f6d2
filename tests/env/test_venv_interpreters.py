"""The venv backend with interpreters that lie or break: a Python that reports X.Y to
``-V`` but does not start, one that starts as another version, one with a space in its
path, and venvs whose ``pyvenv.cfg`` is damaged. The interpreters are STAND-INS (shell
scripts on a PATH built here) that answer the two questions the backend asks."""

from __future__ import annotations

from pathlib import Path

import pytest

from provisioner.env.venv import VenvBackend, _venv_version, ask_version, find_interpreter
from provisioner.errors import HostNotReady
from provisioner.host.probe import Probe
from provisioner.lock import Lock, LockedPackage


def stand_in(folder: Path, name: str, reports: str, starts_as: str | None) -> Path:
    """A fake ``name`` whose ``-V`` says ``Python <reports>`` and whose ``-c`` run prints
    ``starts_as`` (X.Y and an executable path, one per line) or fails when None."""
    folder.mkdir(parents=True, exist_ok=True)
    exe = folder / name
    run = f"printf '%s\\n' {starts_as}" if starts_as else "echo 'Fatal Python error' >&2; exit 1"
    exe.write_text(
        "#!/bin/sh\n# STAND-IN Python interpreter\n"
        f'if [ "$1" = -V ]; then echo "Python {reports}"; exit 0; fi\n{run}\n'
    )
    exe.chmod(0o755)
    return exe


def probe(tmp_path: Path, *folders: Path) -> Probe:
    path = ":".join(str(f) for f in folders)
    return Probe(path=path, env={"PYENV_ROOT": str(tmp_path / "no-pyenv")}, platform="linux")


def test_a_python_that_reports_the_version_but_does_not_start_is_passed_over(
    tmp_path: Path,
) -> None:
    broken = stand_in(tmp_path / "a", "python3.11", "3.11.9", None)
    works = stand_in(tmp_path / "b", "python3", "3.11.4", "3.11 '/opt/py  3.11/bin/python3'")
    assert ask_version([str(broken)]) is None
    found = find_interpreter("3.11", probe(tmp_path, broken.parent, works.parent))
    # Two spaces in the folder name: the path is taken as printed, not re-joined.
    assert (found.version, found.executable) == ("3.11", Path("/opt/py  3.11/bin/python3"))


def test_a_python_that_starts_as_another_version_is_not_used_and_is_listed(
    tmp_path: Path,
) -> None:
    liar = stand_in(tmp_path / "a", "python3", "3.11.9", "3.10 /usr/bin/python3.10")
    with pytest.raises(HostNotReady) as e:
        find_interpreter("3.11", probe(tmp_path, liar.parent))
    assert "found: 3.10 (/usr/bin/python3.10), " in e.value.message


@pytest.mark.parametrize(
    "answer",
    ["3.11", "", "'3.11 only one line'"],
    ids=["no-executable-line", "nothing", "one-line"],
)
def test_an_answer_without_a_version_and_a_path_is_no_interpreter(
    tmp_path: Path, answer: str
) -> None:
    exe = stand_in(tmp_path / "a", "python3", "3.11.0", answer or "''")
    assert ask_version([str(exe)]) is None


@pytest.mark.parametrize("kind", ["missing", "not-executable", "a-folder"])
def test_a_command_that_cannot_start_is_no_interpreter(tmp_path: Path, kind: str) -> None:
    target = tmp_path / "python3"
    if kind == "not-executable":
        target.write_text("#!/bin/sh\necho 3.11\n")
    elif kind == "a-folder":
        target.mkdir()
    assert ask_version([str(target)]) is None


def test_nothing_found_at_all_says_none(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(HostNotReady) as e:
        find_interpreter("3.11", probe(tmp_path, tmp_path / "empty"))
    assert e.value.message.endswith("found: none")
    assert e.value.hint is not None and "pyenv install 3.11" in e.value.hint


def test_a_patch_version_on_path_is_matched_by_its_minor(tmp_path: Path) -> None:
    exe = stand_in(tmp_path / "a", "python3", "3.11.12", "3.11 /opt/python3.11")
    other = stand_in(tmp_path / "b", "python3.1", "3.1.5", "3.1 /opt/python3.1")
    found = find_interpreter("3.11", probe(tmp_path, other.parent, exe.parent))
    assert found.executable == Path("/opt/python3.11")


@pytest.mark.parametrize(
    ("cfg", "version"),
    [
        (b"home = /usr/bin\nversion = 3.11.7\n", "3.11"),
        (b"home = /usr/bin\nversion_info = 3.12.1.final.0\n", "3.12"),
        (b"version=3.9.18\n", "3.9"),
        (b"home = /usr/bin\n", None),
        (b"version = 3\n", None),
        (b"home = /caf\xe9/bin\nversion = 3.11.7\n", None),  # not UTF-8
        (b"\x00\x00\x00", None),
    ],
    ids=["venv", "uv", "no-spaces", "no-version", "major-only", "not-utf8", "zeroed"],
)
def test_the_venv_python_version_from_pyvenv_cfg(
    tmp_path: Path, cfg: bytes, version: str | None
) -> None:
    (tmp_path / "pyvenv.cfg").write_bytes(cfg)
    assert _venv_version(tmp_path) == version


LOCK = Lock(
    "sha256:x",
    ("linux-64",),
    (),
    (LockedPackage("pip", "six", "1.17.0", "linux-64", "file:///w/six.whl", "0" * 64),),
)


def fake_venv(tmp_path: Path, cfg: bytes, python: bool = True) -> Path:
    prefix = tmp_path / "venv"
    (prefix / "bin").mkdir(parents=True)
    (prefix / "pyvenv.cfg").write_bytes(cfg)
    if python:
        (prefix / "bin" / "python").symlink_to("/bin/true")
    return prefix


@pytest.mark.parametrize(
    ("cfg", "python", "notes"),
    [
        (b"version = 3.10.4\n", True, ("the venv has Python 3.10, the profile wants 3.11",)),
        (b"version = 3.11.4\n", False, ()),
    ],
    ids=["other-python", "no-interpreter"],
)
def test_a_venv_that_cannot_be_kept_is_rebuilt(
    tmp_path: Path, cfg: bytes, python: bool, notes: tuple[str, ...]
) -> None:
    prefix = fake_venv(tmp_path, cfg, python)
    diff = VenvBackend("3.11").diff(prefix, LOCK, "linux-64")
    assert (diff.exists, diff.notes) == (False, notes)
    assert [p.name for p in diff.add] == ["six"]


def test_a_venv_with_a_damaged_pyvenv_cfg_is_diffed_not_a_crash(tmp_path: Path) -> None:
    prefix = fake_venv(tmp_path, b"home = /caf\xe9\nversion = 3.10.1\n")
    diff = VenvBackend("3.11").diff(prefix, LOCK, "linux-64")
    assert diff.exists and [p.name for p in diff.add] == ["six"]
