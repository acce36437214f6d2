"""The rendered bootstrap.sh, run for real (bash), refuses a provision home, or its
``state/`` or ``reports/``, that another user owns or that group or others can write,
with the very line provision itself gives (provisioner/paths.py ``private``), exit 2,
before anything there is read or written; a private home is used as before."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from provisioner.paths import UnsafeHome, private
from tests.bootstrap.bootstrap_e2e import Renderer, small_profile

OTHER_UID = 12345  # no one on this machine


def other_owner(path: Path) -> None:
    """``path`` owned by another user (needs root: chown); skipped otherwise."""
    try:
        os.chown(path, OTHER_UID, OTHER_UID)
    except PermissionError:
        pytest.skip("giving a folder to another user needs root (chown): not allowed here")


# folder (relative to the home, "" for the home itself) -> how it is made unsafe
CASES: dict[str, tuple[str, Callable[[Path], None]]] = {
    "home writable by all": ("", lambda p: p.chmod(0o777)),
    "home writable by all, sticky": ("", lambda p: p.chmod(0o1777)),
    "home of another user": ("", other_owner),
    "state writable by its group": ("state", lambda p: p.chmod(0o775)),
    "reports of another user": ("reports", other_owner),
}


@pytest.fixture
def rendered(render: Renderer, tmp_path: Path) -> Path:
    return render(small_profile(tmp_path / "p"))


def provision_line(home: Path, folder: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """What provision itself says of ``folder`` under the home ``home``."""
    monkeypatch.setenv("PROVISION_HOME", str(home))
    with pytest.raises(UnsafeHome) as refused:
        private(folder)
    return refused.value.lines()[0]


def run(folder: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PROVISION_HOME": str(home)}
    return subprocess.run(
        ["bash", str(folder / "bootstrap.sh"), "--skip-checks", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("case", sorted(CASES))
def test_an_unsafe_home_is_refused_with_provisions_own_line(
    rendered: Path, tmp_path: Path, case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    rel, make_unsafe = CASES[case]
    home = tmp_path / "home"
    for sub in ("state", "reports"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    for path in (home, home / "state", home / "reports"):
        path.chmod(0o755)
    unsafe = home / rel if rel else home
    make_unsafe(unsafe)
    prefix = tmp_path / "env"
    done = run(rendered, home, "--prefix", str(prefix))
    assert done.returncode == 2, done.stdout + done.stderr
    expected = provision_line(home, home / (rel or "state"), monkeypatch)
    assert done.stderr.splitlines() == [f"bootstrap: {expected}"]
    assert "(fix: " in expected
    assert not prefix.exists() and os.listdir(home / "reports") == []  # nothing done there


def test_a_link_to_an_unsafe_folder_is_judged_by_its_target(
    rendered: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    home = tmp_path / "home"
    home.symlink_to(shared)
    done = run(rendered, home, "--dry-run")
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines() == [f"bootstrap: {provision_line(home, home, monkeypatch)}"]
    assert "chmod go-w" in done.stderr


def test_a_private_home_is_used(rendered: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / "state").mkdir(parents=True)
    home.chmod(0o700)
    done = run(rendered, home, "--dry-run")
    assert done.returncode == 0, done.stderr
    assert "would create" in done.stdout
