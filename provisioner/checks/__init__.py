"""Host checks as data: records (``data/checks.yaml``), planning for a profile, judging.

Public API: :func:`~provisioner.checks.records.load_checks`,
:func:`~provisioner.checks.plan.plan_checks` :func:`~provisioner.checks.judge.judge`, and
:func:`~provisioner.checks.doctor.diagnose`, which runs them for a host (``doctor``).
"""
