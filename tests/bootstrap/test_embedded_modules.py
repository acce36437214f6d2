"""The modules bootstrap.sh embeds (apply's prefix fingerprint and activation writer) run
on the oldest Python an environment can have for it (3.7: the smoke test needs it too)
and give there what apply computes with provision's own Python."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from provisioner.apply.state import env_fingerprint
from provisioner.env.activation import activation_current, activation_data
from tests.support import machine

REPO = Path(__file__).resolve().parents[2]
VARS = {"CUDA_VISIBLE_DEVICES": "1", "ODD": "it's \u2019 $x"}


def run_embedded(python: Path, module: str, code: str, env: dict[str, str]) -> str:
    """``module``'s source, then ``code``, as bootstrap.sh feeds them to ``python -``."""
    source = (REPO / module).read_text(encoding="utf-8") + "\n" + code
    done = subprocess.run(
        [str(python), "-"], input=source, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_fingerprint_on_python_3_7_is_apply_s(tmp_path: Path) -> None:
    python = machine.pyenv_python("3.7")
    prefix = tmp_path / "env"
    for folder in ("conda-meta", "lib/python3.7/site-packages", "Lib/site-packages"):
        (prefix / folder).mkdir(parents=True)
        (prefix / folder / "a-1.0.json").write_text("{}")
    code = f"print(env_fingerprint(Path({str(prefix)!r})))\n"
    out = run_embedded(python, "provisioner/apply/fingerprint.py", code, {})
    assert out.strip() == env_fingerprint(prefix) != ""


def test_the_activation_writer_on_python_3_7_writes_what_apply_writes(tmp_path: Path) -> None:
    python = machine.pyenv_python("3.7")
    prefix = tmp_path / "venv"
    subprocess.run([str(python), "-m", "venv", "--without-pip", str(prefix)], check=True)
    env = {
        "PROVISION_PREFIX": str(prefix),
        "PROVISION_ACTIVATION": json.dumps(activation_data("venv", VARS)),
    }
    assert not activation_current(prefix, "venv", VARS)
    run_embedded(python, "provisioner/env/activation_files.py", "", env)
    assert activation_current(prefix, "venv", VARS)  # read back by apply's own code
