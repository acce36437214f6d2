"""One environment belongs to one profile.

A profile's environment is ``$PROVISION_ENVS_DIR/<environment.name>``, and a profile
that extends another inherits its ``environment.name``: a team profile that
``extends: cpu`` without a name of its own would build into ``envs/cpu``, and applying
it and ``cpu`` in turn would rebuild one environment back and forth. So the state
records the name of the profile that built the environment (``State.profile``), and
plan, apply, verify, run and shell stop, with the fix, when another profile's name is
recorded there. Profiles with the same ``name`` (the embedded default and
``profiles/cpu.yaml``, a copy of it) are the same owner. A state written before owners
were recorded (``profile == ""``) is taken over by the next apply.
"""

from __future__ import annotations

from provisioner.errors import ExitCode, ProvisionError, relpath
from provisioner.profile import ResolvedProfile
from provisioner.state import State, write_state


class OwnedByAnother(ProvisionError):
    """The environment a profile names was built by another profile."""

    exit_code = ExitCode.NOT_READY


def owner_conflict(resolved: ResolvedProfile, state: State | None) -> OwnedByAnother | None:
    """The error to stop with when ``state`` records another profile as the owner of
    ``resolved``'s environment; None when the environment is this profile's or unowned."""
    owner = state.profile if state is not None else ""
    mine = resolved.profile.name
    if not owner or owner == mine:
        return None
    env = resolved.profile.environment.name
    where = relpath(resolved.path)
    return OwnedByAnother(
        f"environment {env!r} belongs to profile {owner!r}; {where} (profile {mine!r}) "
        f"would rebuild it",
        hint=f"give this profile its own environment: set environment.name in {where} "
        f"(`provision init` writes one), or delete the other first: "
        f"provision envs remove {env}",
    )


def check_owner(resolved: ResolvedProfile, state: State | None) -> None:
    """Raise :func:`owner_conflict`'s error, if any."""
    error = owner_conflict(resolved, state)
    if error is not None:
        raise error


def claim(resolved: ResolvedProfile, state: State | None) -> State | None:
    """``state`` with this profile recorded as the owner; written when it had none (a
    state from before owners were recorded, or one a bootstrap script wrote), so a no-op
    apply takes the environment over too. Call it with the environment's lock held."""
    if state is None or state.profile:
        return state
    owned = state.but(profile=resolved.profile.name)
    write_state(owned)
    return owned
