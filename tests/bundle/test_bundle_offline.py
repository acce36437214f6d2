"""Offline: bundle the cpu profile (venv, real torch CPU wheel, real training) and a
conda profile on a local channel built here, then run each bundle's ``bootstrap.sh``
inside ``unshare -n`` (no network at all): both end verified, and a second run
changes nothing. A second bundle of the same lock is byte-identical.

The conda profile uses two named STAND-INS (no conda-forge here): ``python`` (a
venv-style prefix over the host's CPython, :func:`channels.python_standin`) and
``pytorch`` (a ``torch`` module with ``__version__`` only), so it is verified with
``--verify import``; the training smoke test runs for real in the cpu bundle.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest
import yaml

from tests.bundle.conftest import HOST_PYTHON, PY, REPO, bootstrap_env, lock_offline, provision
from tests.channels import PackageSpec, build_channel, demo_packages, python_standin

pytestmark = [pytest.mark.slow, pytest.mark.network]


def run_bootstrap(
    runner: list[str], script: Path, target: Path, *args: str, timeout: float = 1500
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            *runner,
            str(script),
            "--home",
            str(target / "home"),
            "--python",
            str(HOST_PYTHON),
            "--report",
            str(target / "report.json"),
            *args,
        ],
        env=bootstrap_env(target),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_cpu_bundle_is_reproducible_and_bootstraps_offline(
    pip_config_env: dict[str, str], offline_runner: list[str], tmp_path: Path
) -> None:
    profile = tmp_path / "p" / "cpu.yaml"
    profile.parent.mkdir()
    shutil.copy(REPO / "profiles" / "cpu.yaml", profile)
    lock_offline(profile, pip_config_env)

    out = tmp_path / "out"
    first = provision("bundle", str(profile), "-o", str(out / "a.tar.gz"), env=pip_config_env)
    assert first.returncode == 0, first.stderr
    again = provision("bundle", str(profile), "-o", str(out / "b.tar.gz"), env=pip_config_env)
    assert again.returncode == 0, again.stderr
    assert (out / "a.tar.gz").read_bytes() == (out / "b.tar.gz").read_bytes()
    with tarfile.open(out / "a.tar.gz") as tar:
        names = tar.getnames()
        assert {m.uid for m in tar} == {0} and {m.mtime for m in tar} == {315532800}
    assert names == sorted(names) and {n.split("/")[0] for n in names} == {"cpu-linux-64"}
    assert any(n.startswith("cpu-linux-64/wheels/torch-2.13.0+cpu") for n in names)
    assert any(n.startswith("cpu-linux-64/tool/py_rattler-") for n in names)
    assert "cpu-linux-64/render/check.sh" in names and "cpu-linux-64/render/smoke_test.py" in names

    checked = provision("bundle", "--check", str(out / "a.tar.gz"), env=pip_config_env)
    assert checked.returncode == 0 and "match the manifest" in checked.stdout

    # The folder form, bootstrapped with no network; the training smoke test runs.
    folder = provision("bundle", str(profile), "-o", str(out / "dir"), env=pip_config_env)
    assert folder.returncode == 0, folder.stderr
    script = out / "dir" / "cpu-linux-64" / "bootstrap.sh"
    target = tmp_path / "target"
    done = run_bootstrap(offline_runner, script, target)
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    report = json.loads((target / "report.json").read_text())
    assert report["result"] == "changed" and report["verify"]["passed"] is True
    assert report["verify"]["kind"] == "smoke"
    torch = next(p for p in report["packages"] if p["name"] == "torch")
    assert torch["version"] == "2.13.0+cpu"
    assert (target / "home" / "envs" / "cpu" / "pyvenv.cfg").is_file()

    second = run_bootstrap(offline_runner, script, target)
    assert second.returncode == 0, second.stderr[-3000:]
    assert json.loads((target / "report.json").read_text())["result"] == "converged"


def test_damaged_bundle_is_refused_before_anything_runs(
    pip_config_env: dict[str, str], offline_runner: list[str], tmp_path: Path
) -> None:
    profile = tmp_path / "p" / "cpu.yaml"
    profile.parent.mkdir()
    shutil.copy(REPO / "profiles" / "cpu.yaml", profile)
    lock_offline(profile, pip_config_env)
    out = tmp_path / "out"
    assert provision("bundle", str(profile), "-o", str(out), env=pip_config_env).returncode == 0
    top = out / "cpu-linux-64"
    numpy = next((top / "wheels").glob("numpy-*.whl"))
    numpy.write_bytes(numpy.read_bytes()[:-10] + b"tampered!!")

    checked = provision("bundle", "--check", str(out), env=pip_config_env)
    assert checked.returncode == 1
    assert f"wheels/{numpy.name}: sha256 differs from the manifest" in checked.stderr

    target = tmp_path / "target"
    done = run_bootstrap(offline_runner, top / "bootstrap.sh", target)
    assert done.returncode == 1
    assert "the bundle is damaged" in done.stderr and numpy.name in done.stderr
    assert not (target / "home").exists()  # nothing installed, no tool, no env


def torch_standin() -> PackageSpec:
    """A STAND-IN for conda-forge's pytorch: a ``torch`` module with ``__version__``."""
    return PackageSpec(
        "pytorch",
        "0.0.1",
        "standin_0",
        files={f"lib/python{PY}/site-packages/torch/__init__.py": '__version__ = "0.0.1"\n'},
        depends=(f"python {PY}.*",),
    )


