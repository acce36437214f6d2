"""Diagnose a host for a profile: probe -> facts -> planned checks -> verdicts.

:func:`diagnose` is a pipeline step: ``provision doctor`` prints it, and ``plan`` /
``apply`` call it first and stop when the host is not ready.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from provisioner.checks.judge import Verdict, judge
from provisioner.checks.observed import observe
from provisioner.checks.plan import plan_checks
from provisioner.errors import ProvisionError
from provisioner.host.facts import HostFacts, gather
from provisioner.host.probe import Probe
from provisioner.profile import ResolvedProfile


@dataclass(frozen=True)
class Diagnosis:
    """The verdicts for one profile on one host, and whether the host is ready."""

    profile: str
    verdicts: tuple[Verdict, ...]
    facts: HostFacts

    @property
    def ready(self) -> bool:
        """Ready unless a check failed or a required (fail-severity) check is unknown."""
        return not any(v.blocks for v in self.verdicts)

    @property
    def blocking(self) -> tuple[Verdict, ...]:
        return tuple(v for v in self.verdicts if v.blocks)

    def as_json(self) -> dict[str, Any]:
        """Exactly ``{"profile", "ready", "checks": [{"id", "status", "summary", "fix"}]}``."""
        return {
            "profile": self.profile,
            "ready": self.ready,
            "checks": [v.as_json() for v in self.verdicts],
        }


def make_probe(
    root: Path = Path("/"), facts_file: Path | None = None, path: str | None = None
) -> Probe:
    """A live probe of ``root`` and ``path``, or a replay of a saved snapshot."""
    if facts_file is not None:
        return Probe.replay(facts_file)
    if not root.is_dir():
        raise ProvisionError(
            f"--root {root}: not a directory", hint="pass the folder that holds the host's files"
        )
    return Probe(root, path=path)


def diagnose(
    resolved: ResolvedProfile,
    *,
    root: Path = Path("/"),
    facts_file: Path | None = None,
    path: str | None = None,
) -> Diagnosis:
    """Observe the host (or replay ``facts_file``) and judge every check for ``resolved``."""
    facts = gather(make_probe(root, facts_file, path))
    verdicts = judge(plan_checks(resolved), observe(facts))
    return Diagnosis(resolved.name, tuple(verdicts), facts)
