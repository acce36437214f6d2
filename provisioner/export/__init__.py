"""Exports: the profile's environment as input to other tools that drive machines.

``provisioner.export.ansible`` writes an Ansible playbook and role that push the
profile's offline bundle to every host of an inventory and converge it there.
"""
