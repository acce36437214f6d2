"""A failure is said once: a stale lock under --locked and failing host checks printed
their reason twice (the step table on stdout and the error on stderr)."""

from __future__ import annotations

from tests.daily.conftest import REPO, Team


def test_a_stale_lock_under_locked_is_said_once(team: Team) -> None:
    assert team("lock", "team.yaml").returncode == 0
    team.team.write_text(team.team.read_text().replace("tabulate==0.8.10", "tabulate==0.10.0"))
    done = team("apply", "team.yaml", "--locked", "--skip-checks")
    assert done.returncode == 1
    both = done.stdout + done.stderr
    assert both.count("is stale (environment.pip changed)") == 1, both
    assert "lock         fail     (the reason is on stderr)" in done.stdout


def test_failing_checks_are_said_once(team: Team) -> None:
    """A Windows profile on this (Linux or WSL) host: os.windows fails."""
    done = team("apply", str(REPO / "profiles" / "directml-windows.yaml"))
    assert done.returncode == 1
    both = done.stdout + done.stderr
    assert both.count("(expected windows)") == 1, both
