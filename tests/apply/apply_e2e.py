"""Support for plan/apply end-to-end tests: a real local conda channel, profiles
that use it, and ``python -m provisioner`` run as a child process (so tests can
SIGKILL it) with ``PROVISION_HOME`` in a temp folder.

Two conda packages in the channel are STAND-INS, because real CPython and PyTorch
conda packages cannot be downloaded here:

- ``python`` 3.11: a venv-style prefix layout (``pyvenv.cfg`` + ``bin/python``
  symlink) over the host's CPython 3.11, so the prefix's own site-packages is used
  and pip/uv install into the prefix exactly as with a real conda Python;
- ``pytorch``: a ``torch`` module with ``__version__`` only, enough for
  ``apply --verify import`` (the training smoke test needs the real thing and is
  run by the venv end-to-end tests).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.channels import PackageSpec
from tests.support.processes import as_foreground_job
from tests.support.profiles import profile_document, write_profile

REPO = Path(__file__).resolve().parents[2]
CRASHPOINTS = REPO / "tests" / "support" / "crashpoints"  # the test-only pause points
HOST_PYTHON = Path(sys.base_prefix) / "bin" / f"python{sys.version_info[0]}.{sys.version_info[1]}"
PY = f"{sys.version_info[0]}.{sys.version_info[1]}"


def stand_in_packages() -> list[PackageSpec]:
    site = f"lib/python{PY}/site-packages"
    return [
        PackageSpec(
            "python",
            f"{PY}.99",
            "0_standin",
            "linux-64",
            files={"pyvenv.cfg": f"home = {HOST_PYTHON.parent}\nversion = {PY}.99\n"},
            symlinks={"bin/python": str(HOST_PYTHON), f"bin/python{PY}": str(HOST_PYTHON)},
        ),
        # win-64 is only locked here, never installed: a placeholder interpreter.
        PackageSpec("python", f"{PY}.99", "0_standin", "win-64", files={"python.exe": "MZ\n"}),
        PackageSpec(
            "pytorch",
            "0.0.1",
            "standin_0",
            files={f"{site}/torch/__init__.py": '__version__ = "0.0.1+standin"\n'},
            depends=(f"python {PY}.*",),
        ),
    ]


def conda_profile(folder: Path, channel: Path, *, tool: str = "1.0", os_: str = "linux") -> Path:
    environment = {
        "manager": "conda",
        "name": "e2e-env",
        "channels": [channel.as_uri()],
        "python": PY,
        "conda": ["app", f"tool={tool}", "pytorch"],
    }
    return write_profile(folder / "e2e.yaml", profile_document("e2e", environment, os_=os_))


@dataclass
class Provision:
    """Runs ``python -m provisioner`` as a child with this test's PROVISION_HOME."""

    home: Path
    env: dict[str, str]
    started: list[subprocess.Popen[str]] = field(default_factory=list)

    def __call__(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "provisioner", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=REPO,
        )

    def start(self, *args: str, pause_at: str | None = None) -> subprocess.Popen[str]:
        env = dict(self.env)
        if pause_at:  # the pause points are a test-only sitecustomize (tests/support/crashpoints)
            env["PROVISION_TEST_PAUSE_AT"] = pause_at
            env["PYTHONPATH"] = os.pathsep.join(
                p for p in (str(CRASHPOINTS), env.get("PYTHONPATH", "")) if p
            )
        child = subprocess.Popen(
            [sys.executable, "-m", "provisioner", *args],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=REPO,
            start_new_session=True,
            preexec_fn=as_foreground_job,  # Ctrl-C tests: SIGINT at its default
        )
        self.started.append(child)
        return child

    def close(self) -> None:
        """SIGKILL what :meth:`start` started and its children, if still running: a test
        that failed while a child waited at a pause point leaves nothing behind."""
        from tests.support.processes import kill_tree

        while self.started:
            child = self.started.pop()
            if child.poll() is None:
                kill_tree(child)
            for stream in (child.stdout, child.stderr):
                if stream is not None:
                    stream.close()

    @property
    def prefix(self) -> Path:
        return self.home / "envs" / "e2e-env"

    def state(self, env: str = "e2e-env") -> dict[str, object] | None:
        import json

        path = self.home / "state" / f"{env}.json"
        return json.loads(path.read_text()) if path.exists() else None

    def reports(self) -> list[Path]:
        return sorted((self.home / "reports").glob("*.json"))


def make_provision(tmp_path: Path) -> Provision:
    home = tmp_path / "home"
    env = dict(os.environ)
    env["PROVISION_HOME"] = str(home)
    env.pop("PROVISION_ENVS_DIR", None)
    env["PYTHONPATH"] = str(REPO)
    return Provision(home, env)


def wait_for_pause(proc: subprocess.Popen[str], point: str, timeout: float = 300) -> None:
    """Read the child's stderr until it announces the pause point."""
    assert proc.stderr is not None
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line and proc.poll() is not None:
            break
        seen.append(line)
        if f"paused at {point}" in line:
            return
    raise AssertionError(f"child never paused at {point}: {''.join(seen)[-2000:]}")


def conda_meta_mtimes(prefix: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in (prefix / "conda-meta").glob("*.json")}
