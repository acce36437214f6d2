"""The probe: live reads, timeouts, and record/replay of a whole host."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from provisioner.cli import main
from provisioner.errors import ExitCode, ProvisionError
from provisioner.host.facts import Unknown, gather
from provisioner.host.probe import Probe
from tests.checks.host_replay import make_tools_dir, replayed


def test_this_machine_is_plain_linux_with_python() -> None:
    facts = gather(Probe())
    assert facts.os_kind == "linux"
    assert facts.windows_build == Unknown("not a Windows or WSL host")
    assert any(p.version.startswith("3.") for p in facts.pythons)


@pytest.mark.timeout(120)  # the stand-in sleeps far longer: a missed timeout fails here
def test_hung_stand_in_times_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    h = replayed("wsl2-hung-powershell", make_tools_dir(tmp_path / "tools"))
    monkeypatch.setenv("PROVISION_COMMAND_TIMEOUT", "1")
    probe = Probe(h.root, path=h.path, env=h.env)
    assert probe.timeout == 1.0
    facts = gather(probe)
    assert facts.windows_edition == Unknown("powershell.exe timed out")
    assert facts.adapters_source == "nvidia-smi"  # the adapter settled another way
    assert facts.windows_build == 22000  # the other commands still answered


def test_record_then_replay_gives_the_same_facts(tmp_path: Path) -> None:
    h = replayed("wsl2-nvml-blocked-utils-510", make_tools_dir(tmp_path / "tools"))
    live = Probe(h.root, path=h.path, env=h.env)
    facts = gather(live)
    snap = tmp_path / "host.json"
    live.save(snap)
    data = json.loads(snap.read_text())
    assert "nvidia-smi" in data["commands"] and "/proc/version" in data["files"]
    again = gather(Probe.replay(snap))
    assert again.as_json() == facts.as_json()


def test_replay_of_a_non_snapshot_is_a_one_line_error(tmp_path: Path) -> None:
    bad = tmp_path / "x.json"
    bad.write_text("{not json")
    with pytest.raises(ProvisionError) as e:
        Probe.replay(bad)
    assert e.value.exit_code == ExitCode.INVALID
    assert len(e.value.lines()) == 1 and "provision facts --save" in e.value.lines()[0]


HERE = Path(__file__).resolve().parent
FACTS_HINT = "(fix: pass a file written by `provision facts --save FILE`)"

# Each broken snapshot in bad_snapshots/ and the cause its one-line error names. Every
# file there is listed, so a new corpus file cannot go untested.
BAD_SNAPSHOTS = {
    "format_only.json": "'platform' is missing",
    "format_true.json": "'format' is true, not 1",
    "format_2.json": "'format' is 2, not 1",
    "top_level_list.json": "the top level is not an object",
    "platform_number.json": "'platform' must be text",
    "platform_empty.json": "'platform' is empty",
    "path_missing.json": "'path' is missing",
    "env_value_number.json": "'env' entry \"PYENV_ROOT\" must be text",
    "files_list.json": "'files' must be an object",
    "files_value_number.json": "'files' entry \"/proc/version\" must be text or null",
    "dirs_value_text.json": "'dirs' entry \"/usr/lib/wsl/lib\" must be a list of names or null",
    "exists_value_text.json": "'exists' entry \"/dev/dxg\" must be true or false",
    "which_value_list.json": "'which' entry \"nvidia-smi\" must be a path or null",
    "pathdirs_value_number.json": "'pathdirs' entry \"/usr/bin\" must be a list of names or null",
    "commands_missing.json": "'commands' is missing",
    "command_not_object.json": "(not an object)",
    "command_argv_empty.json": "('argv' must be a non-empty list of text)",
    "command_returncode_text.json": "('returncode' must be an integer)",
    "command_returncode_bool.json": "('returncode' must be an integer)",
    "command_stdout_not_base64.json": "('stdout_b64' is not valid base64)",
    "command_stderr_missing.json": "('stderr_b64' must be base64 text)",
    "command_timed_out_text.json": "('timed_out' must be true or false)",
    "not_utf8.json": "not a facts file: not UTF-8 text",
}


def test_the_bad_snapshot_corpus_is_all_listed() -> None:
    assert sorted(p.name for p in (HERE / "bad_snapshots").iterdir()) == sorted(BAD_SNAPSHOTS)


@pytest.mark.parametrize("name", sorted(BAD_SNAPSHOTS))
def test_a_bad_snapshot_is_a_one_line_error_with_exit_2(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Replaying a broken snapshot names the cause (exit 2) instead of crashing (exit 3)."""
    source = HERE / "bad_snapshots" / name
    assert main(["facts", "--facts", str(source), "--json"]) == ExitCode.INVALID
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1, err
    assert err.startswith(f"provision: error: {source}: not a facts ")
    assert BAD_SNAPSHOTS[name] in err and err.rstrip().endswith(FACTS_HINT)


