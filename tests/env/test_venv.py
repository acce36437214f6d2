"""The venv backend: interpreter discovery (PATH, pyenv, py launcher), a real venv, the
locked pip part installed with hashes, and an exact diff. Wheels are built by the tests
(tests/pypi_index.py); other Pythons come from pyenv (skipped without: support.machine)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from provisioner.env.venv import VenvBackend, find_interpreter
from provisioner.errors import HostNotReady
from provisioner.host.probe import Probe
from provisioner.lock import Lock
from tests.pypi_index import small_package
from tests.support import machine


def lock_of(*pkgs: tuple[str, str]) -> Lock:
    return Lock("sha256:test", ("linux-64",), (), tuple(small_package(n, v) for n, v in pkgs))


def test_finds_pyenv_interpreter_when_not_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    machine.pyenv_python("3.7")
    root = machine.pyenv_root()
    monkeypatch.setenv("PATH", "/usr/bin:/bin")  # no pyenv shims
    found = find_interpreter("3.7")
    assert found.version == "3.7"
    assert str(found.executable).startswith(str(root / "versions"))


def test_no_match_lists_what_was_found(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "no-pyenv"))
    monkeypatch.setenv("PATH", str(Path(os.environ["PYENV_ROOT"]).parent) + ":/usr/bin:/bin")
    with pytest.raises(HostNotReady) as e:
        find_interpreter("3.99")
    msg = e.value.message
    assert msg.startswith("no Python 3.99 interpreter found")
    assert "found: " in msg
    assert e.value.hint and "3.99" in e.value.hint
    system = Path("/usr/bin/python3")
    if system.is_file():  # the listing names what the host probe found, with versions
        out = subprocess.run([system, "-V"], capture_output=True, text=True, check=True)
        assert f"{out.stdout.split()[1]} ({system})" in msg


def test_path_comes_before_pyenv(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The order doctor's discovery uses: a PATH Python of X.Y wins over pyenv's X.Y."""
    system = Path("/usr/bin/python3")
    if not system.is_file():
        pytest.skip("no /usr/bin/python3 on this machine")
    out = subprocess.run([system, "-V"], capture_output=True, text=True, check=True)
    x_y = ".".join(out.stdout.split()[1].split(".")[:2])
    machine.pyenv_python(x_y)  # to compete with /usr/bin/python3
    root = machine.pyenv_root()
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    found = find_interpreter(x_y)
    assert found.version == x_y
    assert str(found.executable).startswith("/usr/bin/python")
    monkeypatch.setenv("PATH", str(tmp_path))  # no Python on PATH: pyenv's is next
    found = find_interpreter(x_y)
    assert found.version == x_y and str(found.executable).startswith(str(root / "versions"))


def test_create_install_diff_update(tmp_path: Path) -> None:
    backend = VenvBackend("3.11")
    prefix = tmp_path / "envs" / "demo"
    lock = lock_of(("six", "1.17.0"), ("tabulate", "0.8.10"))
    before = backend.diff(prefix, lock, "linux-64")
    assert not before.exists and len(before.add) == 2
    backend.install(prefix, lock, "linux-64", quiet=True)
    assert (prefix / "pyvenv.cfg").is_file()
    assert backend.diff(prefix, lock, "linux-64").matches
    six_meta = next(prefix.glob("lib/python3.11/site-packages/six-1.17.0.dist-info/METADATA"))
    mtime = six_meta.stat().st_mtime_ns

    bumped = lock_of(("six", "1.17.0"), ("tabulate", "0.10.0"))
    d = backend.diff(prefix, bumped, "linux-64")
    assert [p.spec() for _, p in d.change] == ["tabulate==0.10.0"] and not d.add and not d.remove
    backend.install(prefix, bumped, "linux-64", quiet=True)
    assert backend.diff(prefix, bumped, "linux-64").matches
    assert six_meta.stat().st_mtime_ns == mtime  # only the changed package was touched
    out = subprocess.run(
        [str(prefix / "bin" / "python"), "-c", "import tabulate as t; print(t.__version__)"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "0.10.0"


def test_venv_of_another_python_is_recreated(tmp_path: Path) -> None:
    machine.pyenv_python("3.10")
    prefix = tmp_path / "env"
    lock = lock_of(("six", "1.17.0"))
    VenvBackend("3.10").install(prefix, lock, "linux-64", quiet=True)
    backend = VenvBackend("3.11")
    d = backend.diff(prefix, lock, "linux-64")
    assert not d.exists and "Python 3.10" in d.notes[0]
    backend.install(prefix, lock, "linux-64", quiet=True)
    assert backend.diff(prefix, lock, "linux-64").matches
    assert "3.11" in (prefix / "pyvenv.cfg").read_text()


def test_finds_the_windows_py_launcher(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A STAND-IN ``py`` launcher (Windows cannot run here) under a probe that says
    win32: ``py -0p`` lists pyenv's 3.7 in the launcher's ``-V:X.Y`` format, beside a
    listed 3.12 that does not exist; the backend runs the listed 3.7 path."""
    python37 = machine.pyenv_python("3.7").resolve()
    bindir = tmp_path / "bin"
    bindir.mkdir()
    launcher = bindir / "py"
    launcher.write_text(
        "#!/bin/sh\n# STAND-IN for the Windows py launcher\n"
        '[ "$1" = -0p ] || { echo "No suitable Python runtime found" >&2; exit 103; }\n'
        f"echo ' -V:3.12 *        {tmp_path}/missing/python.exe'\n"
        f"echo ' -V:3.7          {python37}'\n"
    )
    launcher.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bindir}:/usr/bin:/bin")
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "no-pyenv"))
    found = find_interpreter("3.7", Probe(platform="win32"))
    assert found.version == "3.7" and found.executable == python37
    with pytest.raises(HostNotReady) as e:  # listed, but it does not start
        find_interpreter("3.12", Probe(platform="win32"))
    assert f"3.12 ({tmp_path}/missing/python.exe)" in e.value.message
