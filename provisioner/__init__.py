"""provisioner: turn a YAML profile into a working, verified GPU ML machine.

The distribution is ``provisioner-gpu`` (``pip install provisioner-gpu``); the import
package is ``provisioner`` and the command ``provision``. The PyPI names
``provisioner`` and ``provision`` belong to unrelated projects: never install them.
"""

__version__ = "0.1.0"
# The name this project is installed under (pyproject.toml's [project] name).
DISTRIBUTION = "provisioner-gpu"