def test_the_corpus_base_snapshot_replays(capsys: pytest.CaptureFixture[str]) -> None:
    """The corpus files are this snapshot with one thing broken; unbroken, it replays."""
    source = HERE / "minimal_snapshot.json"
    assert main(["facts", "--facts", str(source), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["os_kind"] == "linux" and data["kernel"] == "5.15.0"
    assert data["nvidia_smi"]["failure"] == "No devices were found"


def test_a_snapshot_nested_too_deep_is_a_one_line_error(tmp_path: Path) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 200_000 + "]" * 200_000)
    with pytest.raises(ProvisionError) as e:
        Probe.replay(deep)
    assert e.value.exit_code == ExitCode.INVALID
    assert e.value.lines() == [f"error: {deep}: not a facts file: nested too deep {FACTS_HINT}"]


@pytest.mark.parametrize("value", ["abc", "-1", "0", "nan", "inf", "1e999", "10s"])
def test_a_bad_command_timeout_is_refused(
    value: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """PROVISION_COMMAND_TIMEOUT=abc used to fall back to 10 s silently; negatives ran."""
    monkeypatch.setenv("PROVISION_COMMAND_TIMEOUT", value)
    assert main(["facts", "--json"]) == ExitCode.INVALID
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1
    assert err.startswith(
        f"provision: error: PROVISION_COMMAND_TIMEOUT={value!r}: not a positive number of seconds"
    )
    assert "(fix: set it to seconds per probed command" in err


@pytest.mark.parametrize(("value", "seconds"), [("2.5", 2.5), (" 30 ", 30.0), ("", 10.0)])
def test_a_good_command_timeout_is_used(
    value: str, seconds: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROVISION_COMMAND_TIMEOUT", value)
    assert Probe().timeout == seconds


def test_saved_snapshot_keeps_only_what_the_checks_read(tmp_path: Path) -> None:
    """facts --save: dpkg status cut to its NVIDIA stanzas; the replay judges the same."""
    h = replayed("wsl2-debian-package-names", make_tools_dir(tmp_path / "tools"))
    dpkg = (h.root / "var/lib/dpkg/status").read_text("utf-8")
    assert "Package: bash" in dpkg
    probe = Probe(h.root, path=h.path, env=h.env)
    live = gather(probe)
    probe.save(tmp_path / "host.json")
    saved = json.loads((tmp_path / "host.json").read_text("utf-8"))["files"]
    kept = saved["/var/lib/dpkg/status"]
    assert "bash" not in kept and "Architecture" not in kept
    assert kept.count("Package:") == 3  # nvidia-driver, libcuda1, nvidia-smi
    replay = gather(Probe.replay(tmp_path / "host.json"))
    assert replay.linux_nvidia_packages == live.linux_nvidia_packages
    assert replay.linux_nvidia_packages == ("libcuda1", "nvidia-driver", "nvidia-smi")


def test_replay_covers_well_known_paths_and_the_wsl_interop_content(tmp_path: Path) -> None:
    """Executables found under the root (not on PATH) are recorded and replayed."""
    h = replayed("wsl2-root-shell", make_tools_dir(tmp_path / "tools"))
    live = gather(Probe(h.root, path=h.path, env=h.env))
    probe = Probe(h.root, path=h.path, env=h.env)
    gather(probe)
    probe.save(tmp_path / "host.json")
    replay = gather(Probe.replay(tmp_path / "host.json"))
    assert replay == live
    assert live.windows_build == 22000 and live.interop == "enabled"


def test_prefetch_records_commands_in_the_order_asked(tmp_path: Path) -> None:
    """Side-by-side runs are recorded in the order given, not the order they finished:
    a snapshot of the same host is the same file."""
    slow, fast = tmp_path / "slow", tmp_path / "fast"
    slow.write_text("#!/bin/sh\nsleep 0.3\necho slow\n")
    fast.write_text("#!/bin/sh\necho fast\n")
    for script in (slow, fast):
        script.chmod(0o755)
    probe = Probe(root=tmp_path / "root", path=str(tmp_path))
    probe.prefetch([(str(slow),), (str(fast),), (str(slow),)])
    commands = list(probe.snapshot()["commands"])
    assert commands == [str(slow), str(fast)]
    answer = probe.command(str(fast))
    assert answer is not None and answer.stdout == b"fast\n"


def test_prefetch_runs_one_file_under_one_name_once(tmp_path: Path) -> None:
    """/bin/python3 and /usr/bin/python3 are one file where /bin links to /usr/bin: it
    answers once, and both are recorded with that answer; the same file under another
    name (python3 -> python3.11) is run under that name too."""
    usr = tmp_path / "usr-bin"
    usr.mkdir()
    log = tmp_path / "runs.log"
    program = usr / "python3.11"
    program.write_text(f'#!/bin/sh\necho "$0" >> {log}\necho "Python 3.11.9"\n')
    program.chmod(0o755)
    (usr / "python3").symlink_to("python3.11")
    (tmp_path / "bin").symlink_to(usr)  # merged /usr
    folders = [str(tmp_path / "bin"), str(usr)]
    probe = Probe(root=tmp_path / "root", path=":".join(folders))
    argvs: list[tuple[str, ...]] = [
        (f"{d}/{n}", "-V") for d in folders for n in ("python3", "python3.11")
    ]
    probe.prefetch(argvs)
    assert sorted(log.read_text().split()) == [f"{folders[0]}/python3", f"{folders[0]}/python3.11"]
    for argv in argvs:
        answer = probe.command(*argv)
        assert answer is not None and answer.argv == argv and answer.stdout == b"Python 3.11.9\n"
    assert list(probe.snapshot()["commands"]) == [" ".join(a) for a in argvs]
