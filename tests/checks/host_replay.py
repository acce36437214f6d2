"""Replay a host from tests/data/hosts/<name>/: its root, a PATH of stand-ins, its env.

The PATH is the host's ``bin/`` (stand-ins for Windows and NVIDIA tools) followed by a
folder of the few real POSIX tools check.sh needs, so nothing else of the CI machine
(its Pythons, its nvidia-smi) leaks into a replay.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from provisioner.checks.doctor import Diagnosis, diagnose
from provisioner.host.facts import gather
from provisioner.host.probe import Probe
from provisioner.profile import load_profile

HOSTS_DIR = Path(__file__).resolve().parent.parent / "data" / "hosts"
# The shipped profiles: every replayed host has verdicts asserted for each of them.
PROFILES_DIR = Path(__file__).resolve().parents[2] / "profiles"
# What check.sh calls besides bash builtins; all are in stock Debian/Ubuntu.
POSIX_TOOLS = (
    "awk",
    "cat",
    "grep",
    "head",
    "iconv",
    "ls",
    "mktemp",
    "rm",
    "sed",
    "sleep",
    "sort",
    "timeout",
    "tr",
    "wc",
)


def host_names() -> list[str]:
    return sorted(p.name for p in HOSTS_DIR.iterdir() if (p / "host.yaml").exists())


def profile_paths() -> list[Path]:
    return sorted(PROFILES_DIR.glob("*.yaml"))


def make_tools_dir(target: Path) -> Path:
    target.mkdir(parents=True, exist_ok=True)
    for tool in POSIX_TOOLS:
        for folder in ("/usr/bin", "/bin"):
            real = Path(folder) / tool
            if real.exists() and not (target / tool).exists():
                (target / tool).symlink_to(real)
                break
    return target


@dataclass(frozen=True)
class ReplayedHost:
    name: str
    root: Path
    path: str
    env: dict[str, str]  # host variables (PYENV_ROOT, PROVISION_COMMAND_TIMEOUT)
    platform: str
    description: str

    @property
    def expected(self) -> dict[str, dict[str, object]]:
        data = yaml.safe_load((HOSTS_DIR / self.name / "expected.yaml").read_text("utf-8"))
        return dict(data)

    def process_env(self) -> dict[str, str]:
        """The environment a replayed command runs in (HOME etc. kept from the test)."""
        keep = {k: v for k, v in os.environ.items() if k not in ("PYENV_ROOT", "WSL_UTF8")}
        return {**keep, **self.env, "PATH": self.path}


def replayed(name: str, tools: Path) -> ReplayedHost:
    base = HOSTS_DIR / name
    meta = yaml.safe_load((base / "host.yaml").read_text("utf-8"))
    return ReplayedHost(
        name=name,
        root=base / "root",
        path=f"{base / 'bin'}:{tools}",
        env={k: str(v) for k, v in (meta.get("env") or {}).items()},
        platform=meta["platform"],
        description=meta["description"],
    )


def diagnose_host(h: ReplayedHost, profile: Path, snapshot_dir: Path) -> Diagnosis:
    """Diagnose a replayed host. Native Windows hosts go through a saved snapshot
    (record on a win32-claiming probe, then ``diagnose(facts_file=...)``): the replay path."""
    resolved = load_profile(profile)
    if h.platform == "linux":
        return diagnose(resolved, root=h.root, path=h.path)
    probe = Probe(h.root, path=h.path, env=h.env, platform=h.platform)
    gather(probe)
    snap = snapshot_dir / f"{h.name}.json"
    probe.save(snap)
    return diagnose(resolved, facts_file=snap)


def as_scripts_see_it(doc: dict[str, Any]) -> dict[str, Any]:
    """doctor's JSON without its doctor-only checks (records.DOCTOR_ONLY_KINDS), which
    check.sh and check.ps1 leave out: what the scripts must print."""
    from provisioner.checks.records import load_checks

    only = {r.id for r in load_checks() if not r.in_scripts}
    return {**doc, "checks": [c for c in doc["checks"] if c["id"] not in only]}


def statuses(d: Diagnosis) -> dict[str, object]:
    return {"ready": d.ready, **{v.id: v.status for v in d.verdicts if v.status != "skip"}}
