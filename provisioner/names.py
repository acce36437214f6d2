"""Distribution names as PEP 503 normalizes them, without importing packaging.

``packaging.utils`` costs ~5 ms to import (it brings ``packaging.tags``), which every
apply would pay to compare the pip names of a profile; the normalization itself is the
one rule PEP 503 states (https://peps.python.org/pep-0503/#normalized-names).
``tests/test_names.py`` checks it against packaging's ``canonicalize_name``. Standard
library only: the bundle's bootstrap runs it on a bare host Python
(:mod:`provisioner.bundle.toolcheck`, through :mod:`provisioner.env.dist_info`).
"""

from __future__ import annotations

import re

_SEPARATORS = re.compile(r"[-_.]+")


def canonicalize_name(name: str) -> str:
    """``Foo.Bar_baz`` -> ``foo-bar-baz``: runs of ``-``, ``_`` and ``.`` become one
    ``-``, and the name is lowercased."""
    return _SEPARATORS.sub("-", name).lower()
