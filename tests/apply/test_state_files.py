"""apply's state file (``state_dir()/<env>.json``): whatever is on disk, a damaged
file reads as "nothing known" (a full check runs) and never as verified; a reader
never sees a half-written file, even while another process writes or is killed; and
the verified mark goes only when ``unverify`` may take it (docs/apply.md)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from provisioner.apply.guard import ApplyBusy, exclusive
from provisioner.apply.verify import unverify
from provisioner.paths import state_dir
from provisioner.state import (
    STATE_VERSION,
    PackageRecord,
    State,
    VerifySummary,
    read_state,
    state_path,
    write_state,
)
from provisioner.target.fingerprint import env_fingerprint
from tests.support.waiting import wait_until

REPO = Path(__file__).resolve().parents[2]
VERIFIED = State(
    "cpu",
    "/envs/cpu",
    "conda",
    "linux-64",
    "verified",
    lock_sha256="a" * 64,
    fingerprint="f" * 64,
    verification=VerifySummary("smoke", "trained", "2026-11-29T10:00:00Z", device_used="cpu"),
)


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PROVISION_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def _raw(data: bytes) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    return write


def _doc(**changes: object) -> Callable[[Path], None]:
    return _raw(json.dumps({**VERIFIED.as_json(), **changes}).encode())


def _folder(path: Path) -> None:
    path.mkdir(parents=True)


def _dangling_link(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.symlink_to(path.parent / "gone.json")


GOOD_TEXT = json.dumps(VERIFIED.as_json()).encode()


@pytest.mark.parametrize(
    "make",
    [
        _raw(b""),
        _raw(GOOD_TEXT[: len(GOOD_TEXT) // 2]),  # a write cut short (no atomic rename)
        _raw(b"\x00" * 4096),  # a file system that lost the data after a crash
        _raw(b"\xff\xfe" + GOOD_TEXT),
        _raw(b"[]"),
        _raw(b"null"),
        _raw(b'"verified"'),
        _raw(b"[" * 100_000),
        _doc(version=STATE_VERSION + 1),  # written by a newer provision
        _doc(version=str(STATE_VERSION)),
        _doc(surprise="a field this provision does not know"),
        _raw(json.dumps({"env": "cpu", "phase": "verified", "version": STATE_VERSION}).encode()),
        _doc(version=1, verify_kind="smoke", verified_at="x"),  # the format before 2
        _doc(verification=None),  # verified, but no record of how
        _doc(phase="built"),  # a verification recorded in another phase
        _doc(verification={"kind": "training", "summary": ""}),
        _doc(packages=[{"manager": "conda", "name": 3, "version": "1"}]),
        _doc(packages={"python": "3.11"}),
        _doc(fingerprint=None),
        _folder,
        _dangling_link,
    ],
    ids=[
        "empty",
        "truncated",
        "zeroed",
        "utf16-bom",
        "list",
        "null",
        "string",
        "deep",
        "newer-version",
        "version-as-text",
        "unknown-field",
        "missing-fields",
        "version-1",
        "verified-without-record",
        "record-in-built-phase",
        "unknown-verify-kind",
        "package-field-type",
        "packages-not-a-list",
        "fingerprint-null",
        "folder",
        "dangling-link",
    ],
)
def test_a_damaged_state_file_reads_as_nothing_known(make: Callable[[Path], None]) -> None:
    make(state_path("cpu"))
    assert read_state("cpu") is None
    assert unverify("cpu", Path("/envs/cpu")) is False


def test_a_state_file_round_trips_every_field() -> None:
    state = VERIFIED.but(
        profile_hash="sha256:p",
        lock_path="/srv/lab.conda-lock.yml",
        lock_inputs_hash="sha256:i",
        packages=(PackageRecord("conda", "python", "3.11.9", "h1", "https://x/p.conda", "ab"),),
        updated_at="2026-11-29T10:00:01Z",
    )
    write_state(state)
    assert read_state("cpu") == state
    on_disk = json.loads(state_path("cpu").read_text())
    assert on_disk["version"] == STATE_VERSION and on_disk["phase"] == "verified"


def test_writing_replaces_a_damaged_file_and_leaves_no_temp_file() -> None:
    _raw(b"\x00" * 100)(state_path("cpu"))
    write_state(VERIFIED)
    assert read_state("cpu") == VERIFIED
    assert sorted(p.name for p in state_dir().iterdir()) == ["cpu.json"]


@pytest.mark.parametrize(
    ("lock_sha256", "fingerprint", "kind", "good"),
    [
        ("a" * 64, "f" * 64, "smoke", True),
        ("a" * 64, "f" * 64, "import", True),  # a smoke pass covers the import check
        ("b" * 64, "f" * 64, "smoke", False),  # another lock
        ("a" * 64, "e" * 64, "smoke", False),  # the environment changed
        ("a" * 64, "", "smoke", False),
        ("", "f" * 64, "smoke", False),
    ],
)
def test_good_for_needs_the_same_lock_and_fingerprint(
    lock_sha256: str, fingerprint: str, kind: str, good: bool
) -> None:
    got = VERIFIED.good_for(lock_sha256=lock_sha256, fingerprint=fingerprint, verify_kind=kind)
    assert got is good


@pytest.mark.parametrize("phase", ["building", "built"])
def test_only_the_verified_phase_is_good(phase: str) -> None:
    state = VERIFIED.but(phase=phase)
    assert not state.good_for(lock_sha256="a" * 64, fingerprint="f" * 64, verify_kind="smoke")


def test_an_import_check_does_not_cover_a_smoke_request() -> None:
    state = VERIFIED.but(verification=VerifySummary("import", "import torch ok (2.13.0)"))
    assert not state.good_for(lock_sha256="a" * 64, fingerprint="f" * 64, verify_kind="smoke")
    assert state.good_for(lock_sha256="a" * 64, fingerprint="f" * 64, verify_kind="import")


# -- unverify: a failed verify clears the mark -----------------------------------------


def test_unverify_puts_a_verified_environment_back_to_built() -> None:
    write_state(VERIFIED)
    assert unverify("cpu", Path("/envs/cpu")) is True
    after = read_state("cpu")
    assert after is not None
    assert (after.phase, after.verification) == ("built", None)
    assert (after.lock_sha256, after.fingerprint) == (VERIFIED.lock_sha256, VERIFIED.fingerprint)
    assert not after.good_for(lock_sha256="a" * 64, fingerprint="f" * 64, verify_kind="import")
    assert unverify("cpu", Path("/envs/cpu")) is False  # nothing verified left to drop


@pytest.mark.parametrize(
    ("state", "prefix"),
    [
        (None, "/envs/cpu"),
        (VERIFIED, "/elsewhere/cpu"),  # same name, another prefix: not this environment
        (VERIFIED.but(phase="built"), "/envs/cpu"),
        (VERIFIED.but(phase="building"), "/envs/cpu"),
    ],
)
def test_unverify_leaves_other_states_alone(state: State | None, prefix: str) -> None:
    if state is not None:
        write_state(state)
    before = state_path("cpu").read_bytes() if state is not None else None
    assert unverify("cpu", Path(prefix)) is False
    after = state_path("cpu").read_bytes() if state_path("cpu").exists() else None
    assert after == before


def test_unverify_while_an_apply_holds_the_environment_is_skipped() -> None:
    """The running apply writes its own state when it ends; a verify must not race it."""
    write_state(VERIFIED)
    with exclusive(state_dir() / "cpu.lock", "cpu"):
        assert unverify("cpu", Path("/envs/cpu")) is False
    assert read_state("cpu") == VERIFIED
    assert unverify("cpu", Path("/envs/cpu")) is True  # the apply has finished


def test_the_apply_lock_names_the_holder_to_the_second_process(tmp_path: Path) -> None:
    lock = tmp_path / "cpu.lock"
    code = (
        "import sys\nfrom pathlib import Path\n"
        "from provisioner.apply.guard import exclusive\n"
        "with exclusive(Path(sys.argv[1]), 'cpu'):\n"
        "    print('held', flush=True)\n"
        "    sys.stdin.readline()\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", code, str(lock)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    try:
        assert child.stdout is not None and child.stdout.readline() == "held\n"
        with pytest.raises(ApplyBusy) as busy, exclusive(lock, "cpu"):
            pass
        assert busy.value.message == (
            f"another `provision apply` is changing environment 'cpu' (pid {child.pid})"
        )
        assert busy.value.exit_code == 1
    finally:
        child.kill()  # SIGKILL: the OS drops the lock with the process
        child.wait(timeout=30)
    with exclusive(lock, "cpu"):
        pass


WRITER = """
import sys
from provisioner.state import PackageRecord, State, VerifySummary, write_state
a = State("cpu", "/envs/cpu", "conda", "linux-64", "built",
          packages=(PackageRecord("conda", "x" * 50_000, "1"),))
