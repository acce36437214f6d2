"""An environment's diff against the lock, described: one line for messages and step
reasons, and the report's JSON. The environment step, its drift repair and the report
all describe a diff through here."""

from __future__ import annotations

from typing import Any

from provisioner.env import EnvDiff


def diff_summary(diff: EnvDiff) -> str:
    """The diff in one line for messages: at most five packages per kind."""
    parts = []
    if diff.add:
        parts.append("add " + ", ".join(p.spec() for p in diff.add[:5]))
    if diff.change:
        parts.append(
            "change " + ", ".join(f"{old} -> {new.spec()}" for old, new in diff.change[:5])
        )
    if diff.remove:
        parts.append("remove " + ", ".join(diff.remove[:5]))
    if diff.strays:
        parts.append("remove files no locked package installs: " + ", ".join(diff.strays[:5]))
    return "; ".join(parts) or "no differences"


def diff_json(diff: EnvDiff) -> dict[str, Any]:
    """The diff as the report's ``environment.diff`` and the step's details."""
    return {
        "exists": diff.exists,
        "add": [p.spec() for p in diff.add],
        "change": [{"from": old, "to": new.spec()} for old, new in diff.change],
        "remove": list(diff.remove),
        "notes": list(diff.notes),
        "strays": list(diff.strays),
    }
