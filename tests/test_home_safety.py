"""``PROVISION_HOME`` is not named file by file by the user, so what provision writes
there must not follow a link someone planted, and a home that another user owns or
can write is refused with the fix, as ssh refuses such a ``~/.ssh``."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from provisioner import atomic
from provisioner.apply.guard import exclusive
from provisioner.atomic import write_atomic
from provisioner.cli import main
from provisioner.errors import ProvisionError
from provisioner.paths import UnsafeHome, reports_dir, state_dir

REPO = Path(__file__).resolve().parents[1]
ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("PROVISION_HOME", str(home))
    return home


def victim(tmp_path: Path) -> Path:
    path = tmp_path / "victim.txt"
    path.write_text("precious\n")
    return path


def test_a_link_planted_at_the_apply_lock_is_not_followed(home: Path, tmp_path: Path) -> None:
    target = victim(tmp_path)
    (home / "state").mkdir(parents=True)
    (home / "state" / "cpu.lock").symlink_to(target)
    with (
        pytest.raises(ProvisionError, match="is a symbolic link"),
        exclusive(home / "state" / "cpu.lock", "cpu"),
    ):
        pass
    assert target.read_text() == "precious\n"


def test_apply_stops_at_a_planted_lock_link_and_leaves_its_target(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = victim(tmp_path)
    (home / "state").mkdir(parents=True)
    (home / "state" / "cpu.lock").symlink_to(target)
    assert main(["apply", str(REPO / "profiles" / "cpu.yaml"), "--skip-checks"]) == 2
    assert "cpu.lock: it is a symbolic link" in capsys.readouterr().err
    assert target.read_text() == "precious\n"


def test_a_fifo_planted_at_the_apply_lock_is_refused(home: Path) -> None:
    (home / "state").mkdir(parents=True)
    os.mkfifo(home / "state" / "cpu.lock")
    with (
        pytest.raises(ProvisionError, match="not a regular file"),
        exclusive(home / "state" / "cpu.lock", "cpu"),
    ):
        pass


def test_temp_names_are_unpredictable_and_a_planted_one_is_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A link planted at the temp name a writer draws is never written through: the
    create is exclusive (O_EXCL | O_NOFOLLOW), so the writer draws another name."""
    target = victim(tmp_path)
    report = tmp_path / "reports" / "cpu.json"
    report.parent.mkdir()
    names = iter(["aaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbb"])
    monkeypatch.setattr("provisioner.atomic.secrets.token_hex", lambda n: next(names))
    (report.parent / ".cpu.json.aaaaaaaaaaaaaaaa.tmp").symlink_to(target)
    write_atomic(report, "{}\n")
    assert report.read_text() == "{}\n" and not report.is_symlink()
    assert target.read_text() == "precious\n"


def test_real_temp_names_differ_each_time(tmp_path: Path) -> None:
    names = {atomic.temp_name(tmp_path / "x.json").name for _ in range(50)}
    assert len(names) == 50
    assert all(re.fullmatch(r"\.x\.json\.[0-9a-f]{16}\.tmp", n) for n in names)


def test_a_link_at_the_final_report_name_is_replaced_not_followed(
    home: Path, tmp_path: Path
) -> None:
    target = victim(tmp_path)
    folder = reports_dir()
    folder.mkdir(parents=True)
    (folder / "cpu.json").symlink_to(target)
    write_atomic(folder / "cpu.json", "{}\n")
    assert not (folder / "cpu.json").is_symlink()
    assert target.read_text() == "precious\n"


@pytest.mark.parametrize("folder", ["", "state", "reports"])
@pytest.mark.parametrize("mode", [0o777, 0o775, 0o1777])
def test_a_home_folder_others_can_write_is_refused_with_the_fix(
    home: Path, folder: str, mode: int
) -> None:
    (home / "state").mkdir(parents=True)
    (home / "reports").mkdir()
    (home / folder).chmod(mode)
    getters = {"": (state_dir, reports_dir), "state": (state_dir,), "reports": (reports_dir,)}
    for get in getters[folder]:
        with pytest.raises(UnsafeHome) as e:
            get()
        assert f"refusing to use {home / folder if folder else home}".rstrip("/") in str(e.value)
        assert e.value.hint == f"chmod go-w {home / folder if folder else home}".rstrip("/")
        assert e.value.exit_code == 2
    (home / folder).chmod(0o755)
    assert state_dir() == home / "state"


@pytest.mark.skipif(not ROOT, reason="chown to another user needs root")
def test_a_state_folder_another_user_owns_is_refused(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (home / "state").mkdir(parents=True)
    os.chown(home / "state", 65534, 65534)  # nobody
    assert main(["apply", str(REPO / "profiles" / "cpu.yaml"), "--skip-checks"]) == 2
    err = capsys.readouterr().err
    assert "owned by another user (uid 65534)" in err and "chown" in err


def test_a_linked_home_is_judged_by_its_target(home: Path, tmp_path: Path) -> None:
    real = tmp_path / "elsewhere"
    real.mkdir(mode=0o755)
    home.symlink_to(real)
    assert state_dir() == home / "state"
    real.chmod(0o777)
    with pytest.raises(UnsafeHome):
        state_dir()
