"""Plan and apply: converge a machine to a profile's exact, verified environment.

The steps (``steps.py``: checks, lock, environment, verify) each know how to check
and how to change; ``workflow.converge`` runs them for ``provision plan`` (checks
only) and ``provision apply``, holding the environment's lock (``guard.py``),
recording the journal in the state file (``state.py``) and writing the report
(``report.py``, ``junit.py``). See docs/apply.md.
"""