def test_conda_bundle_bootstraps_offline_without_a_conda_installer(
    child_env: dict[str, str], offline_runner: list[str], tmp_path: Path
) -> None:
    channel = build_channel(
        tmp_path / "chan", [*demo_packages(), python_standin(), torch_standin()]
    )
    profile = tmp_path / "p" / "e2e.yaml"
    profile.parent.mkdir()
    data = {
        "name": "e2e",
        "target": {"os": "linux"},
        "environment": {
            "manager": "conda",
            "name": "e2e-env",
            "channels": [channel.as_uri()],
            "python": PY,
            "conda": ["app", "tool=1.0", "pytorch"],
        },
        "smoke_test": {"framework": "pytorch", "device": "cpu", "require_accelerator": False},
    }
    profile.write_text(yaml.safe_dump(data, sort_keys=False))
    assert provision("lock", str(profile), env=child_env).returncode == 0
    out = tmp_path / "out" / "e2e.tar.gz"
    made = provision("bundle", str(profile), "-o", str(out), "--tool-python", PY, env=child_env)
    assert made.returncode == 0, made.stderr
    # Never silent for long: each stage is said on stderr as it starts.
    stages = [line.split(" (")[0] for line in made.stderr.splitlines()]
    assert stages[:3] == [
        "bundle: fetching and hashing 6 locked packages for linux-64",
        f"bundle: building provision's own wheel and its runtime wheels for Python {PY}",
        "bundle: rendering the scripts, the manifest and SHA256SUMS",
    ]
    assert stages[3].startswith(f"bundle: writing {out}")
    shutil.rmtree(channel)  # the bundle must not need the channel any more

    with tarfile.open(out) as tar:
        tar.extractall(tmp_path / "x", filter="data")
    top = tmp_path / "x" / "e2e-linux-64"
    repodata = json.loads((top / "channel" / "linux-64" / "repodata.json").read_text())
    assert "python-" + f"{PY}" in " ".join(repodata["packages"])
    assert (top / "channel" / "noarch" / "repodata.json").is_file()

    target = tmp_path / "target"
    env = bootstrap_env(target)
    assert not any(shutil.which(x, path=env["PATH"]) for x in ("conda", "mamba", "micromamba"))
    prefix = target / "images" / "e2e-env"  # --prefix: the environment goes exactly there
    args = ("--verify", "import", "--prefix", str(prefix))
    # --dry-run says what apply would do and changes no environment, writes no report.
    dry = run_bootstrap(offline_runner, top / "bootstrap.sh", target, *args, "--dry-run", "--json")
    assert dry.returncode == 0, dry.stdout + dry.stderr[-3000:]
    planned = json.loads(dry.stdout)
    assert planned["result"] == "planned" and planned["mode"] == "dry-run"
    assert not prefix.exists() and not (target / "report.json").exists()

    done = run_bootstrap(
        offline_runner, top / "bootstrap.sh", target, *args, "--host-name", "lab-pc-07"
    )
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    report = json.loads((target / "report.json").read_text())
    assert report["result"] == "changed" and report["verify"]["passed"] is True
    assert report["environment"]["prefix"] == str(prefix)
    assert report["host"]["name"] == "lab-pc-07"
    manifest = hashlib.sha256((top / "manifest.json").read_bytes()).hexdigest()
    assert report["bundle_id"] == manifest[:16]
    assert (prefix / "conda-meta").is_dir() and (
        prefix / "share/tool/VERSION"
    ).read_text() == "1.0\n"

    second = run_bootstrap(offline_runner, top / "bootstrap.sh", target, *args)
    assert second.returncode == 0, second.stderr[-3000:]
    assert json.loads((target / "report.json").read_text())["result"] == "converged"
    # --force: every file hashed again and the verification run again, not cached.
    forced = run_bootstrap(offline_runner, top / "bootstrap.sh", target, *args, "--force")
    assert forced.returncode == 0, forced.stderr[-3000:]
    again = json.loads((target / "report.json").read_text())
    assert again["verify"]["passed"] is True and not again["verify"].get("cached")
