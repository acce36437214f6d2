"""Every rendered shell script passes shellcheck at its default severity, whether or not
a lock exists (bootstrap.sh without a lock used to start with an unconditional exit:
SC2317/SC2329)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from provisioner.cli import main
from tests.render.test_injection import write_stand_in_lock

REPO = Path(__file__).resolve().parents[2]
SHIPPED = sorted((REPO / "profiles").glob("*.yaml"))
SHELLCHECK = Path(sys.executable).with_name("shellcheck")


@pytest.mark.parametrize("locked", [False, True], ids=["no-lock", "lock"])
@pytest.mark.parametrize("shipped", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_rendered_shell_scripts_pass_shellcheck(
    shipped: Path, locked: bool, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    profile = tmp_path / shipped.name
    shutil.copy(shipped, profile)
    if locked:
        write_stand_in_lock(profile)
    assert main(["render", str(profile), "-o", str(tmp_path / "out")]) == 0
    capsys.readouterr()
    scripts = sorted((tmp_path / "out").glob("*.sh"))
    assert scripts, "a profile renders at least check.sh"
    done = subprocess.run(
        [str(SHELLCHECK), *map(str, scripts)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout
