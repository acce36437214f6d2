"""Run the verify stage: the profile's smoke test, or an import check of its framework,
in the environment's own Python."""

from __future__ import annotations

import os
import time
from pathlib import Path

from provisioner.frameworks import FRAMEWORKS
from provisioner.profile import ResolvedProfile
from provisioner.verify.result import VerifyResult


def verify_environment(
    resolved: ResolvedProfile, python: Path, kind: str = "smoke"
) -> VerifyResult:
    """The smoke test (or, with ``kind="import"``, the import check) with ``python`` and
    the profile's variables; never raises for a failed run."""
    if kind == "import":
        return import_check(resolved, python)
    from provisioner.smoke import run_smoke

    start = time.monotonic()
    env = dict(resolved.profile.environment.variables)
    result = run_smoke(resolved, python, extra_env=env or None)
    lines = tuple(result.summary_lines())
    head = [" ".join(line.split()) for line in lines[:2]]
    summary = "; ".join(x for x in head if x) or ("passed" if result.passed else "failed")
    return VerifyResult("smoke", result.passed, summary, lines, smoke=result).with_duration(
        time.monotonic() - start
    )


def import_check(resolved: ResolvedProfile, python: Path) -> VerifyResult:
    """``import <framework>`` in the environment's Python, with the profile's variables
    (the module the framework table names: ``provisioner/frameworks.py``)."""
    from provisioner.process import run

    start = time.monotonic()
    module = FRAMEWORKS[resolved.profile.smoke_test.framework].module
    env = {**os.environ, **resolved.profile.environment.variables}
    code = f"import {module}; print(getattr({module}, '__version__', '?'))"
    timeout = resolved.profile.smoke_test.timeout_s
    try:
        done = run([str(python), "-c", code], env=env, timeout=timeout, check=False)
    except OSError as e:
        return VerifyResult("import", False, f"cannot run {python}: {e}")
    seconds = time.monotonic() - start
    if done.timed_out:
        summary = f"import {module} timed out after {timeout}s (smoke_test.timeout_s)"
        return VerifyResult("import", False, summary).with_duration(seconds)
    if done.returncode == 0:
        version = done.out.strip().splitlines()[-1] if done.out.strip() else "?"
        return VerifyResult("import", True, f"import {module} ok ({version})").with_duration(
            seconds
        )
    last = (done.tail(300).splitlines() or ["no output"])[-1]
    summary = f"import {module} failed: {last}"
    return VerifyResult("import", False, summary, output=done.tail(2000)).with_duration(seconds)
