"""What a lock depends on: the profile fields the solve reads, and nothing else.

A lock is fresh while these inputs are unchanged; editing ``description``,
``smoke_test`` or ``environment.variables`` leaves it fresh. Each input is hashed on
its own and the digests are stored in the lockfile (``metadata.custom_metadata``),
so ``provision lock --check`` can name what changed. The list is documented in
``docs/lock.md``; keep the two in step.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from provisioner.platforms import target_platforms
from provisioner.profile import Manager, ResolvedProfile

# Written in the lockfile's metadata.custom_metadata.
INPUTS_HASH_KEY = "provision_inputs_hash"
INPUT_KEY_PREFIX = "provision_input:"


def lock_inputs(resolved: ResolvedProfile) -> dict[str, Any]:
    """Every input of the solve by its profile path (``virtual_packages`` is derived from
    ``requires`` and the target; a venv has no conda solve, so it has none)."""
    p = resolved.profile
    env = p.environment
    conda = env.manager is Manager.conda
    virtual: dict[str, list[list[str]]] = {}
    if conda:  # the solver module (asyncio) only when there is a conda solve
        from provisioner.lock.conda import virtual_package_specs

        for platform in target_platforms(p.target):
            virtual[platform] = [list(s) for s in virtual_package_specs(resolved, platform)]
    derived: dict[str, Any] = {}
    if env.package_indexes:  # inputs that are new are there only when set: older locks
        derived["environment.package_indexes"] = dict(sorted(env.package_indexes.items()))
    if constraints := lock_constraints(resolved):  # ... stay fresh
        derived["constraints"] = list(constraints)
    return {
        "target.os": p.target.os.value,
        "target.arch": p.target.arch,
        "environment.manager": env.manager.value,
        "environment.channels": list(env.channels) if conda else [],
        "environment.python": env.python,
        "environment.conda": list(env.conda) if conda else [],
        "environment.pip": list(env.pip),
        "environment.index_url": env.index_url,
        "environment.extra_index_urls": list(env.extra_index_urls),
        "environment.find_links": list(env.find_links),
        "environment.index_strategy": env.index_strategy.value,
        "virtual_packages": virtual,
        **derived,
    }


def lock_constraints(resolved: ResolvedProfile) -> tuple[str, ...]:
    """Constraints the compatibility data adds to both solves (``numpy<2`` next to a build
    made against NumPy 1.x: tensorflow-cpu 2.10, tensorflow-directml, torch-directml)."""
    from provisioner.compatdata.numpy_abi import lock_constraints as from_data

    return from_data(resolved.profile.environment.pip)


def _digest(value: Any) -> str:
    blob = json.dumps(value, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(blob).hexdigest()


def input_digests(resolved: ResolvedProfile) -> dict[str, str]:
    """Input name -> sha256 of its canonical JSON (16 hex digits: enough to tell a change)."""
    return {name: _digest(value)[:16] for name, value in lock_inputs(resolved).items()}


def inputs_hash(resolved: ResolvedProfile) -> str:
    """``sha256:`` of all inputs together: what a lock records as its content hash."""
    return "sha256:" + _digest(lock_inputs(resolved))


def changed_inputs(recorded: dict[str, str], resolved: ResolvedProfile) -> tuple[str, ...]:
    """The inputs whose digest differs from ``recorded`` (or that one side lacks)."""
    now = input_digests(resolved)
    names = list(now) + [n for n in recorded if n not in now]
    return tuple(n for n in names if recorded.get(n) != now.get(n))
