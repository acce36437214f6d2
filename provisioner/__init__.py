"""provisioner: turn a YAML profile into a working, verified GPU ML machine.

The distribution is ``provisioner-gpu`` (``pip install provisioner-gpu``); the import
package is ``provisioner`` and the command ``provision``. The PyPI names
``provisioner`` and ``provision`` belong to unrelated projects: never install them.
"""

# The one place the version is written: the build reads it (pyproject.toml's
# [tool.setuptools.dynamic]), the CLI prints it; CHANGELOG.md says what each one changed.
__version__ = "0.1.0"
# The name this project is installed under (pyproject.toml's [project] name).
DISTRIBUTION = "provisioner-gpu"
