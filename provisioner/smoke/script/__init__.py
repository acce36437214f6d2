"""The smoke test's code, as real modules (linted, type-checked, unit-tested).

``provision render`` assembles ``smoke_test.py`` from these sources in ``MODULES``
order (``smoke/pack.py``): each module's standard-library imports are
hoisted to the top, imports between these modules are dropped (the script is one
namespace), and ``profile.py``'s defaults are replaced by the profile's values. So
the code here must run on the environment's Python 3.7 or newer with only the
standard library and the framework: no provisioner imports at run time, no syntax
or runtime typing newer than 3.7 (annotations are never evaluated: every module and
the script start with ``from __future__ import annotations``).
"""

# The order the sources appear in the script: a module only uses names of the ones
# before it at import time (functions may use later names when they are called).
MODULES = ("workload", "decisions", "plumbing", "frameworks", "stages")
