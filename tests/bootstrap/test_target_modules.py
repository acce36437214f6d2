"""The code that runs on a target's own Python (``provisioner/target/``) runs on the
oldest interpreter an environment can have (3.7, pyenv's: tensorflow-directml's), and
the bootstrap scripts' packed helper gives there what apply computes and reads back:
the prefix fingerprint, the state record, the activation files."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from provisioner.env.activation import activation_current, activation_data
from provisioner.render.artifacts_bootstrap import helper_program
from provisioner.state import PackageRecord, State, VerifySummary, parse_state, verified_skeleton
from provisioner.target import BOOTSTRAP_MODULES, SMOKE_MODULES, SMOKE_PROVIDED
from provisioner.target.fingerprint import env_fingerprint
from provisioner.target.journal import state_text
from provisioner.target.pack import PackError, pack
from tests.support import machine

REPO = Path(__file__).resolve().parents[2]
TARGET = REPO / "provisioner" / "target"
VARS = {"CUDA_VISIBLE_DEVICES": "1", "ODD": "it's \u2019 $x"}
LOCK_SHA = "a" * 64


def python37() -> Path:
    return machine.pyenv_python("3.7")


def test_every_target_module_imports_on_python_3_7() -> None:
    modules = sorted(
        ".".join(p.relative_to(REPO).with_suffix("").parts)
        for p in TARGET.rglob("*.py")
        if p.name != "__init__.py" and p.name != "pack.py"  # pack runs in provision only
    )
    assert "provisioner.target.journal" in modules and len(modules) >= 10
    code = "import importlib, sys\nfor m in sys.argv[1:]:\n    importlib.import_module(m)\n"
    done = subprocess.run(
        [str(python37()), "-c", code, *modules],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr


def contract() -> dict[str, object]:
    state = State(
        "env",
        "",
        "venv",
        "linux-64",
        "verified",
        profile_hash="sha256:p",
        lock_sha256=LOCK_SHA,
        packages=(PackageRecord("pip", "six", "1.17.0", "", "file:///w/six.whl", "0" * 64),),
        verification=VerifySummary("smoke", "smoke test passed"),
    )
    return {
        "state": {"skeleton": verified_skeleton(state), "measured": list(VerifySummary.MEASURED)},
        "activation": activation_data("venv", VARS),
    }


def helper(tmp_path: Path, mode: str, prefix: Path, **extra: str) -> int:
    """The packed helper, as bootstrap.sh runs it: ``python -I - MODE`` on stdin."""
    data = tmp_path / "bootstrap.json"
    data.write_text(json.dumps(contract()))
    env = {
        "PROVISION_BOOTSTRAP_DATA": str(data),
        "PROVISION_PREFIX": str(prefix),
        "PROVISION_STATE_FILE": str(tmp_path / "state" / "env.json"),
        "PROVISION_LOCKFILE": str(tmp_path / "conda-lock.yml"),
        **extra,
    }
    done = subprocess.run(
        [str(python37()), "-I", "-", mode],
        input=helper_program(),
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode in (0, 1), done.stderr
    return done.returncode


def venv37(tmp_path: Path) -> Path:
    prefix = tmp_path / "venv"
    subprocess.run([str(python37()), "-m", "venv", "--without-pip", str(prefix)], check=True)
    return prefix


def test_the_fingerprint_on_python_3_7_is_apply_s(tmp_path: Path) -> None:
    prefix = tmp_path / "env"
    for folder in ("conda-meta", "lib/python3.7/site-packages", "Lib/site-packages"):
        (prefix / folder).mkdir(parents=True)
        (prefix / folder / "a-1.0.json").write_text("{}")
    code = "import sys\nfrom pathlib import Path\n"
    code += "from provisioner.target.fingerprint import env_fingerprint\n"
    code += "print(env_fingerprint(Path(sys.argv[1])))\n"
    done = subprocess.run(
        [str(python37()), "-c", code, str(prefix)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.stdout.strip() == env_fingerprint(prefix) != ""


def test_the_helper_records_a_state_apply_reads_and_checks_it_as_apply_does(
    tmp_path: Path,
) -> None:
    prefix = venv37(tmp_path)
    assert helper(tmp_path, "state-check", prefix) == 1  # nothing recorded yet
    result = tmp_path / "smoke.json"
    measured = {"device_used": "cpu", "steps_per_s": 41.5, "speedup": [1], "device_name": None}
    result.write_text(json.dumps({"verdict": "pass", "accelerator_used": False, **measured}))
    assert helper(tmp_path, "state-write", prefix, PROVISION_SMOKE_RESULT=str(result)) == 0
    text = (tmp_path / "state" / "env.json").read_text()
    state = parse_state(json.loads(text))
    assert state is not None and text == state_text(state.as_json())  # one serialisation
    assert state.good_for(
        lock_sha256=LOCK_SHA, fingerprint=env_fingerprint(prefix), verify_kind="smoke"
    )
    assert state.prefix == str(prefix) and state.lock_path == str(tmp_path / "conda-lock.yml")
    assert state.verification is not None and state.verification.verified_at
    # the smoke test's measurements, JSON scalars only (a list is not a speedup)
    assert (state.verification.device_used, state.verification.steps_per_s) == ("cpu", 41.5)
    assert state.verification.speedup is None
    assert helper(tmp_path, "state-check", prefix) == 0
    (next(prefix.glob("lib/python3.7/site-packages")) / "new.dist-info").mkdir()
    assert helper(tmp_path, "state-check", prefix) == 1  # the environment changed


def test_the_helper_writes_the_activation_apply_writes(tmp_path: Path) -> None:
    prefix = venv37(tmp_path)
    assert not activation_current(prefix, "venv", VARS)
    assert helper(tmp_path, "activation", prefix) == 0
    assert activation_current(prefix, "venv", VARS)  # read back by apply's own code


def test_the_packer_packs_each_program_whole() -> None:
    for program in (pack(BOOTSTRAP_MODULES), pack(SMOKE_MODULES, SMOKE_PROVIDED)):
        assert "provisioner" not in program.imports
        assert "from provisioner" not in program.body()
        assert "__main__" not in program.body()  # each program brings its own entry point


@pytest.mark.parametrize(
    ("source", "why"),
    [
        ("from provisioner.errors import ProvisionError\n", "imports provisioner.errors"),
        ("import provisioner.target.journal\n", "imports provisioner.target.journal"),
        ("from provisioner.target.smoke.stages import main\n", "imports provisioner.target"),
        ("def state_text():\n    pass\n", "both define state_text"),
        ("X = '\u00e9'\n", "non-ASCII"),
        ("X = '''\nPYEOF\n'''\n", "would end the script's here-document"),
        ("X = '''\n'@\n'''\n", "would end the script's here-document"),
    ],
)
def test_the_packer_refuses_what_would_break_the_program(
    monkeypatch: pytest.MonkeyPatch, source: str, why: str
) -> None:
    import provisioner.target.pack as packer

    def read(module: str) -> str:
        return source if module == "extra" else (TARGET / f"{module}.py").read_text()

    monkeypatch.setattr(packer, "_source", read)
    packer.pack.cache_clear()
    try:
        with pytest.raises(PackError, match=why):
            pack(("journal", "extra"))
    finally:
        packer.pack.cache_clear()
