"""Why a lock is stale, as a typed value: its cause and the lock inputs that changed
(as pixi's ``outdated`` says which input of an environment changed).

:func:`staleness` is decided once, here; ``provision lock --check``, ``plan``,
``apply`` (``--locked`` refuses, ``--frozen`` says so, the default re-locks) and
``render`` all read its answer, and :meth:`Staleness.describe` is the one wording of it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from provisioner.lock import Lock
from provisioner.lock.inputs import changed_inputs, inputs_hash
from provisioner.platforms import target_platforms
from provisioner.profile import ResolvedProfile


class Cause(enum.Enum):
    """What makes a lock unusable as it is for a profile."""

    MISSING = "missing"  # there is no lockfile yet
    UNREADABLE = "unreadable"  # a lockfile provision cannot read (apply's own is re-made)
    UNRECORDED = "unrecorded"  # no lock inputs recorded: not made by `provision lock`
    INPUTS = "inputs"  # lock inputs changed (``inputs`` names them)
    INPUTS_HASH = "inputs-hash"  # each input's digest agrees, their total does not
    PLATFORMS = "platforms"  # the target's platforms are not the locked ones


@dataclass(frozen=True)
class Staleness:
    """Why a lock is stale: the cause, the lock inputs that changed (``docs/lock.md``
    lists them; a cause without named inputs names the field that disagrees), and for
    an unreadable lockfile the reader's error."""

    cause: Cause
    inputs: tuple[str, ...] = ()
    detail: str = ""

    def describe(self) -> str:
        """A few words for a message: ``environment.pip changed``."""
        if self.cause is Cause.MISSING:
            return "no lockfile yet"
        if self.cause is Cause.UNREADABLE:
            return self.detail
        if self.cause is Cause.UNRECORDED:
            return "it records no lock inputs: not made by `provision lock`"
        return f"{', '.join(self.inputs)} changed"


def staleness(lock: Lock, resolved: ResolvedProfile) -> Staleness | None:
    """Why ``lock`` is stale for ``resolved``, or ``None`` when it is fresh."""
    if not lock.inputs:
        return Staleness(Cause.UNRECORDED)
    changed = changed_inputs(dict(lock.inputs), resolved)
    if changed:
        return Staleness(Cause.INPUTS, changed)
    if lock.content_hash != inputs_hash(resolved):  # edited by hand
        return Staleness(Cause.INPUTS_HASH, ("provision_inputs_hash",))
    if tuple(lock.platforms) != target_platforms(resolved.profile.target):
        return Staleness(Cause.PLATFORMS, ("target.os",))
    return None
