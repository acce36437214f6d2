"""Run the smoke test as a child process in the provisioned environment.

The child is the environment's own Python (``-I``: isolated from this tool's
``PYTHONPATH`` and user site; ``-u``: unbuffered, so a crash loses no log). It runs
under the profile's timeout through :func:`provisioner.process.run`, which kills the
whole process group, so a hung GPU kernel never hangs us.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from provisioner import __version__, process
from provisioner.profile import ResolvedProfile
from provisioner.smoke.diagnosis import decide, findings_in
from provisioner.smoke.result import SmokeResult, fields_from_script

LOG_TAIL_CHARS = 4000
# Inherited variables that would point the environment's Python at this tool's packages.
DROPPED_VARIABLES = (
    "PYTHONPATH",
    "PYTHONHOME",
    "PYTHONSTARTUP",
    "VIRTUAL_ENV",
    "__PYVENV_LAUNCHER__",
)


def child_environment(
    resolved: ResolvedProfile, extra_env: Mapping[str, str] | None
) -> dict[str, str]:
    """The process environment plus the profile's variables plus ``extra_env``."""
    env = {k: v for k, v in os.environ.items() if k not in DROPPED_VARIABLES}
    env.update(resolved.profile.environment.variables)
    env.update(extra_env or {})
    env["PYTHONIOENCODING"] = "utf-8"
    return env


def render_script(resolved: ResolvedProfile, folder: Path) -> Path:
    """Render ``smoke_test.py`` for this profile into ``folder``."""
    from provisioner.smoke.script import smoke_script_text

    path = folder / "smoke_test.py"
    path.write_text(smoke_script_text(resolved, __version__), encoding="utf-8")
    return path


def read_script_result(path: Path) -> dict[str, Any] | None:
    """The script's JSON result, or None when it wrote none (a crash) or garbage."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def read_captured_stderr(out: Path) -> str:
    """The stderr copy the script keeps on disk next to its result (``.stderr``)."""
    try:
        return out.with_name(out.name + ".stderr").read_text("utf-8", "replace")
    except OSError:
        return ""


def join_log(stdout: str, stderr: str, captured: str) -> str:
    """stdout, stderr, then the captured lines stderr lacks: a process killed by a
    signal can die before its last stderr lines were passed on."""
    parts = [stdout.rstrip("\n"), stderr.rstrip("\n")]
    seen = set(stderr.splitlines())
    lost = [line for line in captured.splitlines() if line not in seen]
    if lost:
        parts.append("\n".join(lost))
    return "\n".join(p for p in parts if p) + "\n"


def run_smoke(
    resolved: ResolvedProfile,
    python: Path,
    *,
    extra_env: Mapping[str, str] | None = None,
    script: Path | None = None,
    timeout_s: float | None = None,
) -> SmokeResult:
    """Run the smoke test with ``python`` and judge it; never raises for a failed run.

    ``script`` defaults to a freshly rendered ``smoke_test.py``; ``timeout_s`` to the
    profile's ``smoke_test.timeout_s``.
    """
    smoke = resolved.profile.smoke_test
    timeout = float(timeout_s if timeout_s is not None else smoke.timeout_s)
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="provision-smoke-") as tmp:
        folder = Path(tmp)
        script_path = script if script is not None else render_script(resolved, folder)
        out = folder / "result.json"
        # Absolute, not resolved: the child runs in the temp folder, and a venv's
        # bin/python is a symlink that must stay the venv's own path.
        argv = [os.path.abspath(python), "-I", "-u", os.path.abspath(script_path)]
        argv += ["--json-out", str(out)]
        try:
            done = process.run(
                argv,
                timeout=timeout,
                env=child_environment(resolved, extra_env),
                cwd=folder,
                check=False,
            )
        except OSError as e:
            return _not_started(resolved, python, e, time.monotonic() - start)
        data = read_script_result(out)
        captured = read_captured_stderr(out) if data is None or done.timed_out else ""
    log = join_log(done.out, done.err, captured)
    findings = findings_in(log, resolved.profile.target.os.value)
    verdict = decide(
        script=data,
        returncode=done.returncode,
        timed_out=done.timed_out,
        timeout_s=timeout,
        findings=findings,
    )
    fields = fields_from_script(data or {})
    warnings = tuple((data or {}).get("warnings") or ())
    return SmokeResult(
        profile=resolved.profile.name,
        framework=smoke.framework.value,
        verdict=verdict.verdict,
        reason=verdict.reason,
        duration_s=round(time.monotonic() - start, 3),
        device_requested=str((data or {}).get("device_requested") or smoke.device.value),
        require_accelerator=bool(
            (data or {}).get("require_accelerator", smoke.require_accelerator)
        ),
        warnings=tuple(str(w) for w in warnings) + verdict.warnings,
        diagnosis=findings,
        returncode=done.returncode,
        timed_out=done.timed_out,
        log_tail=log.strip()[-LOG_TAIL_CHARS:],
        log=log,
        **fields,
    )


def _not_started(
    resolved: ResolvedProfile, python: Path, error: OSError, duration: float
) -> SmokeResult:
    smoke = resolved.profile.smoke_test
    return SmokeResult(
        profile=resolved.profile.name,
        framework=smoke.framework.value,
        verdict="fail",
        reason=f"cannot run {python}: {error.strerror or error}",
        duration_s=round(duration, 3),
        device_requested=smoke.device.value,
        require_accelerator=smoke.require_accelerator,
    )
