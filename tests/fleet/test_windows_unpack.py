"""The Windows play's unpack step (``win_powershell``) marks a bundle unpacked only once it
is complete: its script runs in the PowerShell model (tests/support/ps_eval.py) against a
model of the host's folders, with ``Expand-Archive`` failing part way (a full disk, a
reboot, a killed task). STAND-INS: PowerShell, ``Expand-Archive``, ``Move-Item``,
``Remove-Item``, ``Test-Path`` and ``[guid]`` (no Windows here); the rename is one step,
as a move within one NTFS volume is.

The play it replaced unpacked in place and took ``bootstrap.ps1``'s presence as done: a
run cut short after that file left a half bundle that every later run skipped."""

from __future__ import annotations

import ntpath
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from tests.fleet.test_playbook_lint import export
from tests.support.ps_eval import DotNetError, Interpreter

ZIP = "C:\\ProgramData\\provision\\bundles\\demo-win-64.zip"
DEST = "C:\\ProgramData\\provision\\bundles\\" + "0" * 16
SCRIPT = DEST + "\\demo\\bootstrap.ps1"
# The archive's members in its own order: bootstrap.ps1 early, as Expand-Archive may.
MEMBERS = ["demo\\bootstrap.ps1", "demo\\manifest.json", "demo\\render\\check.ps1", "demo\\x.whl"]


class Host:
    """Folders of a Windows host: each unpacked folder and the files written into it."""

    def __init__(self, fail_after: int | None = None) -> None:
        self.folders: dict[str, list[str]] = {}
        self.fail_after = fail_after

    def test_path(self, *args: str) -> bool:
        path = args[args.index("-LiteralPath") + 1]
        return any(
            path == folder or path in (ntpath.join(folder, f) for f in files)
            for folder, files in self.folders.items()
        )

    def expand_archive(self, *args: str) -> None:
        dest = args[args.index("-DestinationPath") + 1]
        written = self.folders.setdefault(dest, [])
        for n, member in enumerate(MEMBERS):
            if self.fail_after is not None and n == self.fail_after:
                self.fail_after = None  # the next run gets through
                raise DotNetError("System.IO.IOException")  # "There is not enough space"
            written.append(member)

    def remove_item(self, *args: str) -> None:
        self.folders.pop(args[args.index("-LiteralPath") + 1], None)

    def move_item(self, *args: str) -> None:
        source, dest = args[args.index("-LiteralPath") + 1], args[args.index("-Destination") + 1]
        assert dest not in self.folders, "Move-Item onto an existing folder nests it"
        self.folders[dest] = self.folders.pop(source)


def unpack_script(tmp_path: Path) -> str:
    play = export(tmp_path, "win-64")
    tasks = yaml.safe_load((play / "roles" / "provision" / "tasks" / "main.yml").read_text())
    (task,) = [t for t in tasks if t.get("name", "").startswith("Unpack the bundle")]
    script: str = task["ansible.windows.win_powershell"]["script"]
    return script


def run_unpack(script: str, host: Host) -> SimpleNamespace:
    """One run of the task on ``host``; its ``$Ansible`` (``Changed``) afterwards."""
    ansible = SimpleNamespace(Changed=None)
    guid = SimpleNamespace(ToString=lambda fmt: "9f" * 16)
    run = Interpreter(
        script,
        env={},
        variables={"Zip": ZIP, "Dest": DEST, "Script": SCRIPT, "Ansible": ansible},
        dotnet={"[guid]::NewGuid": lambda: guid},
        commands={
            "Test-Path": host.test_path,
            "Expand-Archive": host.expand_archive,
            "Remove-Item": host.remove_item,
            "Move-Item": host.move_item,
        },
    )
    statements = next(c for c in run.root.children if c.type == "statement_list")
    run.block(statements)
    return ansible


def test_an_unpack_cut_short_is_done_again_on_the_next_run(tmp_path: Path) -> None:
    script = unpack_script(tmp_path)
    host = Host(fail_after=2)  # bootstrap.ps1 and manifest.json written, then the disk is full
    with pytest.raises(DotNetError):  # the task fails, saying why
        run_unpack(script, host)
    assert host.folders == {}  # nothing half-unpacked left, at its place or beside it
    assert run_unpack(script, host).Changed is True
    assert host.folders == {DEST: MEMBERS}


def test_a_complete_unpack_is_kept_and_not_changed(tmp_path: Path) -> None:
    script = unpack_script(tmp_path)
    host = Host()
    assert run_unpack(script, host).Changed is True
    assert host.folders == {DEST: MEMBERS}
    assert run_unpack(script, host).Changed is False
    assert host.folders == {DEST: MEMBERS}


def test_a_half_bundle_an_older_play_left_is_replaced(tmp_path: Path) -> None:
    script = unpack_script(tmp_path)
    host = Host()
    host.folders[DEST] = ["demo\\manifest.json"]  # cut short before bootstrap.ps1
    assert run_unpack(script, host).Changed is True
    assert host.folders == {DEST: MEMBERS}


def test_the_play_before_this_change_skipped_a_half_bundle_forever() -> None:
    """The old step in the same model: the failure this test file exists for."""
    old = (
        "param([string]$Zip, [string]$Dest, [string]$Script)\n"
        "$Ansible.Changed = $false\n"
        "if (-not (Test-Path -LiteralPath $Script)) {\n"
        "  Expand-Archive -LiteralPath $Zip -DestinationPath $Dest -Force\n"
        "  $Ansible.Changed = $true\n"
        "}\n"
    )
    host = Host(fail_after=2)
    with pytest.raises(DotNetError):
        run_unpack(old, host)
    assert run_unpack(old, host).Changed is False  # bootstrap.ps1 is there: "unpacked"
    assert host.folders == {DEST: MEMBERS[:2]}  # and stays half a bundle


def test_the_step_passes_the_powershell_lint_rules(tmp_path: Path) -> None:
    from tests.support.ps_lint import lint

    assert lint(unpack_script(tmp_path)) == []
