"""The training smoke test: run it in the provisioned environment and judge it.

Public API: :func:`run_smoke` (used by ``provision verify`` and as ``apply``'s last
step) and :class:`SmokeResult` (``.passed``, ``.as_json()``, ``.summary_lines()``).
The script itself is packed from the modules of ``target/smoke/`` and
``templates/smoke_test.py.j2`` (smoke/script.py).
"""

from provisioner.smoke.result import Finding, SmokeResult, Stage
from provisioner.smoke.runner import run_smoke

__all__ = ["Finding", "SmokeResult", "Stage", "run_smoke"]
