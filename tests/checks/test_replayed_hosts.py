"""Every replayed host gives, for every profile, exactly the verdicts in its expected.yaml.

The expected tables were reviewed against the verdicts tests/data/fixtures/ sources give
(fixtures INDEX.md); the key ones are also asserted by name in test_known_verdicts.py.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.checks.host_replay import (
    ReplayedHost,
    diagnose_host,
    host_names,
    profile_paths,
    statuses,
)

PROFILES = {p.stem: p for p in profile_paths()}


def test_at_least_twenty_hosts_each_with_every_profile() -> None:
    names = host_names()
    assert len(names) >= 20
    for name in names:
        assert (Path(__file__).parent.parent / "data" / "hosts" / name / "expected.yaml").exists()


@pytest.mark.parametrize("name", host_names())
def test_host_verdicts_match_expected(
    name: str, host: Callable[[str], ReplayedHost], tmp_path: Path
) -> None:
    h = host(name)
    expected = h.expected
    assert set(expected) == set(PROFILES), "expected.yaml must cover every profile"
    for profile, want in expected.items():
        got = statuses(diagnose_host(h, PROFILES[profile], tmp_path))
        assert got == want, f"{name} / {profile}"


def test_every_shipped_profile_has_a_healthy_host(host: Callable[[str], ReplayedHost]) -> None:
    ready = {p: [n for n in host_names() if host(n).expected[p]["ready"]] for p in PROFILES}
    assert all(ready.values()), {p: hosts for p, hosts in ready.items() if not hosts}
