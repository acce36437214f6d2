"""The smoke test's code, as real modules (linted, type-checked, unit-tested).

``provision render`` and the smoke runner pack ``smoke_test.py`` from these sources
(``target.SMOKE_MODULES``, by ``target/pack.py``; ``render/artifacts_smoke.py``):
each module's standard-library imports are hoisted to the top, imports between these
modules are dropped (the script is one namespace), and ``profile.py``'s names are
defined from the profile and the framework table instead. The rules of the
``provisioner.target`` package hold: Python 3.7 or newer, the standard library and the
framework only.
"""
