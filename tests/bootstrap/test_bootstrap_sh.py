"""bootstrap.sh: shellcheck-clean, and executed for real on the venv path (real venv,
real pip --require-hashes from the local mirror); the conda path against a stand-in
micromamba that records its arguments."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from provisioner.render.artifacts_bootstrap import NO_LOCK_MESSAGE
from provisioner.report.model import parse_report
from tests.bootstrap.bootstrap_e2e import STUB_SMOKE_TEST, Renderer, small_profile
from tests.support import machine

SHELLCHECK = Path(sys.executable).with_name("shellcheck")


def run_bootstrap(
    folder: Path, env: dict[str, str], *args: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(folder / "bootstrap.sh"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def reports(env: dict[str, str]) -> list[dict[str, Any]]:
    folder = Path(env["PROVISION_HOME"]) / "reports"
    return [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))]


def test_shellcheck_clean(render: Renderer, tmp_path: Path) -> None:
    folder = render(small_profile(tmp_path / "p"))
    done = subprocess.run(
        [str(SHELLCHECK), "-S", "style", str(folder / "bootstrap.sh")],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout


def test_no_lockfile_exits_2_with_the_fix(
    render: Renderer, tmp_path: Path, bootstrap_env: dict[str, str]
) -> None:
    folder = render(small_profile(tmp_path / "p"), lock=False)
    assert not (folder / "conda-lock.yml").exists()
    done = run_bootstrap(folder, bootstrap_env, "--skip-checks")
    assert done.returncode == 2
    assert NO_LOCK_MESSAGE in done.stderr


def test_an_unusable_report_path_exits_2_before_any_work(
    render: Renderer, tmp_path: Path, bootstrap_env: dict[str, str]
) -> None:
    folder = render(small_profile(tmp_path / "p"))
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    prefix = tmp_path / "env"
    for report, cause in (
        (a_file / "r.json", f"{a_file} is not a folder you can write to"),
        (tmp_path, "is a folder (fix: name a file)"),
    ):
        done = run_bootstrap(
            folder, bootstrap_env, "--prefix", str(prefix), "--report", str(report)
        )
        assert done.returncode == 2, done.stderr
        assert cause in done.stderr and done.stderr.count("error:") == 1
        assert not prefix.exists()  # nothing was built or checked first


def test_lock_changed_since_render_exits_2(
    render: Renderer, tmp_path: Path, bootstrap_env: dict[str, str]
) -> None:
    folder = render(small_profile(tmp_path / "p"))
    with open(folder / "conda-lock.yml", "a") as f:
        f.write("# edited\n")
    done = run_bootstrap(folder, bootstrap_env, "--skip-checks")
    assert done.returncode == 2
    assert "changed since this script was rendered" in done.stderr


def test_venv_path_for_real_then_idempotent(
    render: Renderer, tmp_path: Path, bootstrap_env: dict[str, str]
) -> None:
    folder = render(small_profile(tmp_path / "p"))
    (folder / "smoke_test.py").write_text(STUB_SMOKE_TEST)  # STUB: no framework in this env
    prefix = Path(bootstrap_env["PROVISION_HOME"]) / "envs" / "small-env"

    dry = run_bootstrap(folder, bootstrap_env, "--skip-checks", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "would create" in dry.stdout
    assert not prefix.exists() and not (Path(bootstrap_env["PROVISION_HOME"]) / "reports").exists()

    first = run_bootstrap(folder, bootstrap_env, "--skip-checks")
    assert first.returncode == 0, first.stdout + first.stderr
    assert "Successfully installed" in first.stdout  # real pip output
    site = next(prefix.glob("lib/python3.11/site-packages"))
    assert (site / "six.py").is_file() and (site / "iniconfig").is_dir()
    assert (prefix / ".provision-bootstrap").read_text().strip() == _lock_sha(folder)
    (report,) = reports(bootstrap_env)
    assert report["schema"] == "provision-report/2" and report["result"] == "changed"
    assert report["exit_code"] == 0
    assert {p["name"] for p in report["packages"]} == {"six", "iniconfig"}
    assert report["verify"] == {
        "kind": "smoke",
        "passed": True,
        "summary": "smoke test passed",
        "result": {  # the stub's own JSON
            "passed": True,
            "stub": True,
            "six": "1.17.0",
            "device_used": "cpu",
            "steps_per_s": 5.0,
        },
    }
    typed = parse_report(report)  # the reader accepts what bootstrap.sh wrote
    assert typed.verified and typed.host.name == typed.host.hostname
    assert [s["status"] for s in report["steps"]] == ["skipped", "change", "change"]

    stamp_mtime = (prefix / ".provision-bootstrap").stat().st_mtime_ns
    second = run_bootstrap(folder, bootstrap_env, "--skip-checks")
    assert second.returncode == 0, second.stderr
    assert "matches the lock" in second.stdout and "Successfully installed" not in second.stdout
    assert (prefix / ".provision-bootstrap").stat().st_mtime_ns == stamp_mtime
    assert reports(bootstrap_env)[-1]["result"] == "converged"

    # No-op runs do not pile reports up: the latest plus PROVISION_REPORT_HISTORY files,
    # pruned together with provision's own; the host is named as the fleet knows it.
    home = Path(bootstrap_env["PROVISION_HOME"])
    (home / "reports" / "small-env-20200101T000000000000Z.json").write_text("{}")  # older layout
    env = {**bootstrap_env, "PROVISION_REPORT_HISTORY": "2", "PROVISION_HOST_NAME": "lab-04"}
    for _ in range(3):
        assert run_bootstrap(folder, env, "--skip-checks").returncode == 0
    assert [p.name for p in (home / "reports").glob("*.json")] == ["small-env.json"]
    history = sorted(p.name for p in (home / "reports" / "history").iterdir())
    assert len(history) == 2 and all(n.endswith("Z-bootstrap.json") for n in history)
    latest = parse_report(reports(bootstrap_env)[-1])
    assert latest.host.name == "lab-04" and latest.host.hostname != "lab-04"
    assert latest.verified and latest.verify is not None and latest.verify.cached
    assert run_bootstrap(folder, env, "--skip-checks", "--host-name", "lab-05").returncode == 0
    assert parse_report(reports(bootstrap_env)[-1]).host.name == "lab-05"


def test_bootstrap_and_apply_share_the_state_marker(
    render: Renderer,
    tmp_path: Path,
    bootstrap_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from provisioner.state import read_state
    from provisioner.target.fingerprint import env_fingerprint

    profile = small_profile(tmp_path / "p")
    folder = render(profile)
    (folder / "smoke_test.py").write_text(STUB_SMOKE_TEST)  # STUB: no framework in this env
    home = Path(bootstrap_env["PROVISION_HOME"])
    prefix = home / "envs" / "small-env"
    first = run_bootstrap(folder, bootstrap_env, "--skip-checks")
    assert first.returncode == 0, first.stdout + first.stderr
    # apply's own reader and fingerprint accept what the script recorded
    monkeypatch.setenv("PROVISION_HOME", str(home))
    state = read_state("small-env")
    assert state is not None and state.phase == "verified" and state.verification is not None
    assert state.verification.kind == "smoke" and state.verification.verified_at
    # what the smoke test measured is recorded, for apply's no-op report
    assert (state.verification.device_used, state.verification.steps_per_s) == ("cpu", 5.0)
    assert state.prefix == str(prefix) and state.lock_sha256 == _lock_sha(folder)
    assert state.fingerprint == env_fingerprint(prefix)
    six_inode = next(prefix.glob("lib/python3.11/site-packages/six.py")).stat().st_ino
    # apply on the same lock and prefix recognises the environment: nothing to rebuild
    env = {**bootstrap_env, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    env.pop("PIP_NO_INDEX", None)
    argv = [sys.executable, "-m", "provisioner", "apply", "--json", "--skip-checks", str(profile)]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    report = json.loads(done.stdout)
    steps = {s["name"]: s for s in report["steps"]}
    # No change at all: the script wrote the activation scripts as apply does, so
    # nothing is reinstalled, rewritten or verified again.
    assert report["result"] == "converged", steps
    assert {n: s["status"] for n, s in steps.items()} == {
        "checks": "skipped",
        "lock": "ok",
        "environment": "ok",
        "verify": "ok",
    }
    assert report["verify"]["cached"] is True
    assert report["verify"]["result"]["device_used"] == "cpu"  # from the state, not a report
    site = next(prefix.glob("lib/python3.11/site-packages"))
    assert (site / "six.py").stat().st_ino == six_inode
    # and the script recognises a prefix recorded in that state without its own stamp
    (prefix / ".provision-bootstrap").unlink()
    again = run_bootstrap(folder, bootstrap_env, "--skip-checks")
    assert again.returncode == 0, again.stderr
    assert "matches the lock (state recorded by provision)" in again.stdout
    assert "Successfully installed" not in again.stdout


def test_tampered_wheel_is_refused(
    render: Renderer, tmp_path: Path, bootstrap_env: dict[str, str]
) -> None:
    profile = small_profile(tmp_path / "p")
    folder = render(profile)
    lock_text = (folder / "conda-lock.yml").read_text()
    urls = [ln.split("url: ", 1)[1] for ln in lock_text.splitlines() if "url: " in ln]
    six_url = next(u for u in urls if "six-1.17.0" in u)
    fake = tmp_path / "mirror" / Path(six_url).name
    fake.parent.mkdir()
    shutil.copy(six_url.removeprefix("file://"), fake)
    with open(fake, "ab") as f:
        f.write(b"\0")  # changed bytes at a URL the lock points to
    (profile.parent / f"{profile.stem}.conda-lock.yml").write_text(
        lock_text.replace(six_url, fake.as_uri())
    )
    folder = render(profile, lock=False, out=tmp_path / "tampered")
    (folder / "smoke_test.py").write_text(STUB_SMOKE_TEST)
    done = run_bootstrap(folder, bootstrap_env, "--skip-checks")
    assert done.returncode == 1
    # Refused by the script's own hash check, before pip (or a venv) was started.
    assert "hash mismatch: wheel six-1.17.0-py2.py3-none-any.whl" in done.stderr
    assert "Successfully installed" not in done.stdout
    prefix = Path(bootstrap_env["PROVISION_HOME"]) / "envs" / "small-env"
    assert not list(prefix.glob("lib/python3.11/site-packages/six*"))
    assert not (prefix / ".provision-bootstrap").exists()
    assert reports(bootstrap_env)[-1]["result"] == "failed"


def test_runs_the_check_script_first(
    render: Renderer, tmp_path: Path, bootstrap_env: dict[str, str]
) -> None:
    folder = render(small_profile(tmp_path / "p"))
    assert (folder / "check.sh").is_file()  # always rendered: bootstrap.sh refuses without it
    (folder / "smoke_test.py").write_text(STUB_SMOKE_TEST)
    done = run_bootstrap(folder, bootstrap_env)
    report = reports(bootstrap_env)[-1]
    assert report["steps"][0]["name"] == "checks"
    ran = subprocess.run(
        ["bash", str(folder / "check.sh"), "--json"],
        env=bootstrap_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    expected = json.loads(ran.stdout)
    assert expected["checks"], ran.stderr
    # The report carries check.sh's own verdicts, check by check, not just ready/not ready.
    assert report["checks"] == expected
    assert (done.returncode == 0) == (ran.returncode == 0) == expected["ready"]


STAND_IN_MICROMAMBA = """#!{python}
# STAND-IN micromamba (micromamba cannot be obtained here): records its arguments and
# the explicit file, then does what `micromamba create -p PREFIX --file EXPLICIT` does
# with py-rattler (the library pixi installs with): each archive's own info/index.json
# becomes its record, one transaction links them all (conda-meta with paths_data), and
# the prefix's python is the host's interpreter (the demo channel has no python).
import asyncio, hashlib, json, os, shutil, sys, tarfile, tempfile
from pathlib import Path
from urllib.parse import unquote, urlparse
import rattler

