"""The verify step: the profile's smoke test in the environment's own Python.

When the smoke-test module (``provisioner.smoke``) is present it runs the real
training smoke test. Without it, verification is an import check of the framework
(``python -c "import torch"``), reported as ``kind: import`` so nobody mistakes it
for a training run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from provisioner.process import run
from provisioner.profile import ResolvedProfile

# The module each framework is imported as.
FRAMEWORK_MODULES: dict[str, str] = {
    "pytorch": "torch",
    "torch-directml": "torch_directml",
    "tensorflow": "tensorflow",
    "tensorflow-directml": "tensorflow",
    "tensorflow-directml-plugin": "tensorflow",
}


def verify_environment(
    resolved: ResolvedProfile, python: Path, kind: str = "smoke"
) -> dict[str, Any]:
    """Run the smoke test (or, with ``kind="import"``, the import check); a JSON-ready
    result with ``passed``, ``kind``, ``summary`` and the smoke test's summary ``lines``."""
    if kind == "import":
        return import_check(resolved, python)
    from provisioner.smoke import run_smoke

    env = dict(resolved.profile.environment.variables)
    result = run_smoke(resolved, python, extra_env=env or None)
    lines = [" ".join(line.split()) for line in result.summary_lines()[:2]]
    summary = "; ".join(x for x in lines if x) or ("passed" if result.passed else "failed")
    return {
        "kind": "smoke",
        "passed": bool(result.passed),
        "summary": summary,
        "lines": result.summary_lines(),
        "result": result.as_json(),
    }


def import_check(resolved: ResolvedProfile, python: Path) -> dict[str, Any]:
    """``import <framework>`` in the environment's Python, with the profile's variables."""
    import os

    module = FRAMEWORK_MODULES[resolved.profile.smoke_test.framework.value]
    env = {**os.environ, **resolved.profile.environment.variables}
    code = f"import {module}; print(getattr({module}, '__version__', '?'))"
    try:
        timeout = resolved.profile.smoke_test.timeout_s
        done = run([str(python), "-c", code], env=env, timeout=timeout, check=False)
    except OSError as e:
        return {"kind": "import", "passed": False, "summary": f"cannot run {python}: {e}"}
    if done.timed_out:
        summary = f"import {module} timed out after {timeout}s (smoke_test.timeout_s)"
        return {"kind": "import", "passed": False, "summary": summary}
    if done.returncode == 0:
        version = done.out.strip().splitlines()[-1] if done.out.strip() else "?"
        summary = f"import {module} ok ({version})"
        return {"kind": "import", "passed": True, "summary": summary}
    last = (done.tail(300).splitlines() or ["no output"])[-1]
    return {
        "kind": "import",
        "passed": False,
        "summary": f"import {module} failed: {last}",
        "output": done.tail(2000),
    }
