"""provisioner: turn a YAML profile into a working, verified GPU ML machine."""

__version__ = "0.1.0"
