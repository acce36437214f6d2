"""The one verify stage: prove that an environment works, and say so in one shape.

``run.verify_environment`` runs the profile's training smoke test (``provisioner.smoke``)
or, with ``kind="import"``, an import check of the framework (the module the framework
table names) in the environment's own Python, and returns a frozen
``result.VerifyResult``. ``provision apply`` (its verify step), ``provision verify``,
the bundle (through apply) and the report all use it: ``section.verification`` is the
one builder of the report's ``verify`` section, from a run's result or from the summary
a no-op apply finds in the state (``provisioner.state.VerifySummary``).

The modules are imported where they are used (this package imports none of them): a
no-op apply reads a recorded result and never loads the runner.
"""
