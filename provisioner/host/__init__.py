"""Know the host: one probe (files under a root, commands on PATH) and typed facts.

Public API: :class:`~provisioner.host.probe.Probe` and
:func:`~provisioner.host.facts.gather` -> :class:`~provisioner.host.facts.HostFacts`.
"""
