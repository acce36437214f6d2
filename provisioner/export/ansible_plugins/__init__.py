"""The Python files an exported playbook hands to Ansible: the ``provision_fleet``
callback (controller side) and the ``provision`` module (host side). They are real
modules here, linted and type-checked with the package; ``provision export ansible``
writes their source with the export's own values in place of the lines marked
``# set by export`` (:func:`provisioner.export.ansible.plugin_source`)."""
