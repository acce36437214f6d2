"""apply: the no-op re-apply (target under 1 s) against the interpreter start-up that
any run pays, and the venv install against a bare ``uv pip install`` / ``pip install``
of the same locked requirements, all measured in this run.

The no-op case is the README's main job, ``provision apply profiles/cpu.yaml`` (torch
CPU + numpy, real smoke test), converged once first. The install comparison uses a
small venv profile locked from this machine's local PyPI mirror (file:///opt/pypi/simple).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks._timing import report, time_call, time_command

PROFILE = """\
name: bench-apply
target: {os: linux}
environment:
  manager: venv
  name: bench-apply
  python: "%(py)s"
  index_url: file:///opt/pypi/simple
  pip: ["six==1.17.0", "iniconfig==2.3.0", "packaging==26.3", "idna==3.20", "attrs==26.1.0",
        "tabulate==0.10.0"]
smoke_test: {framework: pytorch, device: cpu, require_accelerator: false}
"""


def _provision(env: dict[str, str], *args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "provisioner", *args], env=env, check=True, capture_output=True
    )


def _uv() -> str:
    from provisioner.uvbin import uv_executable

    return uv_executable()


def _fresh_venv(root: Path, name: str) -> Path:
    prefix = root / name
    subprocess.run(
        [_uv(), "venv", "-q", "--python", sys.executable, str(prefix)],
        check=True,
        capture_output=True,
    )
    return prefix / "bin" / "python"


def main() -> None:
    py = f"{sys.version_info[0]}.{sys.version_info[1]}"
    with tempfile.TemporaryDirectory(prefix="bench-apply-") as tmp:
        root = Path(tmp)
        env = {**os.environ, "PROVISION_HOME": str(root / "home")}
        env.pop("PIP_NO_INDEX", None)
        cpu = Path(__file__).resolve().parent.parent / "profiles" / "cpu.yaml"
        start = time.perf_counter()
        _provision(env, "apply", str(cpu), "--quiet")
        first = time.perf_counter() - start
        print(f"bench_apply: first apply of profiles/cpu.yaml (lock, create, smoke) {first:.2f}s")

        noop = time_command(
            [sys.executable, "-m", "provisioner", "apply", str(cpu), "--quiet"], env=env
        )
        baseline = time_command([sys.executable, "-c", "pass"])
        version = time_command([sys.executable, "-m", "provisioner", "--version"], env=env)
        report("no-op re-apply", noop, baseline, "python -c pass", "< 1 s absolute")
        report("no-op re-apply", noop, version, "provision --version", "< 1 s absolute")
        print(f"no-op re-apply absolute: {noop:.3f}s ({'PASS' if noop < 1 else 'FAIL'} < 1 s)")

        # venv install: our pip part vs bare uv / pip of the same hash-pinned requirements.
        from provisioner.env.pip_part import install_pip_part, requirements_text
        from provisioner.lock.lockfile import read_lockfile

        small_env = {**env, "PIP_CONFIG_FILE": "/dev/null"}
        profile = root / "bench.yaml"
        profile.write_text(PROFILE % {"py": py})
        _provision(small_env, "lock", str(profile))
        lock = read_lockfile(profile.with_name("bench.conda-lock.yml"))
        pkgs = lock.for_platform("linux-64", "pip")
        req = root / "requirements.txt"
        req.write_text(requirements_text(pkgs))
        counter = iter(range(1000))

        def ours() -> None:
            install_pip_part(_fresh_venv(root, f"ours-{next(counter)}"), pkgs, quiet=True)

        def bare_uv() -> None:
            python = _fresh_venv(root, f"uv-{next(counter)}")
            subprocess.run(
                [
                    _uv(),
                    "pip",
                    "install",
                    "-q",
                    "--python",
                    str(python),
                    "--require-hashes",
                    "--no-deps",
                    "--compile-bytecode",
                    "-r",
                    str(req),
                ],
                check=True,
                capture_output=True,
            )

        def bare_pip() -> None:
            python = _fresh_venv(root, f"pip-{next(counter)}")
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pip",
                    "--python",
                    str(python),
                    "install",
                    "-q",
                    "--require-hashes",
                    "--no-deps",
                    "-r",
                    str(req),
                ],
                check=True,
                capture_output=True,
                env=small_env,
            )

        ours()  # warm the uv cache
        t_ours = time_call(ours, repeat=3)
        t_uv = time_call(bare_uv, repeat=3)
        t_pip = time_call(bare_pip, repeat=3)
        report("venv install (6 locked wheels)", t_ours, t_uv, "bare uv pip install", "<= 1.2x")
        report("venv install (6 locked wheels)", t_ours, t_pip, "bare pip install", "faster")


if __name__ == "__main__":
    main()
    if "rattler" in sys.modules:
        os._exit(0)
