"""uv's cache poisoned as an attacker would: a file of an unpacked wheel edited *and* its
line in the cached ``RECORD`` rewritten, a ``.pth`` and a module planted beside it, a
bytecode file planted that Python would run without checking its source.

uv links every file of its cache entry into a new environment and copies the cached
``RECORD`` as the installed one, so checking installed files against the installed
``RECORD`` passed all of it. Each test here fails unless the installed files are
compared with the ``RECORD`` inside the wheel verified against the lock's sha256
(provisioner/env/wheels.py, provisioner/env/expected.py). Real wheels, real uv, real
venvs; caches are per test."""

from __future__ import annotations

import base64
import csv
import hashlib
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from provisioner.env.installed_files import files_at
from provisioner.env.pip_part import (
    diff_pip_part,
    install_pip_part,
    requirements_text,
    site_packages,
)
from provisioner.env.wheels import verified_wheels
from provisioner.lock import LockedPackage
from provisioner.uvbin import uv_executable
from tests.pypi_index import Wheel, build_wheel

SCRIPT = "#!python\nimport demo_pkg\nprint('demo', demo_pkg.__version__)\n"
DEMO = Wheel(
    "demo-pkg",
    "1.0",
    extra=(
        ("demo_pkg/core.py", "VALUE = 'verified'\n"),
        ("demo_pkg-1.0.data/scripts/demo-tool", SCRIPT),
        ("demo_pkg-1.0.data/data/share/demo/notes.txt", "notes\n"),
        ("demo_pkg-1.0.dist-info/entry_points.txt", "[console_scripts]\ndemo = demo_pkg:main\n"),
    ),
)
ORIGINAL = "VALUE = 'verified'\n"
POISON = "VALUE = 'poisoned'\nimport os  # runs with the import\n"


@pytest.fixture(autouse=True)
def caches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "uv-cache"))


@pytest.fixture
def lock(tmp_path: Path) -> tuple[LockedPackage, ...]:
    path = build_wheel(DEMO, tmp_path / "wheels")
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    return (LockedPackage("pip", "demo-pkg", "1.0", "linux-64", path.as_uri(), sha),)


def make_venv(where: Path) -> Path:
    run = [uv_executable(), "venv", "--python", sys.executable, str(where)]
    subprocess.run(run, check=True, capture_output=True)
    return where / "bin" / "python"


def record_line(path: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}"


def rewrite_record(record: Path, rel: str, data: bytes) -> None:
    """Give ``rel``'s line in ``record`` the hash and size of ``data`` (added if absent)."""
    rows = [row for row in csv.reader(record.read_text().splitlines()) if row]
    lines = [",".join(row) for row in rows if row[0] != rel] + [record_line(rel, data)]
    replace_file(record, ("\n".join(lines) + "\n").encode())


def replace_file(path: Path, data: bytes) -> None:
    """A new inode at ``path``: environments already linked to the old one keep it."""
    tmp = path.with_name(path.name + ".new")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def cache_entry(cache: Path) -> Path:
    """The folder uv unpacked demo-pkg into (``archive-v0/<id>/``)."""
    (core,) = cache.glob("archive-v*/*/demo_pkg/core.py")
    return core.parent.parent


def poison(entry: Path) -> None:
    """Edit core.py in uv's cache and rewrite its line in the cached RECORD."""
    replace_file(entry / "demo_pkg" / "core.py", POISON.encode())
    rewrite_record(entry / "demo_pkg-1.0.dist-info" / "RECORD", "demo_pkg/core.py", POISON.encode())


def core(python: Path) -> str:
    site = site_packages(python)
    assert site is not None
    return (site / "demo_pkg" / "core.py").read_text()


