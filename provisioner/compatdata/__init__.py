"""Compatibility data from the sources: the frameworks' own PyPI metadata and NVIDIA's
tables.

- :mod:`.pypi` reads PyPI into a raw snapshot (network; ``invoke refresh-compat``);
- :mod:`.generate` turns the snapshot into ``data/compat_pypi.json`` (pure; CI checks
  the committed file is what the committed snapshot generates);
- :mod:`.releases` is the typed view the rules, the lock and ``explain`` read;
- :mod:`.nvidia` reads NVIDIA's tables (CUDA -> driver floor, GPU architectures).
"""
