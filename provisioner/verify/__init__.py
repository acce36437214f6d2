"""The one verify stage: prove that an environment works, and say so in one shape.

:func:`verify_environment` runs the profile's training smoke test (``provisioner.smoke``)
or, with ``kind="import"``, an import check of the framework (the module the framework
table names) in the environment's own Python, and returns a frozen
:class:`VerifyResult`. ``provision apply`` (its verify step), ``provision verify``, the
bundle (through apply) and the report all use it: :func:`verification` is the one
builder of the report's ``verify`` section, from a run's result or from the summary a
no-op apply finds in the state (``provisioner.state.VerifySummary``).
"""

from provisioner.verify.result import VerifyResult
from provisioner.verify.run import import_check, verify_environment
from provisioner.verify.section import verification

__all__ = ["VerifyResult", "import_check", "verification", "verify_environment"]
