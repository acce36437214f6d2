"""The rendered bootstrap.sh answers --help with its whole usage (exit 0); a wrong option
gets the usage lines on stderr (exit 2). It used to print one line and exit 2."""

from __future__ import annotations

import subprocess
from pathlib import Path

from provisioner.cli import main

REPO = Path(__file__).resolve().parents[2]


def test_bootstrap_sh_help_and_usage(tmp_path: Path) -> None:
    assert main(["render", str(REPO / "profiles" / "cpu.yaml"), "-o", str(tmp_path)]) == 0
    script = tmp_path / "bootstrap.sh"
    done = subprocess.run(["bash", str(script), "--help"], capture_output=True, text=True)
    assert done.returncode == 0 and done.stderr == ""
    lines = done.stdout.splitlines()
    assert lines[0].startswith("Usage: ./bootstrap.sh [--dry-run]")
    assert any(ln.startswith("Exit codes: 0") for ln in lines) and "--host-name" in lines[1]
    wrong = subprocess.run(["bash", str(script), "--bogus"], capture_output=True, text=True)
    assert wrong.returncode == 2 and wrong.stdout == ""
    assert wrong.stderr.splitlines()[0] == "bootstrap: unknown option: --bogus"
    assert wrong.stderr.splitlines()[1].startswith("Usage: ./bootstrap.sh")
    assert len(wrong.stderr.splitlines()) == 3
