"""The one uv lookup: this venv's uv, then beside the interpreter, then PATH, else one
clear error. The fallbacks run in a child Python started with ``-I -S`` from a temp
folder (no site-packages, so the ``uv`` package cannot be imported), with only the
provisioner source on ``sys.path`` and a crafted PATH: the real lookup, no mocks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from provisioner.uvbin import uv_executable

REPO = Path(__file__).resolve().parent.parent
CHILD = f"""
import json, sys
sys.path.insert(0, {str(REPO)!r})
from provisioner.errors import ProvisionError
try:
    import uv
except ImportError:
    uv_importable = False
else:
    uv_importable = True
from provisioner.uvbin import uv_executable
try:
    print(json.dumps({{"uv_importable": uv_importable, "found": uv_executable()}}))
except ProvisionError as e:
    print(json.dumps({{"uv_importable": uv_importable, "error": e.lines(),
                      "exit": int(e.exit_code)}}))
"""


def venv_uv() -> Path:
    return Path(sys.executable).parent / "uv"


def child_lookup(tmp_path: Path, path: str, uv_beside: bool = False) -> dict[str, Any]:
    """Run the lookup in a bare Python whose ``sys.executable`` is in ``tmp_path/bin``."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    python = bindir / "python"
    python.symlink_to(Path(sys.executable).resolve())
    if uv_beside:
        (bindir / "uv").symlink_to(venv_uv().resolve())
    done = subprocess.run(
        [str(python), "-I", "-S", "-c", CHILD],
        env={"PATH": path, "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, Any] = json.loads(done.stdout)
    assert result["uv_importable"] is False  # the fallbacks are what is under test
    return result


def test_finds_the_uv_of_this_venv() -> None:
    found = uv_executable()
    assert Path(found) == venv_uv()
    out = subprocess.run([found, "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.startswith("uv ")


def test_absent_everywhere_is_one_clear_error(tmp_path: Path) -> None:
    result = child_lookup(tmp_path, path="")
    assert result["exit"] == 1  # ExternalFailure: outside the profile
    (line,) = result["error"]
    assert line.startswith("error: uv was not found (not importable, not beside the Python")
    assert "(fix: reinstall provisioner, which depends on uv, or `pip install uv`" in line


def test_falls_back_to_beside_the_interpreter(tmp_path: Path) -> None:
    result = child_lookup(tmp_path, path="", uv_beside=True)
    assert result == {"uv_importable": False, "found": str(tmp_path / "bin" / "uv")}


def test_falls_back_to_path(tmp_path: Path) -> None:
    on_path = tmp_path / "tools"
    on_path.mkdir()
    (on_path / "uv").symlink_to(venv_uv().resolve())
    result = child_lookup(tmp_path, path=f"{tmp_path / 'empty'}{os.pathsep}{on_path}")
    assert result == {"uv_importable": False, "found": str(on_path / "uv")}