args = sys.argv[1:]
Path(os.environ["MICROMAMBA_ARGS"]).write_text("".join(a + "\\n" for a in args))
prefix = Path(args[args.index("-p") + 1])
explicit = Path(args[args.index("--file") + 1])
shutil.copy(explicit, os.environ["MICROMAMBA_ARGS"] + ".explicit")
records = []
for line in explicit.read_text().splitlines():
    if not line or line.startswith(("@", "#")):
        continue
    url = line.split("#", 1)[0]
    archive = Path(unquote(urlparse(url).path))
    with tarfile.open(archive) as tar:
        index = json.load(tar.extractfile("info/index.json"))
    data = archive.read_bytes()
    record = rattler.PackageRecord(
        name=index["name"], version=index["version"], build=rattler.BuildString(index["build"]),
        build_number=index.get("build_number", 0), subdir=index["subdir"],
        noarch=index.get("noarch"), depends=index.get("depends", []),
        sha256=hashlib.sha256(data).digest(), md5=hashlib.md5(data).digest(), size=len(data),
    )
    records.append(rattler.RepoDataRecord(record, archive.name, url, url.rsplit("/", 1)[0] + "/"))
with tempfile.TemporaryDirectory() as cache:
    asyncio.run(rattler.install(records, target_prefix=prefix, cache_dir=Path(cache),
                                execute_link_scripts=False, show_progress=False))
