"""Code that runs on the target machine's own Python, not provision's.

The environment's interpreter may be as old as 3.7 (tensorflow-directml's) and has only
the standard library and the framework, so every module here keeps to that: no imports
of the rest of provisioner, no syntax or runtime typing newer than 3.7 (annotations are
never evaluated: each module starts with ``from __future__ import annotations``). One
lint target checks them so (ruff at py37, ``pyproject.toml``; mypy; and
``tests/bootstrap/test_target_modules.py`` runs them on a real 3.7).

- ``smoke/``: the training smoke test (``smoke_test.py``);
- ``fingerprint``, ``activation_files``, ``journal``: the prefix fingerprint, the
  activation writer and the state file, which ``provision apply`` imports as modules;
- ``bootstrap``: the bootstrap scripts' helper, which runs the three above.

``pack.py`` is the one packer (ansible's ``module_common`` to this ``module_utils``):
it makes each program of these modules for ``provision render`` and the smoke runner.
"""

from __future__ import annotations

# The programs, as the packer takes them: modules in program order.
SMOKE_MODULES = (
    "smoke.workload",
    "smoke.decisions",
    "smoke.plumbing",
    "smoke.frameworks",
    "smoke.stages",
)
SMOKE_PROVIDED = ("smoke.profile",)  # the script defines these names from the profile
BOOTSTRAP_MODULES = ("fingerprint", "activation_files", "journal", "bootstrap")