b = a.but(phase="verified", verification=VerifySummary("smoke", "ok"),
          packages=(PackageRecord("conda", "y" * 80_000, "1"),))
print("started", flush=True)
for i in range(int(sys.argv[1])):
    write_state(a if i % 2 else b)
"""


def test_a_reader_never_sees_a_half_written_state_while_another_process_writes(
    home: Path,
) -> None:
    write_state(State("cpu", "/envs/cpu", "conda", "linux-64", "building"))
    env = {**os.environ, "PROVISION_HOME": str(home)}
    child = subprocess.Popen(
        [sys.executable, "-c", WRITER, "400"], stdout=subprocess.PIPE, text=True, env=env, cwd=REPO
    )
    assert child.stdout is not None and child.stdout.readline() == "started\n"
    seen: set[str] = set()
    for _ in range(1_000_000):  # bounded; the writer finishes long before
        if child.poll() is not None:
            break
        state = read_state("cpu")
        assert state is not None, "read a half-written state file"
        seen.add(state.phase)
    assert child.wait(timeout=120) == 0
    assert seen <= {"building", "built", "verified"}


def test_a_writer_killed_mid_run_leaves_a_whole_state_file(home: Path) -> None:
    env = {**os.environ, "PROVISION_HOME": str(home)}
    child = subprocess.Popen(
        [sys.executable, "-c", WRITER, "1000000"],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=REPO,
    )
    try:
        assert child.stdout is not None and child.stdout.readline() == "started\n"
        wait_until(lambda: state_path("cpu").exists(), seconds=60, what="the first state write")
    finally:
        child.send_signal(signal.SIGKILL)  # mid-write, as a power cut
        child.wait(timeout=30)
    state = read_state("cpu")
    assert state is not None and state.phase in {"built", "verified"}
    leftovers = [p.name for p in state_dir().iterdir() if p.name != "cpu.json"]
    # hidden, ignored: ".cpu.json.<16 random hex digits>.tmp"
    assert all(re.fullmatch(r"\.cpu\.json\.[0-9a-f]{16}\.tmp", name) for name in leftovers)


# -- the fingerprint -------------------------------------------------------------------


def conda_prefix(tmp_path: Path) -> Path:
    prefix = tmp_path / "prefix"
    (prefix / "conda-meta").mkdir(parents=True)
    (prefix / "conda-meta" / "python-3.11.9-h1.json").write_text("{}")
    (prefix / "lib" / "python3.11" / "site-packages").mkdir(parents=True)
    return prefix


def _add_conda_record(prefix: Path) -> None:
    (prefix / "conda-meta" / "zlib-1.3-h0.json").write_text("{}")


def _remove_conda_record(prefix: Path) -> None:
    (prefix / "conda-meta" / "python-3.11.9-h1.json").unlink()


def _add_dist(prefix: Path) -> None:
    (prefix / "lib" / "python3.11" / "site-packages" / "six-1.17.0.dist-info").mkdir()


def _add_windows_dist(prefix: Path) -> None:
    (prefix / "Lib" / "site-packages" / "six-1.17.0.dist-info").mkdir(parents=True)


@pytest.mark.parametrize(
    "change", [_add_conda_record, _remove_conda_record, _add_dist, _add_windows_dist]
)
def test_the_fingerprint_moves_with_any_install_or_removal(
    tmp_path: Path, change: Callable[[Path], None]
) -> None:
    prefix = conda_prefix(tmp_path)
    before = env_fingerprint(prefix)
    assert before == env_fingerprint(prefix)  # stable while nothing changes
    change(prefix)
    assert env_fingerprint(prefix) != before


def test_the_fingerprint_names_the_prefix(tmp_path: Path) -> None:
    """Two identical prefixes at two paths are two environments."""
    a = conda_prefix(tmp_path / "a")
    b = conda_prefix(tmp_path / "b")
    os.utime(b / "conda-meta", ns=(0, (a / "conda-meta").stat().st_mtime_ns))
    site = "lib/python3.11/site-packages"
    os.utime(b / site, ns=(0, (a / site).stat().st_mtime_ns))
    assert env_fingerprint(a) != env_fingerprint(b)