(prefix / "bin").mkdir(exist_ok=True)
if not (prefix / "bin" / "python").exists():
    os.symlink(sys.executable, prefix / "bin" / "python")
"""


def test_conda_path_with_stand_in_micromamba(
    render: Renderer, tmp_path: Path, bootstrap_env: dict[str, str]
) -> None:
    from tests.channels import build_channel, demo_packages

    channel = build_channel(tmp_path / "chan", demo_packages())
    profile = tmp_path / "p" / "condaenv.yaml"
    profile.parent.mkdir()
    profile.write_text(
        "name: condaenv\ntarget: {os: linux}\nenvironment:\n  name: conda-env\n"
        f"  channels: ['{channel.as_uri()}']\n  python: '3.11'\n  conda: [app, tool=1.0]\n"
        "smoke_test: {framework: pytorch, device: cpu, require_accelerator: false}\n"
    )
    folder = render(profile)
    (folder / "smoke_test.py").write_text(
        '"""STUB smoke test: no framework in this stand-in env."""\nimport sys, json\n'
        'json.dump({"passed": True, "stub": True}, open(sys.argv[2], "w"))\n'
    )
    bindir = tmp_path / "bin"
    bindir.mkdir()
    mm = bindir / "micromamba"
    mm.write_text(STAND_IN_MICROMAMBA.format(python=sys.executable))
    mm.chmod(0o755)
    env = {
        **bootstrap_env,
        "PATH": f"{bindir}:{bootstrap_env['PATH']}",
        "MICROMAMBA_ARGS": str(tmp_path / "args"),
    }
    done = run_bootstrap(folder, env, "--skip-checks")
    assert done.returncode == 0, done.stdout + done.stderr
    prefix = Path(env["PROVISION_HOME"]) / "envs" / "conda-env"
    args = (tmp_path / "args").read_text().split("\n")
    assert args[:4] == ["create", "-y", "-p", str(prefix)]
    assert args[4] == "--file"
    explicit = (tmp_path / "args.explicit").read_text().splitlines()
    assert explicit[0] == "@EXPLICIT"
    names = sorted(Path(u.split("#")[0]).name for u in explicit[1:])
    assert names == [
        "app-1.0-0.tar.bz2",
        "libcore-1.2-h1_0.tar.bz2",
        "liblinux-3.0-h0_0.tar.bz2",
        "tool-1.0-0.tar.bz2",
    ]
    assert all(len(u.split("#")[1]) == 32 for u in explicit[1:])  # url#md5

    (tmp_path / "args").unlink()
    again = run_bootstrap(folder, env, "--skip-checks")
    assert again.returncode == 0 and not (tmp_path / "args").exists()  # not called again

    explicit_exe = run_bootstrap(
        folder,
        {**env, "PATH": bootstrap_env["PATH"]},
        "--skip-checks",
        "--prefix",
        str(tmp_path / "other"),
        "--conda-exe",
        str(mm),
    )
    assert explicit_exe.returncode == 0, explicit_exe.stderr
    none_found = run_bootstrap(
        folder,
        {**env, "PATH": "/usr/bin:/bin"},
        "--skip-checks",
        "--prefix",
        str(tmp_path / "third"),
    )
    assert none_found.returncode == 1
    assert "no micromamba, mamba or conda found" in none_found.stderr


def test_a_tampered_conda_artifact_stops_before_any_installer_runs(
    render: Renderer, tmp_path: Path, bootstrap_env: dict[str, str]
) -> None:
    from tests.channels import build_channel, demo_packages, tamper

    specs = demo_packages()
    channel = build_channel(tmp_path / "chan", specs)
    profile = tmp_path / "p" / "condaenv.yaml"
    profile.parent.mkdir()
    profile.write_text(
        "name: condaenv\ntarget: {os: linux}\nenvironment:\n  name: conda-env\n"
        f"  channels: ['{channel.as_uri()}']\n  python: '3.11'\n  conda: [app, tool=1.0]\n"
        "smoke_test: {framework: pytorch, device: cpu, require_accelerator: false}\n"
    )
    folder = render(profile)
    tamper(channel, next(s for s in specs if s.name == "tool" and s.version == "1.0"))
    bindir = tmp_path / "bin"
    bindir.mkdir()
    mm = bindir / "micromamba"  # stand-in installer: records whether it was called
    mm.write_text(STAND_IN_MICROMAMBA.format(python=sys.executable))
    mm.chmod(0o755)
    calls = tmp_path / "args"
    env = {
        **bootstrap_env,
        "PATH": f"{bindir}:{bootstrap_env['PATH']}",
        "MICROMAMBA_ARGS": str(calls),
    }
    done = run_bootstrap(folder, env, "--skip-checks")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "hash mismatch: conda package tool-1.0-0.tar.bz2" in done.stderr
    assert "refused, nothing installed" in done.stderr
    assert not calls.exists()  # micromamba never ran
    assert not (Path(env["PROVISION_HOME"]) / "envs" / "conda-env").exists()
    assert reports(bootstrap_env)[-1]["result"] == "failed"


def _lock_sha(folder: Path) -> str:
    import hashlib

    return hashlib.sha256((folder / "conda-lock.yml").read_bytes()).hexdigest()


@pytest.mark.slow
def test_cpu_profile_with_the_real_smoke_test(
    render: Renderer, tmp_path: Path, bootstrap_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The shipped cpu profile, locked from this machine's pip sources (its local CPU torch
    # wheel), bootstrapped with pip and trained by the rendered smoke_test.py.
    machine.cpu_profile_offline()
    monkeypatch.setenv("PIP_CONFIG_FILE", str(machine.pip_config_file(tmp_path / "pip")))
    profile = tmp_path / "p" / "cpu.yaml"
    profile.parent.mkdir()
    shutil.copy(Path(__file__).resolve().parents[2] / "profiles" / "cpu.yaml", profile)
    folder = render(profile)
    done = run_bootstrap(folder, bootstrap_env)
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    report = reports(bootstrap_env)[-1]
    assert report["result"] == "changed"
    assert report["checks"] is not None
    verify = report["verify"]
    assert isinstance(verify, dict) and verify["passed"] is True, verify
    assert verify["result"]["verdict"] == "pass" and verify["summary"] == "smoke test passed"
    typed = parse_report(report)  # the real smoke test's record, read by provision report
    assert typed.verified and typed.verify is not None and typed.verify.result is not None
    assert typed.verify.result.device_used == "cpu" and typed.verify.result.steps_per_s
    again = run_bootstrap(folder, bootstrap_env)
    assert again.returncode == 0 and reports(bootstrap_env)[-1]["result"] == "converged"
    assert parse_report(reports(bootstrap_env)[-1]).verified  # cached by the stamp