def test_a_file_poisoned_in_uvs_cache_with_its_record_rewritten_is_never_installed(
    tmp_path: Path, lock: tuple[LockedPackage, ...]
) -> None:
    first = make_venv(tmp_path / "v1")
    install_pip_part(first, lock, quiet=True, owns_all=True)  # warms uv's cache
    entry = cache_entry(tmp_path / "uv-cache")
    poison(entry)
    # The attack is real: uv itself installs the poisoned file from the verified wheel.
    bare = make_venv(tmp_path / "bare")
    requirements = tmp_path / "req.txt"
    requirements.write_text(requirements_text(lock, verified_wheels(lock)))
    uv = [uv_executable(), "pip", "install", "-q", "--python", str(bare), "--no-deps"]
    subprocess.run([*uv, "--require-hashes", "-r", str(requirements)], check=True)
    assert core(bare) == POISON
    second = make_venv(tmp_path / "v2")
    install_pip_part(second, lock, quiet=True, owns_all=True)
    assert core(second) == ORIGINAL
    assert diff_pip_part(second, lock, owns_all=True, files=True).matches
    checked, altered = files_at(second.parent.parent, second, "venv", lock)
    assert altered == [] and checked >= 5
    done = subprocess.run(
        [str(second), "-c", "import demo_pkg.core as c; print(c.VALUE)"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == "verified"


def test_files_planted_in_uvs_cache_entry_never_stay_installed(
    tmp_path: Path, lock: tuple[LockedPackage, ...]
) -> None:
    """uv links every file of its cache entry, listed in RECORD or not."""
    first = make_venv(tmp_path / "v1")
    install_pip_part(first, lock, quiet=True, owns_all=True)
    entry = cache_entry(tmp_path / "uv-cache")
    (entry / "zz_evil.pth").write_text("import os; os.environ['PWNED'] = '1'\n")
    (entry / "demo_pkg" / "evil.py").write_text("PWNED = 1\n")
    second = make_venv(tmp_path / "v2")
    install_pip_part(second, lock, quiet=True, owns_all=True)
    site = site_packages(second)
    assert site is not None
    assert not (site / "zz_evil.pth").exists() and not (site / "demo_pkg" / "evil.py").exists()
    assert files_at(second.parent.parent, second, "venv", lock)[1] == []


def test_verify_names_a_poisoned_install_and_apply_force_repairs_it(
    tmp_path: Path, lock: tuple[LockedPackage, ...]
) -> None:
    """An environment installed from a poisoned cache before this check existed: its
    file and its installed RECORD agree with each other, not with the wheel."""
    python = make_venv(tmp_path / "v")
    install_pip_part(python, lock, quiet=True, owns_all=True)
    site = site_packages(python)
    assert site is not None
    replace_file(site / "demo_pkg" / "core.py", POISON.encode())
    rewrite_record(site / "demo_pkg-1.0.dist-info" / "RECORD", "demo_pkg/core.py", POISON.encode())
    (site / "zz_evil.pth").write_text("import os\n")
    _, altered = files_at(python.parent.parent, python, "venv", lock)
    assert altered == [
        "pip:?: zz_evil.pth (added)",
        "pip:demo-pkg: demo_pkg/core.py (changed)",
    ]
    deep = diff_pip_part(python, lock, owns_all=True, files=True)  # what apply --force does
    assert deep.altered == ("pip:demo-pkg",) and deep.strays == (str(site / "zz_evil.pth"),)
    install_pip_part(python, lock, quiet=True, owns_all=True, current=deep)
    assert core(python) == ORIGINAL and not (site / "zz_evil.pth").exists()
    assert files_at(python.parent.parent, python, "venv", lock)[1] == []


def unchecked_pyc(source: bytes, code: str) -> bytes:
    """A pyc Python loads without looking at its source (PEP 552 flags 0b01)."""
    import marshal

    flags = (1).to_bytes(4, "little")
    source_hash = importlib.util.source_hash(source)
    return (
        importlib.util.MAGIC_NUMBER
        + flags
        + source_hash
        + marshal.dumps(compile(code, "x", "exec"))
    )


def test_bytecode_planted_in_uvs_cache_is_recompiled_and_a_planted_one_is_named(
    tmp_path: Path, lock: tuple[LockedPackage, ...]
) -> None:
    first = make_venv(tmp_path / "v1")
    install_pip_part(first, lock, quiet=True, owns_all=True)
    entry = cache_entry(tmp_path / "uv-cache")
    tag = sys.implementation.cache_tag
    pyc = entry / "demo_pkg" / "__pycache__" / f"core.{tag}.pyc"
    pyc.parent.mkdir(exist_ok=True)
    pyc.write_bytes(unchecked_pyc(b"whatever", "VALUE = 'from bytecode'\n"))
    second = make_venv(tmp_path / "v2")
    install_pip_part(second, lock, quiet=True, owns_all=True)
    done = subprocess.run(
        [str(second), "-c", "import demo_pkg.core as c; print(c.VALUE)"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == "verified"  # recompiled: checked against the source
    assert files_at(second.parent.parent, second, "venv", lock)[1] == []
    site = site_packages(second)
    assert site is not None
    installed = site / "demo_pkg" / "__pycache__" / f"core.{tag}.pyc"
    replace_file(installed, unchecked_pyc(b"x", "VALUE = 'from bytecode'\n"))
    assert files_at(second.parent.parent, second, "venv", lock)[1] == [
        f"pip:demo-pkg: demo_pkg/__pycache__/core.{tag}.pyc (changed)"
    ]


def test_scripts_and_data_of_a_wheel_are_checked_where_they_were_installed(
    tmp_path: Path, lock: tuple[LockedPackage, ...]
) -> None:
    python = make_venv(tmp_path / "v")
    install_pip_part(python, lock, quiet=True, owns_all=True)
    prefix = python.parent.parent
    tool = prefix / "bin" / "demo-tool"
    assert tool.read_text().startswith("#!") and tool.read_text().endswith(SCRIPT[9:])
    assert (prefix / "share" / "demo" / "notes.txt").read_text() == "notes\n"
    assert files_at(prefix, python, "venv", lock)[1] == []
    replace_file(tool, tool.read_bytes() + b"import os\n")
    replace_file(prefix / "share" / "demo" / "notes.txt", b"edited\n")
    assert files_at(prefix, python, "venv", lock)[1] == [
        "pip:demo-pkg: demo_pkg-1.0.data/data/share/demo/notes.txt (changed)",
        "pip:demo-pkg: demo_pkg-1.0.data/scripts/demo-tool (changed)",
    ]


def test_a_wheel_altered_in_the_store_is_fetched_again_not_trusted(
    tmp_path: Path, lock: tuple[LockedPackage, ...]
) -> None:
    python = make_venv(tmp_path / "v1")
    install_pip_part(python, lock, quiet=True, owns_all=True)
    (stored,) = (tmp_path / "xdg-cache" / "provision" / "artifacts").glob("*/demo_pkg-*.whl")
    assert stored.parent.name == lock[0].sha256
    data = stored.read_bytes()
    replace_file(stored, data[:-1] + bytes([data[-1] ^ 1]))  # one byte, same size
    second = make_venv(tmp_path / "v2")
    install_pip_part(second, lock, quiet=True, owns_all=True)
    assert hashlib.sha256(stored.read_bytes()).hexdigest() == lock[0].sha256  # re-fetched
    assert files_at(second.parent.parent, second, "venv", lock)[1] == []
