"""`provision doctor` (on the shipped profiles), `facts` and `explain` through the CLI's
main(): exit codes, JSON shape, replay of a saved snapshot, NO_COLOR, one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from provisioner.cli import main
from provisioner.commands.facts import facts
from tests.checks.host_replay import PROFILES_DIR, ReplayedHost

REPO = Path(__file__).resolve().parents[2]
FIX = REPO / "tests" / "data" / "fixtures"
CPU = PROFILES_DIR / "cpu.yaml"
DML = PROFILES_DIR / "directml-wsl2.yaml"


def test_doctor_cpu_is_ready_on_this_machine(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["doctor", str(CPU), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert list(data) == ["profile", "ready", "checks"]
    assert data["profile"] == "cpu" and data["ready"] is True
    assert all(list(c) == ["id", "status", "summary", "fix"] for c in data["checks"])


def test_doctor_directml_wsl2_is_not_ready_here(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["doctor", str(DML), "--json"]) == 1
    checks = {c["id"]: c for c in json.loads(capsys.readouterr().out)["checks"]}
    assert checks["os.wsl2"]["status"] == "fail" and "wsl --set-version" in checks["os.wsl2"]["fix"]
    # nothing else claims an observation: every other check is skipped with its reason
    others = [c for i, c in checks.items() if i != "os.wsl2"]
    assert all(c["status"] == "skip" and c["summary"].startswith("skipped: ") for c in others)


def test_doctor_text_names_each_failure_with_its_fix(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["doctor", str(DML)]) == 1
    out = capsys.readouterr().out
    assert "fail os.wsl2: Run this inside a WSL 2 distro" in out
    assert "directml-wsl2: this host is NOT ready" in out


def test_doctor_respects_no_color() -> None:
    env = {**os.environ, "NO_COLOR": "1", "FORCE_COLOR": "1", "TERM": "xterm-256color"}
    done = subprocess.run(
        [sys.executable, "-m", "provisioner", "doctor", str(DML)],
        capture_output=True,
        text=True,
        env=env,
    )
    assert done.returncode == 1
    assert (
        "\x1b[31" not in done.stdout
        and "\x1b[91" not in done.stdout
        and "\x1b[32" not in done.stdout
    )


def test_doctor_invalid_profile_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ntarget: {os: mars}\n")
    assert main(["doctor", str(bad)]) == 2
    err = capsys.readouterr().err
    # positioned errors start with FILE:LINE:COL, as a compiler prints them
    assert err.startswith(f"{bad}:") and "Traceback" not in err
    assert main(["doctor", str(tmp_path / "missing.yaml")]) == 2


def test_saved_snapshot_replays_on_doctor(
    host: Callable[[str], ReplayedHost], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    h = host("wsl2-linux-driver-440-in-distro")
    snap = tmp_path / "host.json"
    assert facts(root=h.root, path=h.path, save=snap, json_out=True) == 0
    observed = json.loads(capsys.readouterr().out)
    assert observed["linux_nvidia_packages"] == [
        "libnvidia-compute-440",
        "nvidia-driver-440",
        "nvidia-utils-440",
    ]
    # replay anywhere: nothing of this machine is read any more
    assert (
        main(["doctor", str(PROFILES_DIR / "cuda-wsl2.yaml"), "--facts", str(snap), "--json"]) == 1
    )
    checks = {c["id"]: c["status"] for c in json.loads(capsys.readouterr().out)["checks"]}
    assert checks["os.wsl2"] == "pass" and checks["nvidia.no-linux-driver"] == "fail"
    assert main(["facts", "--facts", str(snap), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == observed


def test_facts_text_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["facts"]) == 0
    out = capsys.readouterr().out
    assert "os_kind" in out and "linux" in out


@pytest.mark.parametrize(
    ("name", "code", "expect"),
    [
        ("ldconfig_libcuda_not_symlink_warning.txt", 0, "benign: benign.ldconfig-libcuda"),
        ("nvidia-smi_wsl_nvml_blocked_after_nvidia-utils-510.txt", 1, "fail: nvidia.nvml-blocked"),
        ("tfdml_log_no_adapter_amd_vega8_wsl.txt", 1, "fail: dml.no-adapter"),
        (
            "cuda_sample_code35_insufficient_driver_win10_18363.txt",
            1,
            "fail: cuda.insufficient-driver",
        ),
    ],
)
def test_explain(name: str, code: int, expect: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", str(FIX / name)]) == code
    assert expect in capsys.readouterr().out


def test_explain_stdin_and_nothing_found(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import io

    monkeypatch.setattr(sys, "stdin", io.StringIO("all good\n"))
    assert main(["explain", "-", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "verdict": "none",
        "target": None,
        "cause": None,
        "matches": [],
    }


def test_explain_missing_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", str(tmp_path / "nope.log")]) == 2
    assert "cannot read the log" in capsys.readouterr().err


NOT_TEXT = "not a text log (NUL or binary bytes) (fix: pass the captured text output"


@pytest.mark.parametrize("kind", ["executable", "gzip"])
def test_explain_a_binary_file_exits_2(
    kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A binary file used to print "no known signature found" and exit 0."""
    if kind == "executable":
        binary = Path(sys.executable).resolve()  # the real interpreter: an ELF file
    else:
        import gzip

        binary = tmp_path / "log.txt.gz"  # a real log, compressed: the text is in there
        log = FIX / "tfdml_log_no_adapter_amd_vega8_wsl.txt"
        binary.write_bytes(gzip.compress(log.read_bytes()))
    assert main(["explain", str(binary)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1
    assert err.startswith(f"provision: error: {binary}: {NOT_TEXT}")


def test_explain_binary_stdin_exits_2() -> None:
    """Through the console script, so stdin is a real byte stream."""
    provision = Path(sys.executable).parent / "provision"
    done = subprocess.run(
        [str(provision), "explain", "-"],
        input=Path(sys.executable).resolve().read_bytes()[:65536],
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 2 and done.stdout == b""
    assert done.stderr.decode().startswith(f"provision: error: stdin: {NOT_TEXT}")
    assert done.stderr.count(b"\n") == 1


@pytest.mark.parametrize(
    ("encoding", "bom"),
    [("utf-16-le", b""), ("utf-16-le", b"\xff\xfe"), ("utf-8", b"\xef\xbb\xbf"), ("cp1252", b"")],
)
def test_explain_still_reads_text_logs_in_other_encodings(
    encoding: str, bom: bytes, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """wsl.exe writes UTF-16LE without a BOM (NUL bytes, but text); a Windows console log
    may be cp1252. Neither is binary."""
    text = (FIX / "tfdml_log_no_adapter_amd_vega8_wsl.txt").read_text("utf-8")
    log = tmp_path / "log.txt"
    log.write_bytes(bom + ("Gerät: café\n" + text).encode(encoding))
    assert main(["explain", str(log)]) == 1
    assert "fail: dml.no-adapter" in capsys.readouterr().out


def test_doctor_shows_the_profiles_gpu_notes_next_to_the_driver_check(
    host: Callable[[str], ReplayedHost], capsys: pytest.CaptureFixture[str]
) -> None:
    h = host("wsl2-win11-nvidia-555")
    from provisioner.commands.doctor import doctor

    assert doctor(profile=PROFILES_DIR / "cuda-wsl2.yaml", root=h.root, path=h.path) == 0
    out = capsys.readouterr().out
    assert "note gpu.driver (nvidia): Volta (compute capability 7.0) or newer" in out
    assert "cuda-wsl2: this host is ready" in out


@pytest.mark.parametrize("command", ["doctor", "facts"])
def test_root_that_is_not_a_directory_exits_2(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [command, str(CPU)] if command == "doctor" else [command]
    assert main([*argv, "--root", str(tmp_path / "nope")]) == 2
    assert "not a directory" in capsys.readouterr().err
